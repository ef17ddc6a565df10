using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Watches an environment's health after a deploy, round by round, and with -AutoRollback rolls back after -FailureThreshold unhealthy rounds in a row.
/// </summary>
/// <remarks>
/// Runbook 000's deployment step 6 ("monitor for 15 minutes"), with Fly's automatic rule applied to every provider: the
/// environment's health checks run every -Interval for -Duration; an Unhealthy round counts as a failure (Degraded does
/// not) and a healthy one resets the count. After -FailureThreshold failures in a row (default 3) the watch stops: with
/// -AutoRollback it rolls back to the previous good release (as Start-Rollback, waiting up to -RollbackTimeout for the
/// checks again), otherwise it reports Unhealthy. Each round is written as a WatchRound, then one WatchVerdict (Healthy,
/// Unhealthy, RolledBack, or RolledBackUnhealthy when health did not return in time) that Export-RunbookReport
/// understands: the verdict is always data, within -Duration + one round + the rollback + -RollbackTimeout. With -WhatIf
/// the watch runs but never rolls back.
/// </remarks>
/// <example>
/// <code>Watch-Deployment production -AutoRollback -Force</code>
/// <para>Watches production for 15 minutes after a deploy and rolls back by itself after 3 failing rounds.</para>
/// </example>
/// <example>
/// <code>Watch-Deployment staging -Duration 5m -Interval 10s | Select-Object -Last 1 | Export-RunbookReport -FailOn Unhealthy</code>
/// <para>A CI gate: a five-minute watch whose verdict fails the job when the deploy is unhealthy.</para>
/// </example>
[Cmdlet(VerbsCommon.Watch, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(WatchRound), typeof(WatchVerdict))]
public sealed class WatchDeploymentCommand : DeployCmdlet
{
    /// <summary>How long to watch (default 15 minutes, runbook 000).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Time between rounds (default 30 seconds).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unhealthy rounds in a row that end the watch (default 3).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Roll back to the previous good release when the threshold is reached.</summary>
    [Parameter]
    public SwitchParameter AutoRollback { get; set; }

    /// <summary>After an automatic rollback, how long to wait for the health checks to pass (default 5m). The verdict
    /// comes at the latest -Duration + one round + the rollback + this; when health does not return in time the verdict
    /// is RolledBackUnhealthy, with what still fails.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan RollbackTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Skips the confirmation for -AutoRollback (for automation). -WhatIf still never rolls back.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Watches.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var auto = AutoRollback && ShouldAct($"{env.Name}", $"Roll back automatically after {FailureThreshold} unhealthy rounds in a row", Force);
        var provider = auto ? Provider(env) : null;
        try
        {
            var options = new WatchOptions { Duration = Duration, Interval = Interval, FailureThreshold = FailureThreshold, AutoRollback = auto, RollbackTimeout = RollbackTimeout };
            var rounds = new System.Collections.Concurrent.ConcurrentQueue<WatchRound>();
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var targets = env.GetHealthCheckTargets();
            var work = Task.Run(() => DeploymentWatch.RunAsync(targets, options, provider, env.Name, Secrets, rounds.Enqueue, messages.Enqueue, Cancellation));
            void Drain()
            {
                while (rounds.TryDequeue(out var r))
                {
                    WriteProgress(new ProgressRecord(8, $"Watch-Deployment {env.Name}", r.ToString()));
                    WriteObject(r);
                }
                while (messages.TryDequeue(out var m)) WriteVerbose(m);
            }
            while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(250)) Drain();
            var verdict = Run(() => work, env.Name);
            Drain();
            WriteProgress(new ProgressRecord(8, $"Watch-Deployment {env.Name}", "Done") { RecordType = ProgressRecordType.Completed });
            if (verdict.Verdict != "Healthy") WriteWarning($"{env.Name}: {verdict.Verdict} — {verdict.Reason}");
            WriteObject(verdict);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
