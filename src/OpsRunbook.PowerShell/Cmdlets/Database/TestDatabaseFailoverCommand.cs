using System.Management.Automation;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Runs a failover drill: takes the primary away (promotes the environment's PostgreSQL replica, or on Fly kills the primary machine), measures the recovery time against a target, and runs the environment's health checks.
/// </summary>
/// <remarks>
/// Test-DatabaseFailover is runbook 003's monthly "planned failover drill". It first reads everything it needs and
/// refuses, with a terminating error that says what to fix, a drill that would not be safe; then, after confirmation
/// (ConfirmImpact High), it drills and writes one FailoverDrillResult: each step with its time, the recovery time
/// against -RecoveryTarget (default: the environment's backup "rto", else 5 minutes), the WAL that did not reach the new
/// primary (0 when nothing was lost), the health checks (the environment's endpoints, and the database as a primary),
/// and what to do next. Healthy when within the target with nothing lost and every check healthy; in a report
/// Unhealthy fails and Degraded warns. -WhatIf reads, checks and says what it would do, and changes nothing. Run it in
/// a maintenance window.
///
/// A self-managed primary and streaming replica (the environment's "database" connection and "replica", or
/// -Connection and -ReplicaConnection): refused are a pair the wrong way round, a replica that is not streaming or lags
/// more than -MaxLagBytes, and a login that lacks what the drill needs (owning the database, EXECUTE on pg_promote,
/// pg_signal_backend, pg_read_all_stats; no superuser). The drill fences the primary's database (read-only for new
/// sessions, open sessions ended) so no write lands on the old primary, waits until the replica has replayed the
/// primary's last WAL, promotes it (pg_promote) and waits up to -Timeout until it takes a write. The recovery time runs
/// from the fence to that write. The application must then point at the new primary; the old one is rebuilt as a
/// replica (the fence stays until then).
///
/// A Fly Postgres cluster (runbook.json "database": { "fly": { "app": "cardmint-db" } }, or -FlyApp), as the runbook
/// does it with flyctl machine kill: the primary is the machine whose "role" check says so, as flyctl finds it;
/// refused are a cluster without exactly one started primary, without a started replica in the primary region (repmgr
/// promotes only there), a connection that does not reach the primary, a primary that streams to no replica, or
/// replicas further behind than -MaxLagBytes (measured through the "replica" connection if there is one, else
/// pg_stat_replication). The drill reads the primary's WAL position, kills the primary machine (SIGKILL through the
/// Machines API), and waits up to -Timeout until the environment's connection (the cluster's port 5432, which follows
/// the primary) takes a write on a new timeline: a write on the old timeline is the old primary, alive or restarted by
/// Fly, and no failover. The recovery time runs from the kill to that write; the WAL written before the kill that the
/// promoted replica never received is the data lost. Then it waits until Fly's role checks name the new primary. The
/// token is "database"."fly"."token", else the Fly "deploy" token, else $env:FLY_API_TOKEN; the application needs no
/// change afterwards, and the killed machine should rejoin as a replica (fly status -a APP).
/// </remarks>
/// <example>
/// <code>Test-DatabaseFailover production -WhatIf</code>
/// <para>Checks the pair and the privileges, and says what the drill would do.</para>
/// </example>
/// <example>
/// <code>Test-DatabaseFailover staging -RecoveryTarget 60s -Force | Export-RunbookReport -Title 'Monthly failover drill' -Format Markdown -Path ./drill.md</code>
/// <para>Runbook 003's monthly drill with its result documented, in a scheduled job.</para>
/// </example>
/// <example>
/// <code>Test-DatabaseFailover production -FlyApp cardmint-db -WhatIf</code>
/// <para>On Fly: names the primary machine of the cardmint-db cluster the drill would kill and the replica repmgr would promote, and changes nothing.</para>
/// </example>
/// <example>
/// <code>Test-DatabaseFailover production -FlyApp cardmint-db -Force -Verbose | Format-List Status, RecoveryTime, DataLossBytes, OldPrimary, NewPrimary, Reason</code>
/// <para>Runbook 003's drill as written: kills the primary machine, and shows how long the cluster took to take writes again, what was lost, and which machine is the primary now.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "DatabaseFailover", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(FailoverDrillResult))]
public sealed class TestDatabaseFailoverCommand : DatabaseCmdlet
{
    /// <summary>The replica to promote instead of the environment's (with -Connection for the primary).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ReplicaConnection { get; set; }

    /// <summary>The recovery time the drill must meet (default: the environment's backup rto, else 5m).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? RecoveryTarget { get; set; }

    /// <summary>How long the promoted replica has to take a write (default 2m).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Refuse when the replica is further behind than this many bytes of WAL (default 16 MiB).</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long MaxLagBytes { get; set; } = 16 << 20;

    /// <summary>Do not run the environment's health checks after the promotion.</summary>
    [Parameter]
    public SwitchParameter NoHealthCheck { get; set; }

    /// <summary>The Fly Postgres cluster app whose primary machine the drill kills (default: the environment's "database"."fly"."app").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FlyApp { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Plans, asks, drills.</summary>
    protected override void ProcessRecord()
    {
        var env = Connection is null ? ResolveEnvironment(EnvironmentNeed.Optional) : null;
        if (FlyApp is not null || env?.Database?.Fly is not null)
        {
            FlyDrill(env);
            return;
        }
        if ((Connection is null) != (ReplicaConnection is null))
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("give both -Connection (the primary) and -ReplicaConnection (the replica to promote), or neither and -Environment"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        var primary = Session(replica: false, Connection);
        var replica = Session(replica: true, ReplicaConnection);
        var plan = Run(() => FailoverDrill.PlanAsync(primary, replica, MaxLagBytes, Cancellation), primary.Display);
        if (!Confirm(plan)) return;
        var (target, source) = RecoveryTargetOf(env);
        var result = Run(() => FailoverDrill.RunAsync(primary, replica, plan, Timeout, target, source, Checks(env, promotedReplica: true), null, Cancellation), replica.Display);
        Write(result);
    }

    /// <summary>On Fly: kill the primary machine, the cluster promotes; the environment's connection follows the primary.</summary>
    private void FlyDrill(Engine.Environments.EnvironmentConfig? env)
    {
        if (env is null && Connection is null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("give -Environment (its \"database\" connection reaches the cluster's primary) or -Connection with -FlyApp"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        if (env is not null) SupplyVaultSecret(Secrets, env.Database?.Fly?.Token ?? env.Deploy?.Token);
        var fly = Run(() => DeploymentOperations.FlyPostgresAsync(env, FlyApp, ContextOf(env)), FlyApp ?? env!.Name);
        using var _ = fly;
        var database = Session(replica: false, Connection);
        // A replica's own connection, when there is one, measures its lag; otherwise pg_stat_replication does.
        var replica = ReplicaConnection is not null ? Session(replica: true, ReplicaConnection)
            : Connection is null && env?.Database?.Replica is not null ? Session(replica: true, null) : null;
        var app = FlyApp ?? env!.Database!.Fly!.App;
        var plan = Run(() => FailoverDrill.PlanFlyAsync(fly, app, database, replica, MaxLagBytes, Cancellation), app);
        if (plan.LagBytes is null) WriteVerbose("Replica lag unknown: the login sees no positions in pg_stat_replication (GRANT pg_read_all_stats TO it) and no replica connection is configured");
        if (!Confirm(plan)) return;
        var (target, source) = RecoveryTargetOf(env);
        var result = Run(() => FailoverDrill.RunFlyAsync(fly, database, plan, Timeout, target, source, Checks(env, promotedReplica: false), null, Cancellation), app);
        Write(result);
    }

    private bool Confirm(FailoverPlan plan)
    {
        if (plan.Refusal is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"The failover drill would not be safe: {plan.Refusal}."), ErrorIds.FailoverRefused, ErrorCategory.InvalidOperation, Environment));
        }
        if (plan.LagBytes is { } lag) WriteVerbose($"Replica lag before the drill: {lag} bytes of WAL");
        var consequence = plan.Method == "pg_promote"
            ? "The replica stops being a replica and the primary's writes stop until the application points at the new primary"
            : "The primary machine dies; writes fail until the cluster has promoted a replica";
        return ShouldAct($"{plan.Primary} -> {plan.Replica}", $"Failover drill ({plan.Method}): {string.Join("; ", plan.Steps)}. {consequence}", Force);
    }

    private (TimeSpan Target, string Source) RecoveryTargetOf(Engine.Environments.EnvironmentConfig? env) =>
        RecoveryTarget is { } given ? (given, "-RecoveryTarget")
        : env?.Backup?.Rto is { } rto ? (rto, $"environment {env.Name}'s rto") : (TimeSpan.FromMinutes(5), "the default");

    /// <summary>
    /// The environment's endpoint checks and the database as a primary: after pg_promote that is the promoted replica
    /// (the targets' roles changed); on Fly the environment's own connection, which follows the primary.
    /// </summary>
    private Func<CancellationToken, Task<IReadOnlyList<HealthCheckResult>>>? Checks(Engine.Environments.EnvironmentConfig? env, bool promotedReplica)
    {
        if (NoHealthCheck || env is null) return null;
        var all = env.GetHealthCheckTargets();
        var targets = all.Where(t => t.Kind != TargetKind.Postgres).ToList();
        if (all.FirstOrDefault(t => t.Name == (promotedReplica ? "database-replica" : "database")) is { } primary)
        {
            if (promotedReplica) primary.Name = "database (promoted)";
            primary.ExpectedRole = "primary";
            targets.Add(primary);
        }
        foreach (var t in targets) SupplyVaultSecret(Secrets, t.Connection);
        return async ct =>
        {
            using var session = new HealthCheckSession(new HealthCheckOptions(), Secrets);
            var results = new List<HealthCheckResult>();
            await foreach (var r in session.RunAsync(targets, ct).ConfigureAwait(false)) results.Add(r);
            return results;
        };
    }

    private void Write(FailoverDrillResult result)
    {
        foreach (var step in result.Steps) WriteVerbose($"{step.Elapsed.TotalSeconds,7:0.00} s  {step.Step}: {(step.Succeeded ? "" : "FAILED: ")}{step.Detail}");
        if (result.Status != HealthStatus.Healthy) WriteWarning(result.Reason);
        WriteObject(result);
    }
}
