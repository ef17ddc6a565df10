using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OpsRunbook.Engine.Clients.Dns;

/// <summary>A DNS answer: the response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED...) and the records of the asked type.</summary>
public sealed record DnsResult(string ResponseCode, IReadOnlyList<string> Answers, bool Authoritative);

/// <summary>
/// A minimal DNS client (RFC 1035 over UDP): one question, the answer section decoded for A, AAAA, CNAME, NS, PTR, MX
/// and TXT. Written here because health checks need the response code (Gatus's [DNS_RCODE]), which the system resolver
/// does not expose; tested against a real dnsmasq on 127.0.0.1.
/// </summary>
public static class DnsClient
{
    private static readonly Dictionary<string, ushort> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = 1, ["NS"] = 2, ["CNAME"] = 5, ["PTR"] = 12, ["MX"] = 15, ["TXT"] = 16, ["AAAA"] = 28,
    };

    private static readonly string[] Codes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

    /// <summary>The record types a query may ask for.</summary>
    public static IReadOnlyCollection<string> SupportedTypes => Types.Keys;

    /// <summary>Asks <paramref name="server"/> for <paramref name="name"/>'s records of <paramref name="type"/>.</summary>
    public static async Task<DnsResult> QueryAsync(IPEndPoint server, string name, string type, CancellationToken cancellationToken)
    {
        if (!Types.TryGetValue(type, out var qtype)) throw new ArgumentException($"DNS record type '{type}' is not supported; use {string.Join(", ", Types.Keys)}");
        var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        var query = BuildQuery(id, name, qtype);
        using var udp = new UdpClient(server.AddressFamily);
        await udp.SendAsync(query, server, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var received = await udp.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            // Ignore stray datagrams: only the server's reply to our ID counts.
            if (!received.RemoteEndPoint.Equals(server) || received.Buffer.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(received.Buffer) != id) continue;
            return Parse(received.Buffer, qtype);
        }
    }

    /// <summary>Encodes a query with recursion desired.</summary>
    public static byte[] BuildQuery(ushort id, string name, ushort qtype)
    {
        var ms = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header, id);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], 0x0100); // RD
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);      // QDCOUNT
        ms.Write(header);
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = Encoding.ASCII.GetBytes(label);
            if (bytes.Length is 0 or > 63) throw new ArgumentException($"'{name}' is not a valid DNS name (labels are 1 to 63 characters)");
            ms.WriteByte((byte)bytes.Length);
            ms.Write(bytes);
        }
        ms.WriteByte(0);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(tail, qtype);
        BinaryPrimitives.WriteUInt16BigEndian(tail[2..], 1); // IN
        ms.Write(tail);
        return ms.ToArray();
    }

    /// <summary>Decodes a response: its RCODE and the answers of type <paramref name="qtype"/> (CNAMEs are listed too).</summary>
    public static DnsResult Parse(byte[] message, ushort qtype)
    {
        if (message.Length < 12) throw new FormatException("DNS response shorter than its header");
        var flags = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(2));
        var rcode = flags & 0x000F;
        var qd = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(4));
        var an = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(6));
        var pos = 12;
        for (var i = 0; i < qd; i++)
        {
            ReadName(message, ref pos);
            pos += 4;
        }
        var answers = new List<string>();
        for (var i = 0; i < an; i++)
        {
            ReadName(message, ref pos);
            var type = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(pos));
            var length = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(pos + 8));
            var data = pos + 10;
            if (data + length > message.Length) throw new FormatException("DNS record runs past the end of the response");
            var rdPos = data;
            var text = type switch
            {
                1 when length == 4 => new IPAddress(message.AsSpan(data, 4)).ToString(),
                28 when length == 16 => new IPAddress(message.AsSpan(data, 16)).ToString(),
                2 or 5 or 12 => ReadName(message, ref rdPos),
                15 => BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(data)) + " " + ReadName(message, ref rdPos, data + 2),
                16 => ReadTxt(message.AsSpan(data, length)),
                _ => null,
            };
            if (text is not null && (type == qtype || type == 5)) answers.Add(text);
            pos = data + length;
        }
        return new DnsResult(rcode < Codes.Length ? Codes[rcode] : "RCODE" + rcode, answers, (flags & 0x0400) != 0);
    }

    private static string ReadName(byte[] m, ref int pos, int? start = null)
    {
        if (start is { } s) pos = s;
        var labels = new List<string>();
        var jumped = false;
        var cursor = pos;
        for (var hops = 0; hops < 64; hops++)
        {
            if (cursor >= m.Length) throw new FormatException("DNS name runs past the end of the response");
            var len = m[cursor];
            if (len == 0)
            {
                if (!jumped) pos = cursor + 1;
                return string.Join(".", labels);
            }
            if ((len & 0xC0) == 0xC0)
            {
                var target = ((len & 0x3F) << 8) | m[cursor + 1];
                if (!jumped) pos = cursor + 2;
                jumped = true;
                cursor = target;
                continue;
            }
            labels.Add(Encoding.ASCII.GetString(m, cursor + 1, len));
            cursor += len + 1;
        }
        throw new FormatException("DNS name compression loops");
    }

    private static string ReadTxt(ReadOnlySpan<byte> data)
    {
        var parts = new StringBuilder();
        while (data.Length > 0)
        {
            var len = data[0];
            parts.Append(Encoding.UTF8.GetString(data.Slice(1, Math.Min(len, data.Length - 1))));
            data = data[Math.Min(data.Length, len + 1)..];
        }
        return parts.ToString();
    }
}
