using System.Management.Automation;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Runs a failover drill: promotes the environment's PostgreSQL replica, measures the recovery time against a target, and runs the environment's health checks.
/// </summary>
/// <remarks>
/// Test-DatabaseFailover is runbook 003's monthly "planned failover drill" for a self-managed primary and streaming
/// replica (the environment's "database" connection and "replica", or -Connection and -ReplicaConnection). It first
/// reads both servers and refuses, with a terminating error that says what to fix, a pair that is the wrong way round,
/// a replica that is not streaming or lags more than -MaxLagBytes, and a login that lacks what the drill needs (owning
/// the database, EXECUTE on pg_promote, pg_signal_backend, pg_read_all_stats; no superuser). Then, after confirmation
/// (ConfirmImpact High: the replica stops being a replica): it fences the primary's database (read-only for new
/// sessions, open sessions ended) so no write lands on the old primary, waits until the replica has replayed the
/// primary's last WAL, promotes it (pg_promote), waits up to -Timeout until it takes a write, and runs the
/// environment's health checks (its endpoints, and the promoted server as a primary). It writes one
/// FailoverDrillResult: each step with its time, the recovery time from writes stopped to the first write on the new
/// primary against -RecoveryTarget (default: the environment's backup "rto", else 5 minutes), the WAL that did not
/// reach the replica (0 when nothing was lost), the health checks, and what to do next (point the application at the
/// new primary; rebuild the old one as a replica; the fence stays until then). Healthy when within the target with
/// nothing lost and every check healthy; in a report Unhealthy fails and Degraded warns. -WhatIf reads, checks and
/// says what it would do, and changes nothing. Run it in a maintenance window: the application's writes stop at the
/// fence until it points at the new primary.
/// </remarks>
/// <example>
/// <code>Test-DatabaseFailover production -WhatIf</code>
/// <para>Checks the pair and the privileges, and says what the drill would do.</para>
/// </example>
/// <example>
/// <code>Test-DatabaseFailover staging -RecoveryTarget 60s -Force | Export-RunbookReport -Title 'Monthly failover drill' -Format Markdown -Path ./drill.md</code>
/// <para>Runbook 003's monthly drill with its result documented, in a scheduled job.</para>
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

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Plans, asks, drills.</summary>
    protected override void ProcessRecord()
    {
        if ((Connection is null) != (ReplicaConnection is null))
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("give both -Connection (the primary) and -ReplicaConnection (the replica to promote), or neither and -Environment"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        var primary = Session(replica: false, Connection);
        var replica = Session(replica: true, ReplicaConnection);
        var plan = Run(() => FailoverDrill.PlanAsync(primary, replica, MaxLagBytes, Cancellation), primary.Display);
        if (plan.Refusal is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"The failover drill would not be safe: {plan.Refusal}."), ErrorIds.FailoverRefused, ErrorCategory.InvalidOperation, Environment));
        }
        WriteVerbose($"Replica lag before the drill: {plan.LagBytes} bytes of WAL");
        if (!ShouldAct($"{plan.Primary} -> {plan.Replica}", $"Failover drill: {string.Join("; ", plan.Steps)}. The replica stops being a replica and the primary's writes stop until the application points at the new primary", Force)) return;

        var env = Connection is null ? ResolveEnvironment(EnvironmentNeed.Optional) : null;
        var (target, source) = RecoveryTarget is { } given ? (given, "-RecoveryTarget")
            : env?.Backup?.Rto is { } rto ? (rto, $"environment {env.Name}'s rto") : (TimeSpan.FromMinutes(5), "the default");
        Func<CancellationToken, Task<IReadOnlyList<HealthCheckResult>>>? checks = null;
        if (!NoHealthCheck && env is not null)
        {
            // The endpoints as configured; the database targets' roles changed, so the promoted server is checked as a primary.
            var targets = env.GetHealthCheckTargets().Where(t => t.Kind != TargetKind.Postgres).ToList();
            if (env.GetHealthCheckTargets().FirstOrDefault(t => t.Name == "database-replica") is { } promoted)
            {
                promoted.Name = "database (promoted)";
                promoted.ExpectedRole = "primary";
                targets.Add(promoted);
            }
            foreach (var t in targets) SupplyVaultSecret(Secrets, t.Connection);
            checks = async ct =>
            {
                using var session = new HealthCheckSession(new HealthCheckOptions(), Secrets);
                var results = new List<HealthCheckResult>();
                await foreach (var r in session.RunAsync(targets, ct).ConfigureAwait(false)) results.Add(r);
                return results;
            };
        }
        var result = Run(() => FailoverDrill.RunAsync(primary, replica, plan, Timeout, target, source, checks, null, Cancellation), replica.Display);
        foreach (var step in result.Steps) WriteVerbose($"{step.Elapsed.TotalSeconds,7:0.00} s  {step.Step}: {(step.Succeeded ? "" : "FAILED: ")}{step.Detail}");
        if (result.Status != HealthStatus.Healthy) WriteWarning(result.Reason);
        WriteObject(result);
    }
}
