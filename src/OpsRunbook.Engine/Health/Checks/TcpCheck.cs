using System.Diagnostics;
using System.Net.Sockets;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>TCP: a connect and a close (runbook 002's fallback connectivity check).</summary>
internal sealed class TcpCheck : ITargetCheck
{
    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (host, port) = Parse(target.Address);
        using var client = new TcpClient { NoDelay = true };
        var sw = Stopwatch.StartNew();
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        var latency = sw.Elapsed.TotalMilliseconds;
        var data = new Dictionary<string, object?> { ["RemoteEndPoint"] = client.Client.RemoteEndPoint?.ToString() };
        return Verdict.Decide(target, HealthStatus.Healthy, $"connected to {host}:{port} in {latency:0} ms", latency, data,
            new ConditionContext(responseTimeMs: latency, connected: true, ip: (client.Client.RemoteEndPoint as System.Net.IPEndPoint)?.Address.ToString()));
    }

    internal static (string host, int port) Parse(string address)
    {
        var text = address.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) ? address[6..].TrimEnd('/') : address;
        return HostPort.TryParse(text, out var host, out var port)
            ? (host, port)
            : throw new ArgumentException($"'{address}' is not a TCP address; write tcp://host:port");
    }
}
