using System.Management.Automation;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>What Send-RunbookAlert does with each result.</summary>
public enum AlertAction
{
    /// <summary>Trigger for failing and warning results; resolve recovered ones (with -OnChange) or healthy ones (with -ResolveHealthy).</summary>
    Auto,
    /// <summary>Open (or update) the alert.</summary>
    Trigger,
    /// <summary>Acknowledge the alert (someone is on it).</summary>
    Acknowledge,
    /// <summary>Resolve the alert.</summary>
    Resolve,
}

/// <summary>Pages through PagerDuty's Events API v2: triggers, acknowledges and resolves alerts for what is broken, one alert per broken thing.</summary>
/// <remarks>
/// Each result's alert has a dedup_key made of what is broken (system, environment, kind and subject), never of the run
/// or the time, so a job that finds the same check failing every 15 minutes updates one alert instead of opening
/// fifteen, and the run that finds it healthy resolves that alert. Severity comes from the result (Unhealthy and
/// Critical are critical, Degraded and Warning are warning) or from -Severity or -Priority (P0 critical, P1 error, P2
/// warning, P3 and P4 info). The routing key comes from the environment's notify.pagerduty.routingKey (or
/// -RoutingKey), and is never shown. PagerDuty answers 202 (Accepted); a 400 is not retried, a 429 or 5xx is retried
/// with backoff (the dedup_key makes a repeat harmless). -WhatIf prints each event (routing key masked) and sends
/// nothing.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck production | Send-RunbookAlert production -OnChange -StatePath ./alert-state.json</code>
/// <para>Every 15 minutes: pages when a check starts failing, resolves the alert when it recovers, sends nothing in between.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Where-Object Status -eq Unhealthy | Send-RunbookAlert production -Priority P1</code>
/// <para>Triggers (or updates) one P1 alert per failing check.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production -Name database | Send-RunbookAlert production -Action Resolve</code>
/// <para>Resolves the database check's alert by hand.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "RunbookAlert", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(NotificationResult))]
public sealed class SendRunbookAlertCommand : NotifyCmdlet
{
    /// <summary>Trigger, Acknowledge, Resolve, or Auto (by each result's status).</summary>
    [Parameter]
    public AlertAction Action { get; set; } = AlertAction.Auto;

    /// <summary>PagerDuty's severity for triggers: critical, error, warning or info (default: from each result).</summary>
    [Parameter]
    [ValidateSet("critical", "error", "warning", "info")]
    public string? Severity { get; set; }

    /// <summary>An incident priority whose severity to use: P0 critical, P1 error, P2 warning, P3 and P4 info.</summary>
    [Parameter]
    [ValidateSet("P0", "P1", "P2", "P3", "P4")]
    public string? Priority { get; set; }

    /// <summary>With Auto and without -OnChange: resolve the alerts of healthy results too (one event per healthy result).</summary>
    [Parameter]
    public SwitchParameter ResolveHealthy { get; set; }

    /// <summary>The Events API v2 routing key instead of the environment's, as a reference (env:PAGERDUTY_ROUTING_KEY).</summary>
    [Parameter]
    public string? RoutingKey { get; set; }

    /// <summary>Page even while the environment is in a maintenance window (Enable-MaintenanceMode).</summary>
    [Parameter]
    public SwitchParameter IgnoreMaintenance { get; set; }

