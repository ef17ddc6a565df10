using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>A DNS answer: the response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED...) and the records of the asked type.</summary>
internal sealed record DnsResult(string ResponseCode, IReadOnlyList<string> Answers, bool Authoritative);

/// <summary>
/// DNS: <c>dns://SERVER[:port]/NAME?type=A</c> asks that server (response code and answers, Gatus's DNS check);
/// <c>dns:///NAME</c> uses the system resolver. Without conditions, NOERROR with at least one answer is Healthy.
/// </summary>
internal sealed class DnsCheck : ITargetCheck
{
    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (server, name, type) = Parse(target.Address);
        var sw = Stopwatch.StartNew();
        DnsResult result;
        if (server is null)
        {
            result = await SystemResolveAsync(name, type, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            result = await QueryAsync(server, name, type, timeout, cancellationToken).ConfigureAwait(false);
        }
        var latency = sw.Elapsed.TotalMilliseconds;
        var data = new Dictionary<string, object?>
        {
            ["Server"] = server?.ToString() ?? "system resolver",
            ["Name"] = name,
            ["Type"] = type,
            ["ResponseCode"] = result.ResponseCode,
            ["Answers"] = result.Answers,
        };
        var ok = target.Conditions.Count > 0 || (result.ResponseCode == "NOERROR" && result.Answers.Count > 0);
        var reason = $"{name} {type}: {result.ResponseCode}" + (result.Answers.Count > 0 ? " " + string.Join(", ", result.Answers) : ", no answer") + $" in {latency:0} ms";
        var context = new ConditionContext(responseTimeMs: latency, body: string.Join(",", result.Answers), connected: true, dnsResponseCode: result.ResponseCode);
        return Verdict.Decide(target, ok ? HealthStatus.Healthy : HealthStatus.Unhealthy, reason, latency, data, context);
    }

    private static readonly Dictionary<string, QueryType> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A"] = QueryType.A, ["NS"] = QueryType.NS, ["CNAME"] = QueryType.CNAME, ["PTR"] = QueryType.PTR, ["MX"] = QueryType.MX, ["TXT"] = QueryType.TXT, ["AAAA"] = QueryType.AAAA,
    };

    private static readonly string[] Codes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"];

    /// <summary>
    /// Asks one server with DnsClient.NET (EDNS0, truncation and TCP fallback), no cache and no retry beyond the check's
    /// own attempts; the response code is kept as Gatus names it ([DNS_RCODE]), which the system resolver does not expose.
    /// </summary>
    internal static async Task<DnsResult> QueryAsync(IPEndPoint server, string name, string type, TimeSpan timeout, CancellationToken ct)
    {
        var client = new LookupClient(new LookupClientOptions(new NameServer(server))
        {
            UseCache = false, Retries = 0, Timeout = timeout, UseTcpFallback = true, ThrowDnsErrors = false, ContinueOnDnsError = false, Recursion = true,
        });
        var response = await client.QueryAsync(name, Types[type], QueryClass.IN, ct).ConfigureAwait(false);
        var code = (int)response.Header.ResponseCode;
        var answers = response.Answers.Select(r => r switch
        {
            ARecord a => a.Address.ToString(),
            AaaaRecord aaaa => aaaa.Address.ToString(),
            CNameRecord c => c.CanonicalName.Value.TrimEnd('.'),
            NsRecord ns => ns.NSDName.Value.TrimEnd('.'),
            PtrRecord ptr => ptr.PtrDomainName.Value.TrimEnd('.'),
            MxRecord mx => $"{mx.Preference} {mx.Exchange.Value.TrimEnd('.')}",
            TxtRecord txt => string.Concat(txt.Text),
            _ => null,
        }).OfType<string>().ToList();
        return new DnsResult(code < Codes.Length ? Codes[code] : "RCODE" + code, answers, response.Header.HasAuthorityAnswer);
    }

    private static async Task<DnsResult> SystemResolveAsync(string name, string type, CancellationToken ct)
    {
        var family = type.ToUpperInvariant() switch
        {
            "A" => AddressFamily.InterNetwork,
            "AAAA" => AddressFamily.InterNetworkV6,
            _ => throw new ArgumentException($"the system resolver answers A and AAAA only; give a server (dns://SERVER/{name}?type={type}) for {type} records"),
        };
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(name, family, ct).ConfigureAwait(false);
            return new DnsResult("NOERROR", addresses.Select(a => a.ToString()).ToList(), false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
        {
            return new DnsResult(ex.SocketErrorCode switch { SocketError.HostNotFound => "NXDOMAIN", SocketError.TryAgain => "SERVFAIL", _ => "NOERROR" }, [], false);
        }
    }

    /// <summary>Splits a dns:// address into server (null for the system resolver), name and record type.</summary>
    internal static (IPEndPoint? server, string name, string type) Parse(string address)
    {
        const string scheme = "dns://";
        if (!address.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{address}' is not a DNS target; write dns://SERVER[:port]/NAME?type=A, or dns:///NAME for the system resolver");
        }
        var rest = address[scheme.Length..];
        var type = "A";
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            foreach (var pair in rest[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2);
                if (kv[0].Equals("type", StringComparison.OrdinalIgnoreCase) && kv.Length == 2) type = kv[1].ToUpperInvariant();
                else throw new ArgumentException($"'{pair}' is not a DNS target option; the only one is type=A|AAAA|CNAME|MX|NS|TXT|PTR");
            }
            rest = rest[..q];
        }
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        var name = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (name.Length == 0) throw new ArgumentException($"'{address}' names no host to resolve; write dns://SERVER/NAME");
        if (!Types.ContainsKey(type)) throw new ArgumentException($"DNS record type '{type}' is not supported; use {string.Join(", ", Types.Keys)}");
        if (authority.Length == 0) return (null, name, type);
        var endpoint = HostPort.TryParse(authority, out var host, out var port) ? (host, port) : (authority.Trim('[', ']'), 53);
        if (!IPAddress.TryParse(endpoint.Item1, out var ip)) throw new ArgumentException($"the DNS server in '{address}' must be an IP address");
        return (new IPEndPoint(ip, endpoint.Item2), name, type);
    }
}
