using System.Management.Automation;
using OpsRunbook.Engine.Incidents;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Declares an incident: an append-only journal with its severity, its response deadline and the results that started it.</summary>
/// <remarks>
/// The journal is a JSON-lines file per incident in the environment's incidents.path (default .opsrunbook/incidents
/// beside runbook.json); every later cmdlet appends to it, from any process, and the incident's state is computed from
/// its events. Results piped in (failing health checks, alerts) become the first timeline entries, with their status
/// and reason and no secret; the title says what failed when -Title is not given. The environment's profile (its
/// runbook's severity table: incidents.profile, or the thresholdProfile's runbook) sets the response time and the
/// escalation. An empty pipeline (nothing failing) declares nothing. -Notify posts the runbook's initial alert to the environment's notify targets and, for a level that
/// pages on-call at once, triggers a PagerDuty alert keyed by the incident.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck production | Where-Object Status -eq Unhealthy | New-Incident -Severity P1 -Notify</code>
/// <para>Declares a P1 from the failing checks, tells the team and pages on-call.</para>
/// </example>
/// <example>
/// <code>New-Incident production -Title 'Checkout returns 503' -Severity P2 -Commander dana</code>
/// <para>Declares an incident by hand, with its commander.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class NewIncidentCommand : IncidentCmdlet
{
    /// <summary>The runbook.json environment whose incidents these are.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.EnvironmentNameCompleter))]
    public override string? Environment { get => base.Environment; set => base.Environment = value; }

    private readonly List<PSObject> _input = [];

    /// <summary>The results that show the problem (failing checks, alerts), piped in.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>What is wrong, in a line (default: what the piped results say).</summary>
    [Parameter]
    public string? Title { get; set; }

    /// <summary>The severity, as the environment's profile names its levels (P0…P4).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(Completers.IncidentSeverityCompleter))]
    public string Severity { get; set; } = "";

    /// <summary>The incident commander.</summary>
    [Parameter]
    public string? Commander { get; set; }

    /// <summary>Post the runbook's initial alert to the environment's notify targets (and page, for levels that page at once).</summary>
    [Parameter]
    public SwitchParameter Notify { get; set; }

    /// <summary>Collects the piped results.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in InputObject ?? []) if (item is not null) _input.Add(item);
    }

    /// <summary>Declares it.</summary>
    protected override void EndProcessing()
    {
        if (MyInvocation.ExpectingInput && _input.Count == 0)
        {
            // "... | Where-Object Status -eq Unhealthy | New-Incident" on a good day: nothing to declare.
            WriteVerbose("no results came down the pipeline: no incident declared");
            return;
        }
        var env = ResolveEnvironment(EnvironmentNeed.Required)!;
        var profile = ProfileOf(env);
        try
        {
            Severity = profile.Level(Severity).Severity;
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Severity));
        }
        var now = DateTimeOffset.UtcNow;
        var id = Engine.Incidents.Incident.NewId(now);
        var refused = new List<PSObject>();
        var results = ResultEvents(id, _input, refused);
        foreach (var r in refused.Take(1)) WriteError(new ErrorRecord(new ArgumentException($"{refused.Count} piped object(s) are not OpsRunbook results and were left out of the timeline (first: {PipedInput.Describe(r)})"), ErrorIds.NotReportable, ErrorCategory.InvalidType, r));
        var title = Title ?? TitleFrom(results, env.Name);
        if (title is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Title, or pipe the results that show the problem"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        if (!ShouldProcess($"{env.Name}: {Severity} '{title}' in {JournalOf(env).Location}", "Declare an incident")) return;
        var events = new List<IncidentEvent>
        {
            Event(id, IncidentEventType.Declared) with { Text = title, Severity = Severity, Environment = env.Name, System = LoadConfig().System, Profile = profile.Name, Time = now },
        };
        if (Commander is not null) events.Add(Event(id, IncidentEventType.RoleAssigned) with { Name = "Commander", Person = Commander });
        events.AddRange(results);
        var incident = Append(env, id, events);
        if (Notify)
        {
            SendIncidentNotice(env, incident, NotificationTemplate.IncidentAlert, new Dictionary<string, string>
            {
                ["Severity"] = incident.Severity, ["Status"] = incident.Status.ToString(), ["Impact"] = incident.Title, ["Lead"] = incident.Commander ?? "TBD",
            }, "trigger");
            incident = Load(env, id);
        }
        WriteObject(incident);
    }

    private static string? TitleFrom(List<IncidentEvent> results, string environment)
    {
        var bad = results.Where(r => NotificationItem.ToneOf(r.Status ?? "") is NotificationTone.Critical or NotificationTone.Warning).ToList();
        if (bad.Count == 0) return null;
        var names = string.Join(", ", bad.Select(b => b.Subject).Distinct().Take(3)) + (bad.Count > 3 ? $" and {bad.Count - 3} more" : "");
        return $"{names} {bad[0].Status} in {environment}";
    }
}
