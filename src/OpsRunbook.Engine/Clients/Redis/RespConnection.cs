using System.Globalization;
using OpsRunbook.Engine.Clients;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace OpsRunbook.Engine.Clients.Redis;

/// <summary>
/// A small RESP2 client: one connection, commands sent as arrays of bulk strings, replies read in order.
/// Written here because StackExchange.Redis cannot be restored on our build machines; tested against redis-server.
/// Not thread-safe: one caller at a time. Arguments (AUTH passwords) are never logged or put in messages.
/// </summary>
public sealed class RespConnection : IAsyncDisposable, IDisposable
{
    private readonly TcpClient _client;
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private RespConnection(TcpClient client, Stream stream, RedisEndpoint endpoint)
    {
        _client = client;
        _stream = stream;
        Endpoint = endpoint;
    }

    /// <summary>Where this connection goes.</summary>
    public RedisEndpoint Endpoint { get; }

    /// <summary>Connects, negotiates TLS when asked, authenticates and selects the database.</summary>
    public static async Task<RespConnection> ConnectAsync(RedisEndpoint endpoint, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
            Stream stream = client.GetStream();
            if (endpoint.Tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = endpoint.Host,
                    RemoteCertificateValidationCallback = TlsValidation.Callback(endpoint.SkipCertificateCheck, endpoint.CaCertificatePath),
                }, cancellationToken).ConfigureAwait(false);
                stream = ssl;
            }
            var connection = new RespConnection(client, stream, endpoint);
            try
            {
                if (endpoint.Password is not null)
                {
                    string[] auth = endpoint.User is null ? ["AUTH", endpoint.Password] : ["AUTH", endpoint.User, endpoint.Password];
                    await connection.ExecuteAsync(cancellationToken, auth).ConfigureAwait(false);
                }
                if (endpoint.Database != 0)
                {
                    await connection.ExecuteAsync(cancellationToken, "SELECT", endpoint.Database.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
                }
                return connection;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends one command and reads its reply; an error reply throws <see cref="RedisServerException"/>.</summary>
    public async Task<RespValue> ExecuteAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var replies = await PipelineAsync(cancellationToken, [arguments]).ConfigureAwait(false);
        return replies[0];
    }

    /// <summary>Sends several commands in one write and reads all replies in order.</summary>
    public async Task<IReadOnlyList<RespValue>> PipelineAsync(CancellationToken cancellationToken, params string[][] commands)
    {
        var payload = new MemoryStream();
        foreach (var command in commands)
        {
            Encode(payload, command);
        }
        await _stream.WriteAsync(payload.GetBuffer().AsMemory(0, (int)payload.Length), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        var replies = new List<RespValue>(commands.Length);
        RedisServerException? firstError = null;
        foreach (var _ in commands)
        {
            var reply = await ReadValueAsync(cancellationToken).ConfigureAwait(false);
            if (reply.Type == RespType.Error) firstError ??= new RedisServerException(reply.Text!);
            replies.Add(reply);
        }
        return firstError is null ? replies : throw firstError;
    }

    /// <summary>Encodes a command as a RESP array of bulk strings.</summary>
    internal static void Encode(Stream output, IReadOnlyList<string> arguments)
    {
        void Write(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            output.Write(bytes);
        }
        Write("*" + arguments.Count.ToString(CultureInfo.InvariantCulture) + "\r\n");
        foreach (var argument in arguments)
        {
            var bytes = Encoding.UTF8.GetBytes(argument);
            Write("$" + bytes.Length.ToString(CultureInfo.InvariantCulture) + "\r\n");
            output.Write(bytes);
            Write("\r\n");
        }
    }

    private async Task<RespValue> ReadValueAsync(CancellationToken ct)
    {
        var line = await ReadLineAsync(ct).ConfigureAwait(false);
        if (line.Length == 0) throw new RedisProtocolException("empty reply line from Redis");
        var body = line[1..];
        switch (line[0])
        {
            case '+':
                return new RespValue(RespType.SimpleString, body);
            case '-':
                return new RespValue(RespType.Error, body);
            case ':':
                return new RespValue(RespType.Integer, Integer: ParseLong(body));
            case '$':
                {
                    var length = ParseLong(body);
                    if (length < 0) return RespValue.Nil;
                    var bytes = await ReadExactAsync((int)length + 2, ct).ConfigureAwait(false);
                    return new RespValue(RespType.BulkString, Encoding.UTF8.GetString(bytes, 0, (int)length));
                }
            case '*':
                {
                    var count = ParseLong(body);
                    if (count < 0) return RespValue.Nil;
                    var items = new List<RespValue>((int)Math.Min(count, 1024));
                    for (var i = 0; i < count; i++) items.Add(await ReadValueAsync(ct).ConfigureAwait(false));
                    return new RespValue(RespType.Array, Items: items);
                }
            default:
                throw new RedisProtocolException($"unexpected reply type '{line[0]}' from Redis (is this a Redis server, and does it expect TLS?)");
        }
    }

    private static long ParseLong(string s) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v : throw new RedisProtocolException($"bad length '{s}' in Redis reply");

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        var sb = new StringBuilder();
        while (true)
        {
            for (var i = _start; i < _end; i++)
            {
                if (_buffer[i] == (byte)'\n')
                {
                    var len = i - _start;
                    sb.Append(Encoding.UTF8.GetString(_buffer, _start, len));
                    _start = i + 1;
                    if (sb.Length > 0 && sb[^1] == '\r') sb.Length--;
                    return sb.ToString();
                }
            }
            sb.Append(Encoding.UTF8.GetString(_buffer, _start, _end - _start));
            _start = _end;
            if (sb.Length > 64 * 1024) throw new RedisProtocolException("reply line too long");
            await FillAsync(ct).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> ReadExactAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end) await FillAsync(ct).ConfigureAwait(false);
            var n = Math.Min(count - copied, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken ct)
    {
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
        if (_end == 0) throw new RedisProtocolException("Redis closed the connection");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }

    /// <summary>Parses an INFO reply into key/value pairs (section headers and blank lines skipped).</summary>
    public static IReadOnlyDictionary<string, string> ParseInfo(string info)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in info.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var colon = line.IndexOf(':');
            if (colon > 0) result[line[..colon]] = line[(colon + 1)..];
        }
        return result;
    }
}
