using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Notify;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>
/// What Send-RunbookNotification and Send-RunbookAlert share: reading OpsRunbook results from the pipeline (live or
/// deserialized), the environment's notify targets or explicit ones, the -OnChange gate, and sending with -WhatIf
/// showing each exact payload (addresses and keys masked) and sending nothing.
/// </summary>
public abstract class NotifyCmdlet : EnvironmentCmdlet
{
    private readonly List<NotificationItem> _items = [];
    private readonly Dictionary<string, (int Count, object First)> _refused = new(StringComparer.Ordinal);

    /// <summary>OpsRunbook results (health checks, alerts, deployments, backups, rotations...), live or deserialized.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Send only what changed since the last run that used the same -StatePath: subjects that turned bad, and those that recovered.</summary>
    [Parameter]
    public SwitchParameter OnChange { get; set; }

    /// <summary>The state that -OnChange runs share: a file every scheduled run of the job sees, or s3://bucket/key (with the environment's aws settings) for jobs on different machines.</summary>
    [Parameter]
    public string? StatePath { get; set; }

    /// <inheritdoc />
    protected override string EnvironmentSection => "notify";

    /// <summary>
    /// With -Uri or -RoutingKey the environment is only a name the piped results carry (they may come from another
    /// machine's runbook.json): that it is not available here is said in -Verbose, not as a warning.
    /// </summary>
    protected override void EnvironmentUnavailableFor(string name, string why) =>
        WriteVerbose($"environment '{name}' is not available here ({why}); sending to the given address");

    /// <summary>The results read so far.</summary>
    protected IReadOnlyList<NotificationItem> Items => _items;

    /// <summary>
    /// The results, those without an environment (Invoke-HealthCheck -Uri) taken as <paramref name="env"/>'s: a check
    /// sent as an alert for production is production's alert, under production's key.
    /// </summary>
    protected IReadOnlyList<NotificationItem> ItemsOf(EnvironmentConfig? env, string? system) => env is null
        ? _items
        : _items.Select(i => i.Environment is null ? i with { Environment = env.Name, System = i.System ?? system } : i).ToList();

