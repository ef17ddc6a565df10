using System.Diagnostics;
using System.Globalization;
using OpsRunbook.Engine.Clients.Redis;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>Redis: connect (TLS, AUTH with ACL user), PING, INFO; memory use against maxmemory with runbook 000's levels.</summary>
internal sealed class RedisCheck : ITargetCheck
{
    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var value = await target.Connection!.ResolveAsync(services.Secrets, cancellationToken).ConfigureAwait(false);
        var parsed = RedisEndpoint.Parse(value);
        services.Redactor.Add(parsed.Password);
        var endpoint = parsed with
        {
            SkipCertificateCheck = parsed.SkipCertificateCheck || target.SkipCertificateCheck || services.SkipCertificateCheck,
            CaCertificatePath = target.CaCertificatePath ?? parsed.CaCertificatePath,
        };
        var sw = Stopwatch.StartNew();
        await using var connection = await RedisConnection.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        var replies = await connection.PipelineAsync(cancellationToken, ["PING"], ["INFO"]).ConfigureAwait(false);
        var latency = sw.Elapsed.TotalMilliseconds;
        if (replies[0].Text != "PONG")
        {
            return CheckOutcome.Failed($"PING answered '{replies[0]}' instead of PONG", latency);
        }
        var info = RedisConnection.ParseInfo(replies[1].Text ?? "");
        long Number(string key) => info.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var used = Number("used_memory");
        var max = Number("maxmemory");
        double? percent = max > 0 ? Math.Round(used * 100.0 / max, 1) : null;
        var role = info.GetValueOrDefault("role") ?? "unknown";
        var data = new Dictionary<string, object?>
        {
            ["Version"] = info.GetValueOrDefault("redis_version"),
            ["Role"] = role,
            ["UsedMemoryBytes"] = used,
            ["MaxMemoryBytes"] = max,
            ["MemoryPercent"] = percent,
            ["MaxMemoryPolicy"] = info.GetValueOrDefault("maxmemory_policy"),
            ["ConnectedClients"] = Number("connected_clients"),
            ["Tls"] = endpoint.Tls,
        };
        if (role == "slave") data["MasterLinkStatus"] = info.GetValueOrDefault("master_link_status");

        var memory = percent is null ? "no maxmemory set" : $"memory {percent:0.#}% of maxmemory";
        var reason = $"Redis {data["Version"]} {role}, PONG in {latency:0} ms, {memory}";
        if (role == "slave" && !string.Equals(data["MasterLinkStatus"] as string, "up", StringComparison.Ordinal))
        {
            return CheckOutcome.Failed($"{reason}; replica link to {info.GetValueOrDefault("master_host")}:{info.GetValueOrDefault("master_port")} is {data["MasterLinkStatus"] ?? "unknown"}", latency, data);
        }
        // Runbook 000's Redis memory levels (80 % warning, 90 % critical) unless the environment says otherwise.
        var (status, notes) = Verdict.Thresholds(target, (Metrics.WellKnownMetrics.RedisMemoryPercent, percent, "memory %"));
        if (notes.Count > 0) reason += "; " + string.Join("; ", notes);
        return Verdict.Decide(target, status, reason, latency, data, new ConditionContext(responseTimeMs: latency, connected: true));
    }
}