    /// <summary>The environment's current maintenance window, read where Enable-MaintenanceMode records it (none when it cannot be read).</summary>
    private Engine.Deploy.MaintenanceWindow? MaintenanceWindowOf(Engine.Environments.EnvironmentConfig env)
    {
        var location = MaintenanceState.Location(env, null, LoadConfig().Path, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
        var context = ContextOf(env);
        var system = LoadConfig().System;
        try
        {
            return Task.Run(() => Engine.Deploy.MaintenanceLog.LastWindowAsync(location, context, system, env.Name, Cancellation)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            WriteWarning($"maintenance windows in {location} could not be read ({e.Message}): alerting as if none");
            return null;
        }
    }

    /// <summary>Sends the events.</summary>
    protected override void EndProcessing()
    {
        ReportRefused();
        if (Items.Count == 0)
        {
            // "... | Where-Object Status -eq Unhealthy | Send-RunbookAlert" on a good day: nothing to page about.
            if (MyInvocation.ExpectingInput)
            {
                WriteVerbose("no results came down the pipeline: no event sent");
                return;
            }
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("nothing to alert on: pipe OpsRunbook results (Invoke-HealthCheck, Test-MetricThreshold...)"),
                ErrorIds.NotifyNothingToSend, ErrorCategory.InvalidArgument, null));
        }
        var env = ResolveEnvironment(RoutingKey is null ? EnvironmentNeed.Required : EnvironmentNeed.FromData);
        ResolvedTarget target;
        if (RoutingKey is not null)
        {
            var events = env?.Notify.FirstOrDefault(t => t.Channel == NotificationChannel.PagerDuty)?.Endpoint ?? NotifyOperations.PagerDutyEvents;
            target = new ResolvedTarget(NotificationChannel.PagerDuty, Engine.Secrets.EnvTemplate.Expand(events).TrimEnd('/'), "PagerDuty (routing key ***)", RoutingKey: ResolveExplicit(RoutingKey, "-RoutingKey"));
        }
        else
        {
            target = EnvironmentTargets(env!, new NotificationChannel[] { NotificationChannel.PagerDuty }).Single();
            if (target.RoutingKey is null)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"environment '{env!.Name}' has notify.pagerduty without a routingKey: alerts need one (changeRoutingKey is for change events)"),
                    ErrorIds.NotifyTargetMissing, ErrorCategory.InvalidArgument, env.Name));
            }
        }
        var severity = Severity ?? (Priority is null ? null : Payloads.SeverityOfPriority(Priority));
        if (Action == AlertAction.Auto && !OnChange && !ResolveHealthy && Items.Any(i => i.Tone == NotificationTone.Good))
        {
            WriteVerbose("healthy results are not resolved without -OnChange (which knows they were failing) or -ResolveHealthy");
        }
        Gated(env, ItemsOf(env, env is null ? null : LoadConfig().System), changes =>
        {
            var events = new List<(NotificationItem Item, string Action)>();
            foreach (var c in changes)
            {
                var action = Action switch
                {
                    AlertAction.Trigger => "trigger",
                    AlertAction.Acknowledge => "acknowledge",
                    AlertAction.Resolve => "resolve",
                    _ when c.Item.Tone is NotificationTone.Critical or NotificationTone.Warning => "trigger",
                    _ when c.Recovered || (ResolveHealthy && c.Item.Tone == NotificationTone.Good) => "resolve",
                    _ => null,
                };
                if (action is not null) events.Add((c.Item, action));
            }
            // In a maintenance window nobody is paged for the environment: what breaks then is expected. Resolves still go.
            if (!IgnoreMaintenance && env is not null && events.Any(e => e.Action == "trigger") && MaintenanceWindowOf(env) is { Active: true } window)
            {
                var silenced = events.Count(e => e.Action == "trigger");
                events.RemoveAll(e => e.Action == "trigger");
                WriteWarning($"{silenced} alert(s) not sent: {env.Name} is in maintenance since {window.StartedAt:u}{(window.Until is { } u ? $" until {u:u}" : "")}{(window.Reason is null ? "" : $" ({window.Reason})")}; -IgnoreMaintenance pages anyway");
            }
            var results = SendAll(events.Select(e => NotifyOperations.Alert(e.Item, e.Action, target, severity)));
            var delivered = results.Where(r => r.Status is NotificationStatus.Sent or NotificationStatus.Accepted).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
            return events.Where(e => delivered.Contains(Payloads.DedupKey(e.Item))).Select(e => e.Item).ToList();
        });
    }
}
