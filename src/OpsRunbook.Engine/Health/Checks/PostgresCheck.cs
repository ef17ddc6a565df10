using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>PostgreSQL: a fresh (unpooled) connection, then one round trip for SELECT 1, version, role and TLS use.</summary>
internal sealed class PostgresCheck : ITargetCheck
{
    private const string Probe =
        "SELECT 1, current_setting('server_version'), pg_is_in_recovery(), current_database(), " +
        "coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), " +
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int, " +
        "current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int";

    // On a primary: its streaming replicas and how far behind the furthest one is (replay_lag is null when caught up).
    private const string PrimaryReplication =
        "SELECT count(*)::int, coalesce(max(EXTRACT(EPOCH FROM replay_lag)), 0)::float8, " +
        "coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::float8 FROM pg_stat_replication";

    // On a replica: is the WAL receiver streaming, and how far replay is behind (0 when everything received is replayed).
    private const string ReplicaReplication =
        "SELECT (SELECT status FROM pg_stat_wal_receiver), " +
        "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 " +
        "ELSE coalesce(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8, " +
        "coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8";

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
        string version, database, role;
        bool inRecovery, ssl;
        int connections, maxConnections, reserved;
        await using (var command = new NpgsqlCommand(Probe, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            version = reader.GetString(1);
            inRecovery = reader.GetBoolean(2);
            database = reader.GetString(3);
            ssl = reader.GetBoolean(4);
            connections = reader.GetInt32(5);
            maxConnections = reader.GetInt32(6);
            reserved = reader.GetInt32(7);
            role = inRecovery ? "replica" : "primary";
        }
        var queryDone = sw.Elapsed.TotalMilliseconds;
        var usable = Math.Max(1, maxConnections - reserved);
        var usage = Math.Round(connections * 100.0 / usable, 1);
        var data = new Dictionary<string, object?>
        {
            ["ServerVersion"] = version,
            ["Role"] = role,
            ["Database"] = database,
            ["Host"] = connection.Host,
            ["Port"] = connection.Port,
            ["Ssl"] = ssl,
            ["Connections"] = connections,
            ["MaxConnections"] = maxConnections,
            ["ConnectionUsagePercent"] = usage,
        };

        string? receiver = null;
        double lagSeconds, lagBytes;
        await using (var command = new NpgsqlCommand(inRecovery ? ReplicaReplication : PrimaryReplication, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (inRecovery)
            {
                receiver = reader.IsDBNull(0) ? null : reader.GetString(0);
                data["WalReceiver"] = receiver ?? "not running";
            }
            else
            {
                data["Replicas"] = reader.GetInt32(0);
            }
            lagSeconds = Math.Round(reader.GetDouble(1), 3);
            lagBytes = reader.GetDouble(2);
        }
        data["ReplicaLagSeconds"] = lagSeconds;
        data["ReplicaLagBytes"] = lagBytes;
        var latency = sw.Elapsed.TotalMilliseconds;
        data["ConnectMs"] = Math.Round(connectMs, 1);
        data["QueryMs"] = Math.Round(queryDone - connectMs, 1);

        if (target.ExpectedRole is { } expected && !string.Equals(expected, role, StringComparison.OrdinalIgnoreCase))
        {
            return CheckOutcome.Failed($"expected a {expected} but {connection.Host}:{connection.Port} is a {role} (pg_is_in_recovery() = {(inRecovery ? "true" : "false")})", latency, data);
        }
        if (inRecovery && receiver != "streaming")
        {
            return CheckOutcome.Failed($"replica {connection.Host}:{connection.Port} is not streaming from its primary (WAL receiver: {receiver ?? "not running"})", latency, data);
        }
        var (status, notes) = Verdict.Thresholds(target,
            (Metrics.WellKnownMetrics.ReplicaLagSeconds, lagSeconds, "replica lag s"),
            (Metrics.WellKnownMetrics.ReplicaLagBytes, lagBytes, "replica lag bytes"),
            (Metrics.WellKnownMetrics.DbConnectionUsagePercent, usage, "connection usage %"),
            (Metrics.WellKnownMetrics.DbConnections, connections, "connections"),
            // Query latency on an open connection: what the runbooks' latency targets mean (not connect + TLS + SCRAM).
            (Metrics.WellKnownMetrics.DbLatencyMs, queryDone - connectMs, "query latency ms"));
        var reason = $"PostgreSQL {version} {role}, SELECT 1 in {latency:0} ms, {connections}/{usable} connections ({usage:0.#}%)"
            + (inRecovery ? $", replay lag {lagSeconds:0.###} s" : $", {data["Replicas"]} replica(s), lag {lagSeconds:0.###} s")
            + (notes.Count > 0 ? "; " + string.Join("; ", notes) : "");
        return Verdict.Decide(target, status, reason, latency, data, new ConditionContext(responseTimeMs: latency, connected: true));
    }
}
