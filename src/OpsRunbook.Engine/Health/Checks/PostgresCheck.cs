using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>PostgreSQL: a fresh (unpooled) connection, then one round trip for SELECT 1, version, role and TLS use.</summary>
internal sealed class PostgresCheck : ITargetCheck
{
    private const string Probe =
        "SELECT 1, current_setting('server_version'), pg_is_in_recovery(), current_database(), " +
        "coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)";

    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var value = await target.Connection!.ResolveAsync(services.Secrets, cancellationToken).ConfigureAwait(false);
        var builder = PostgresConnectionString.Parse(value);
        services.Redactor.Add(builder.Password);
        builder.Pooling = false;
        builder.Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        builder.CommandTimeout = builder.Timeout;
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "OpsRunbook health check";
        if (target.CaCertificatePath is not null) builder.RootCertificate = target.CaCertificatePath;
        if ((services.SkipCertificateCheck || target.SkipCertificateCheck) && builder.SslMode is SslMode.VerifyCA or SslMode.VerifyFull)
        {
            builder.SslMode = SslMode.Require;
        }

        var sw = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var connectMs = sw.Elapsed.TotalMilliseconds;
        await using var command = new NpgsqlCommand(Probe, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var version = reader.GetString(1);
        var inRecovery = reader.GetBoolean(2);
        var database = reader.GetString(3);
        var ssl = reader.GetBoolean(4);
        var latency = sw.Elapsed.TotalMilliseconds;
        var role = inRecovery ? "replica" : "primary";
        var data = new Dictionary<string, object?>
        {
            ["ServerVersion"] = version,
            ["Role"] = role,
            ["Database"] = database,
            ["Host"] = connection.Host,
            ["Port"] = connection.Port,
            ["Ssl"] = ssl,
            ["ConnectMs"] = Math.Round(connectMs, 1),
            ["QueryMs"] = Math.Round(latency - connectMs, 1),
        };
        if (target.ExpectedRole is { } expected && !string.Equals(expected, role, StringComparison.OrdinalIgnoreCase))
        {
            return CheckOutcome.Failed($"expected a {expected} but {connection.Host}:{connection.Port} is a {role} (pg_is_in_recovery() = {(inRecovery ? "true" : "false")})", latency, data);
        }
        return Verdict.Decide(target, HealthStatus.Healthy, $"PostgreSQL {version} {role}, SELECT 1 in {latency:0} ms", latency, data,
            new ConditionContext(responseTimeMs: latency, connected: true));
    }
}