    /// <summary>Reads the piped results.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in InputObject ?? [])
        {
            if (item is null) continue;
            var read = Read(item);
            if (read.Count == 0)
            {
                var type = item.TypeNames.FirstOrDefault() ?? "null";
                _refused[type] = _refused.TryGetValue(type, out var seen) ? (seen.Count + 1, seen.First) : (1, item);
                continue;
            }
            _items.AddRange(read);
        }
    }

    /// <summary>One error per kind of input that is not an OpsRunbook result (50 strings make one error).</summary>
    protected void ReportRefused()
    {
        foreach (var (type, (count, first)) in _refused)
        {
            WriteError(new ErrorRecord(new ArgumentException(
                $"{(count == 1 ? "an object" : $"{count} objects")} of type {type} {(count == 1 ? "is" : "are")} not OpsRunbook results and {(count == 1 ? "was" : "were")} left out; pipe OpsRunbook results, or give -Title and -Text"),
                ErrorIds.NotReportable, ErrorCategory.InvalidType, first));
        }
    }

    private List<NotificationItem> Read(PSObject item)
    {
        var rows = PipedInput.Rows(item);
        var system = rows.Count == 0 ? null : SystemOf(rows[0].Environment);
        return rows.Select(r => NotificationItem.FromRow(r, system)).ToList();
    }

    /// <summary>
    /// The system of a result's environment, from the runbook.json this command would use, read quietly: a result
    /// from elsewhere, or no runbook.json here at all (-Uri), is simply without a system.
    /// </summary>
    private string? SystemOf(string? environment)
    {
        if (environment is null) return null;
        _config ??= RunbookConfigLoader.TryLoad(ConfigPath, SessionState.Path.CurrentFileSystemLocation.ProviderPath) ?? (object)false;
        return _config is RunbookConfig config && config.Environments.Any(e => string.Equals(e.Name, environment, StringComparison.OrdinalIgnoreCase)) ? config.System : null;
    }

    private object? _config;

    /// <summary>
    /// The environment's notify targets of <paramref name="channels"/> (all when null), resolved; stops with an error
    /// that says what to add when there are none.
    /// </summary>
    protected IReadOnlyList<ResolvedTarget> EnvironmentTargets(EnvironmentConfig env, IReadOnlyCollection<NotificationChannel>? channels)
    {
        var chosen = env.Notify.Where(t => channels is null || channels.Contains(t.Channel)).ToList();
        if (chosen.Count == 0)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException(
                $"environment '{env.Name}' has no notify target{(channels is null ? "" : " for " + string.Join(", ", channels))}: add \"notify\": {{ \"slack\": \"env:SLACK_WEBHOOK_URL\" }} (or teams, webhook, pagerduty) to it in runbook.json, or give -Uri"),
                ErrorIds.NotifyTargetMissing, ErrorCategory.InvalidArgument, env.Name));
        }
        foreach (var t in chosen)
        {
            SupplyVaultSecret(Secrets, t.Address);
            SupplyVaultSecret(Secrets, t.SigningSecret);
            SupplyVaultSecret(Secrets, t.ChangeRoutingKey);
        }
        return RunEngine(() => NotifyOperations.ResolveAsync(chosen, ContextOf(env)), "notify", ErrorIds.NotifyError, env.Name);
    }

    /// <summary>Resolves an explicit -Uri or -RoutingKey (a literal or a reference such as env:SLACK_WEBHOOK_URL).</summary>
    protected string ResolveExplicit(string value, string what)
    {
        var secret = SecretValue.Parse(value);
        SupplyVaultSecret(Secrets, secret);
        var resolved = RunEngine(async () => await secret.ResolveAsync(Secrets, Cancellation).ConfigureAwait(false), what, ErrorIds.NotifyError);
        Secrets.Redactor.Add(resolved);
        return resolved;
    }

    /// <summary>
    /// Runs the -OnChange gate around <paramref name="send"/>: it gets the transitions and returns the items whose
    /// message went out (Sent or Accepted); only those, and the unchanged ones, are recorded, so a failed send is tried
    /// again by the next run. Without -OnChange every item passes.
    /// </summary>
    protected void Gated(EnvironmentConfig? env, IReadOnlyList<NotificationItem> items, Func<IReadOnlyList<Transition>, IReadOnlyCollection<NotificationItem>> send)
    {
        if (!OnChange)
        {
            send(items.Select(i => new Transition(i, false, null)).ToList());
            return;
        }
        if (string.IsNullOrEmpty(StatePath))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-OnChange needs -StatePath: a file every scheduled run of this job sees (it remembers what was sent)"),
                ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        // -WhatIf reads the state to show what would be sent, and takes no lock and writes nothing.
        var readOnly = WhatIfActive;
        IChangeGate gate;
        if (StatePath!.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var context = ContextOf(env);
            gate = RunEngine(async () => (IChangeGate)await S3ChangeGate.OpenAsync(StatePath, context, TimeSpan.FromMinutes(2), readOnly).ConfigureAwait(false), "the -OnChange state", ErrorIds.NotifyError, StatePath);
        }
        else
        {
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(StatePath);
            gate = RunEngine(async () => (IChangeGate)await ChangeGate.OpenAsync(path, TimeSpan.FromMinutes(2), Cancellation, readOnly).ConfigureAwait(false), "the -OnChange state", ErrorIds.NotifyError, path);
        }
        try
        {
            var changes = gate.Changes(items);
            WriteVerbose($"-OnChange: {changes.Count(c => !c.Recovered)} turned bad, {changes.Count(c => c.Recovered)} recovered, {items.Count - changes.Count} unchanged ({gate.Location})");
            var delivered = send(changes);
            if (!WhatIfActive)
            {
                var changed = changes.Select(c => c.Item.Key).ToHashSet(StringComparer.Ordinal);
                gate.Record(items.Where(i => !changed.Contains(i.Key) || delivered.Contains(i)), DateTimeOffset.UtcNow);
            }
        }
        finally
        {
            RunEngine(async () => { await gate.DisposeAsync().ConfigureAwait(false); return 0; }, "the -OnChange state", ErrorIds.NotifyError, gate.Location);
        }
    }

    /// <summary>Whether -WhatIf (or $WhatIfPreference) is on.</summary>
    protected bool WhatIfActive =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? w is SwitchParameter sw && sw.IsPresent
            : SessionState.PSVariable.GetValue("WhatIfPreference") is { } pref && LanguagePrimitives.IsTrue(pref);

    /// <summary>Sends each request (after ShouldProcess, whose -WhatIf text is the exact payload) and writes its result.</summary>
    protected List<NotificationResult> SendAll(IEnumerable<NotificationRequest> requests)
    {
        var sender = new NotificationSender(NotificationSender.SharedClient, Secrets.Redactor);
        var results = new List<NotificationResult>();
        foreach (var request in requests)
        {
            var preview = NotifyOperations.Preview(request);
            if (!ShouldProcess($"Sending to {request.Channel} {request.Target}:{System.Environment.NewLine}{preview}", $"Send to {request.Channel} {request.Target}?", "Send-RunbookNotification"))
            {
                continue;
            }
            WriteVerbose($"{request.Channel} {request.Target}: {request.Title} ({request.Body.Length} bytes)");
            var result = RunEngine(() => sender.SendAsync(request, Cancellation), $"{request.Channel} {request.Target}", ErrorIds.NotifyError);
            if (result.Status is not (NotificationStatus.Sent or NotificationStatus.Accepted))
            {
                WriteWarning($"{request.Channel} {request.Target}: {result.Status}: {result.Reason}");
            }
            results.Add(result);
            WriteObject(result);
        }
        return results;
    }

}
