using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Incidents;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell;

/// <summary>
/// What the incident cmdlets share: the environment's journal folder and profile, reading an -Incident given as an
/// Incident (live or deserialized) or an id, appending events as the current user, and -Notify through the
/// environment's notify targets (recorded in the journal).
/// </summary>
public abstract class IncidentCmdlet : EnvironmentCmdlet
{
    /// <inheritdoc />
    protected override string EnvironmentSection => "incidents";

    /// <summary>The environment of the incident; by default the incident's own (an incident names its environment).</summary>
    /// <remarks>Not positional here: the incident is the first argument of Add-IncidentEvent, Set-Incident, Close-Incident and Export-IncidentReport.</remarks>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.EnvironmentNameCompleter))]
    public override string? Environment { get => base.Environment; set => base.Environment = value; }

    /// <summary>Who the events are by (default: $env:GITHUB_ACTOR, else the user name).</summary>
    [Parameter]
    public string? Actor { get; set; }

    private readonly Dictionary<string, IIncidentJournal> _journals = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The journal of <paramref name="env"/>: its incidents.path (a folder relative to runbook.json, or s3://bucket/prefix/
    /// with the environment's aws settings), or .opsrunbook/incidents beside runbook.json. One per environment per pipeline.
    /// </summary>
    protected IIncidentJournal JournalOf(EnvironmentConfig env)
    {
        if (_journals.TryGetValue(env.Name, out var known)) return known;
        var path = env.Incidents?.Path ?? System.IO.Path.Combine(".opsrunbook", "incidents");
        IIncidentJournal journal;
        if (path.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var context = ContextOf(env);
            journal = RunEngine(async () => (IIncidentJournal)await S3IncidentJournal.OpenAsync(path, context).ConfigureAwait(false), path, ErrorIds.IncidentError, env.Name);
        }
        else
        {
            var configDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(LoadConfig().Path))!;
            journal = new IncidentJournal(System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.Combine(configDir, path));
        }
        _journals[env.Name] = journal;
        return journal;
    }

    /// <summary>The ids of the incidents <paramref name="env"/> keeps, newest first.</summary>
    protected IReadOnlyList<string> ListIncidents(EnvironmentConfig env)
    {
        var journal = JournalOf(env);
        return RunEngine(() => journal.ListAsync(Cancellation), journal.Location, ErrorIds.IncidentError, env.Name);
    }

    /// <summary>The profile of <paramref name="env"/> (incidents.profile, or its thresholdProfile's runbook, or default).</summary>
    protected static IncidentProfile ProfileOf(EnvironmentConfig env) => IncidentProfile.For(env);

    /// <summary>Who is acting.</summary>
    protected string WhoActs => Actor ?? System.Environment.GetEnvironmentVariable("GITHUB_ACTOR") ?? System.Environment.UserName;

