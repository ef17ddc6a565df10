using System.Collections;
using System.Management.Automation;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Posts OpsRunbook results, a text, or one of the runbooks' incident templates to Slack, Microsoft Teams, a signed
/// webhook or PagerDuty change events, and says what became of each send.
/// </summary>
/// <remarks>
/// Results from the pipeline are grouped into one message per environment (worst first), not one per check. Targets
/// come from the environment's "notify" section in runbook.json (every URL and key a reference such as
/// env:SLACK_WEBHOOK_URL), or from -Uri with -Channel. Each send returns a NotificationResult: Sent, Accepted (Teams and
/// PagerDuty queue without saying more), Throttled, Rejected or Failed, with the attempts and the time waited; a
/// failed send is a result and a warning, never an exception. Slack gets about one message a second per webhook, Teams
/// four requests a second; a 429 waits what Retry-After says up to 30 s; a 4xx is not retried; an answer lost after
/// the message went out is not retried for Slack and Teams (a second send would post twice). Text beyond a service's
/// limits is cut with a visible marker. With -OnChange and -StatePath, a scheduled job sends one message when a
/// subject turns bad and one when it recovers, not one per run; overlapping runs take turns on the state file.
/// -WhatIf prints each exact payload (addresses and keys masked) and sends nothing.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck production | Send-RunbookNotification production</code>
/// <para>Posts one message with every check's status to each of production's notify targets.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Send-RunbookNotification production -OnChange -StatePath ./notify-state.json -Channel Slack</code>
/// <para>For a job that runs every 15 minutes: Slack hears when a check starts failing and when it recovers, nothing in between.</para>
/// </example>
/// <example>
/// <code>Send-RunbookNotification production -Template IncidentAlert -Field @{ Severity = 'P1'; Impact = 'Checkout returns 503'; Lead = '@dana' }</code>
/// <para>The runbook's initial incident alert; fields not given read Investigating or TBD.</para>
/// </example>
/// <example>
/// <code>Send-RunbookNotification -Uri env:SLACK_WEBHOOK_URL -Channel Slack -Title 'Hotfix deployed' -Text 'v42: fixes the checkout timeout' -WhatIf</code>
/// <para>Shows the exact Block Kit payload that would be posted, without sending it.</para>
/// </example>
[Cmdlet(VerbsCommunications.Send, "RunbookNotification", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Results")]
[OutputType(typeof(NotificationResult))]
public sealed class SendRunbookNotificationCommand : NotifyCmdlet
{
    /// <summary>The message's headline (default: what the results say, e.g. "Health checks: 2 failing in production").</summary>
    [Parameter]
    public string? Title { get; set; }

    /// <summary>A paragraph under the title.</summary>
    [Parameter]
    public string? Text { get; set; }

    /// <summary>The colour of a message without results: Info, Good, Warning or Critical.</summary>
    [Parameter]
    public NotificationTone Tone { get; set; } = NotificationTone.Info;

    /// <summary>One of the runbooks' templates: IncidentAlert, IncidentUpdate, IncidentResolved.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Template")]
    public NotificationTemplate Template { get; set; }

    /// <summary>The template's fields (Severity, Status, Impact, ETA, Lead; Progress, NextSteps; Duration, RootCause, Resolution, FollowUp) and any others.</summary>
    [Parameter(ParameterSetName = "Template")]
    public Hashtable? Field { get; set; }

    /// <summary>Only these kinds of target (default: the environment's Slack, Teams and webhook targets, and PagerDuty change events for deployments, rollbacks and rotations).</summary>
    [Parameter]
    public NotificationChannel[]? Channel { get; set; }

    /// <summary>A webhook URL instead of the environment's targets: a reference (env:SLACK_WEBHOOK_URL) or the URL; give -Channel to say which service.</summary>
    [Parameter]
    public string? Uri { get; set; }

    /// <summary>With -Uri -Channel Webhook: the Standard Webhooks secret (whsec_...) to sign with, as a reference.</summary>
    [Parameter]
    public string? SigningSecret { get; set; }

    /// <summary>Composes the messages and sends them.</summary>
    protected override void EndProcessing()
    {
        ReportRefused();
        var env = ResolveEnvironment(Uri is null ? EnvironmentNeed.Required : EnvironmentNeed.FromData);
        if (Items.Count == 0 && ParameterSetName != "Template" && Title is null && Text is null)
        {
            if (MyInvocation.ExpectingInput)
            {
                WriteVerbose("no results came down the pipeline: no message sent");
                return;
            }
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("nothing to send: pipe OpsRunbook results, or give -Title/-Text, or -Template"),
                ErrorIds.NotifyNothingToSend, ErrorCategory.InvalidArgument, null));
        }
        IReadOnlyList<ResolvedTarget> targets;
        if (Uri is not null)
        {
            if (Channel is not { Length: 1 } || Channel[0] == NotificationChannel.PagerDuty)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-Uri needs one -Channel: Slack, Teams or Webhook (PagerDuty change events come from the environment's notify.pagerduty)"),
                    ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
            }
            var url = ResolveExplicit(Uri, "-Uri");
            var secret = SigningSecret is null ? null : ResolveExplicit(SigningSecret, "-SigningSecret");
            targets = new ResolvedTarget[] { new ResolvedTarget(Channel![0], url, NotifyOperations.Mask(url), SigningSecret: secret) };
        }
        else
        {
            targets = EnvironmentTargets(env!, Channel);
        }
        if (ParameterSetName == "Template")
        {
            var fields = (Field ?? []).Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.OrdinalIgnoreCase);
            var message = MessageComposer.FromTemplate(Template, fields, env?.Name, LoadSystem(env), Items);
            SendAll(Requests(new NotificationMessage[] { message }, targets));
            return;
        }
        if (Items.Count == 0)
        {
            SendAll(Requests(new NotificationMessage[] { new NotificationMessage { Title = Title!, Text = Text ?? "", Tone = Tone, Environment = env?.Name, System = LoadSystem(env) } }, targets));
            return;
        }
        Gated(env, ItemsOf(env, env is null ? null : LoadConfig().System), changes =>
        {
            if (changes.Count == 0)
            {
                WriteVerbose("nothing changed since the last run: no message");
                return [];
            }
            var items = changes.Select(c => c.Recovered ? c.Item with { Reason = Recovered(c) } : c.Item).ToList();
            var messages = MessageComposer.FromItems(items, Title, Text);
            var results = SendAll(Requests(messages, targets));
            var delivered = results.Where(r => r.Status is NotificationStatus.Sent or NotificationStatus.Accepted).Select(r => r.Environment ?? "").ToHashSet(StringComparer.OrdinalIgnoreCase);
            return changes.Where(c => delivered.Contains(c.Item.Environment ?? "")).Select(c => c.Item).ToList();
        });
    }

    private static string Recovered(Transition t) =>
        "recovered" + (t.BadSince is { } since ? $" after {Math.Max(1, (int)(DateTimeOffset.UtcNow - since).TotalMinutes)} min" : "") + (t.Item.Reason.Length > 0 ? " — " + t.Item.Reason : "");

    private string? LoadSystem(Engine.Environments.EnvironmentConfig? env) => env is null ? null : LoadConfig().System;

    private IEnumerable<NotificationRequest> Requests(IReadOnlyList<NotificationMessage> messages, IReadOnlyList<ResolvedTarget> targets) =>
        messages.SelectMany(m => targets.Where(t => Channel is not null || NotifyOperations.ByDefault(t, m)).Select(t => NotifyOperations.Post(m, t)).OfType<NotificationRequest>());
}
