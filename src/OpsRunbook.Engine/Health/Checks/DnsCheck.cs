using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpsRunbook.Engine.Clients.Dns;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

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
            result = await DnsClient.QueryAsync(server, name, type, cancellationToken).ConfigureAwait(false);
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
        if (!DnsClient.SupportedTypes.Contains(type, StringComparer.OrdinalIgnoreCase)) throw new ArgumentException($"DNS record type '{type}' is not supported; use {string.Join(", ", DnsClient.SupportedTypes)}");
        if (authority.Length == 0) return (null, name, type);
        var endpoint = HostPort.TryParse(authority, out var host, out var port) ? (host, port) : (authority.Trim('[', ']'), 53);
        if (!IPAddress.TryParse(endpoint.Item1, out var ip)) throw new ArgumentException($"the DNS server in '{address}' must be an IP address");
        return (new IPEndPoint(ip, endpoint.Item2), name, type);
    }
}