    /// <summary>An incident id from an Incident (live or deserialized: its Id) or a string.</summary>
    protected string IdOf(PSObject incident)
    {
        var id = incident.BaseObject switch
        {
            Incident i => i.Id,
            string s => s,
            _ => incident.Properties["Id"]?.Value?.ToString(),
        };
        if (string.IsNullOrWhiteSpace(id) || !id.StartsWith("INC-", StringComparison.Ordinal))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"-Incident takes an incident (from New-Incident or Get-Incident) or its id (INC-…), not {PipedInput.Describe(incident)}"),
                ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, incident));
        }
        return id!;
    }

    /// <summary>The environment an -Incident belongs to, when -Environment is not given: the incident's own.</summary>
    protected static string? EnvironmentOf(PSObject incident) => incident.BaseObject switch
    {
        Incident i => i.Environment,
        _ => incident.Properties["Environment"]?.Value?.ToString(),
    };

    /// <summary>The id of an -Incident and the environment whose journal holds it (-Environment, else the incident's own).</summary>
    protected (string Id, EnvironmentConfig Env) Target(PSObject incident)
    {
        var id = IdOf(incident);
        Environment ??= EnvironmentOf(incident);
        return (id, ResolveEnvironment(EnvironmentNeed.Required)!);
    }

    /// <summary>Appends events, then reads the incident back as the journal now says it is.</summary>
    protected Incident Append(EnvironmentConfig env, string id, IEnumerable<IncidentEvent> events)
    {
        var journal = JournalOf(env);
        var list = events.ToList();
        return RunEngine(async () =>
        {
            foreach (var e in list) await journal.AppendAsync(e, Cancellation).ConfigureAwait(false);
            return Incident.Fold(await journal.ReadAsync(id, Cancellation).ConfigureAwait(false), DateTimeOffset.UtcNow);
        }, journal.Location, ErrorIds.IncidentError, id);
    }

    /// <summary>Reads one incident.</summary>
    protected Incident Load(EnvironmentConfig env, string id)
    {
        var journal = JournalOf(env);
        return RunEngine(async () => Incident.Fold(await journal.ReadAsync(id, Cancellation).ConfigureAwait(false), DateTimeOffset.UtcNow), journal.Location, ErrorIds.IncidentError, id);
    }

    /// <summary>An event of this incident, now, by the current actor.</summary>
    protected IncidentEvent Event(string id, IncidentEventType type) => new()
    {
        Id = IncidentEvent.NewId(DateTimeOffset.UtcNow), IncidentId = id, Time = DateTimeOffset.UtcNow, Type = type, Actor = WhoActs,
    };

    /// <summary>Result events of piped OpsRunbook results (their rows: kind, subject, status, reason; never a secret).</summary>
    protected List<IncidentEvent> ResultEvents(string id, IEnumerable<PSObject> items, List<PSObject> refused)
    {
        var events = new List<IncidentEvent>();
        foreach (var item in items)
        {
            var rows = PipedInput.Rows(item);
            if (rows.Count == 0) refused.Add(item);
            events.AddRange(rows.Select(row => Event(id, IncidentEventType.Result) with { Kind = row.Kind, Subject = row.Name, Status = row.Status, Text = Secrets.Redactor.Scrub(row.Message) }));
        }
        return events;
    }

    /// <summary>
    /// -Notify: the runbook's template to the environment's chat and webhook targets, and for a page-worthy level
    /// (its escalation pages someone at once) a PagerDuty alert keyed by the incident; each send is a journal event.
    /// </summary>
    protected void SendIncidentNotice(EnvironmentConfig env, Incident incident, NotificationTemplate template, IReadOnlyDictionary<string, string> fields, string? alertAction)
    {
        if (env.Notify.Count == 0)
        {
            WriteWarning($"-Notify: environment '{env.Name}' has no notify targets in runbook.json; nothing was sent");
            return;
        }
        foreach (var t in env.Notify)
        {
            SupplyVaultSecret(Secrets, t.Address);
            SupplyVaultSecret(Secrets, t.SigningSecret);
        }
        var targets = RunEngine(() => NotifyOperations.ResolveAsync(env.Notify, ContextOf(env)), "notify", ErrorIds.NotifyError, env.Name);
        var requests = IncidentNotice.Requests(incident, ProfileOf(env), template, fields, targets, alertAction);
        var sender = new NotificationSender(NotificationSender.SharedClient, Secrets.Redactor);
        var events = new List<IncidentEvent>();
        foreach (var request in requests)
        {
            if (!ShouldProcess($"Sending to {request.Channel} {request.Target}:{System.Environment.NewLine}{NotifyOperations.Preview(request)}", $"Send to {request.Channel} {request.Target}?", "Notify")) continue;
            var result = RunEngine(() => sender.SendAsync(request, Cancellation), $"{request.Channel} {request.Target}", ErrorIds.NotifyError);
            if (result.Status is not (NotificationStatus.Sent or NotificationStatus.Accepted)) WriteWarning($"{request.Channel} {request.Target}: {result.Status}: {result.Reason}");
            events.Add(Event(incident.Id, IncidentEventType.Notification) with { Kind = request.Channel.ToString(), Status = result.Status.ToString(), Text = request.Title });
            WriteVerbose($"-Notify: {result}");
        }
        if (events.Count > 0) Append(env, incident.Id, events);
    }


}
