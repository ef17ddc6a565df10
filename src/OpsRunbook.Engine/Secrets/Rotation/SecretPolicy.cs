using System.Globalization;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>Where a secret stands against its rotation policy.</summary>
public enum SecretRotationState
{
    /// <summary>Rotated within its policy.</summary>
    Current,
    /// <summary>Due within the warning window (7 days by default).</summary>
    DueSoon,
    /// <summary>Older than its policy allows.</summary>
    Overdue,
    /// <summary>A rotation was started and not finished (a version still labelled AWSPENDING, moved to AWSCURRENT or not): rerun Invoke-SecretRotation.</summary>
    Interrupted,
    /// <summary>The secret could not be read (not found, no permission): see Reason.</summary>
    Unknown,
}

/// <summary>One secret's rotation status (Get-SecretRotationStatus). Metadata only.</summary>
public sealed class SecretRotationStatusInfo : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = State switch
        {
            SecretRotationState.Overdue or SecretRotationState.Interrupted or SecretRotationState.Unknown => ReportOutcome.Fail,
            SecretRotationState.DueSoon => ReportOutcome.Warn,
            _ => ReportOutcome.Pass,
        };
        yield return new ReportRow("Secret rotation policy", Name ?? SecretId, outcome, State.ToString(), Environment,
            Reason ?? $"rotated {AgeDays?.ToString("0", CultureInfo.InvariantCulture) ?? "?"} days ago; due {NextDue:yyyy-MM-dd}",
            new KeyValuePair<string, string>[] { new("SecretId", SecretId), new("AgeDays", AgeDays?.ToString(CultureInfo.InvariantCulture) ?? ""), new("PolicyDays", PolicyDays.ToString(CultureInfo.InvariantCulture)),
             new("PolicySource", PolicySource) }, DateTimeOffset.UtcNow);
    }

    public string? Environment { get; init; }
    /// <summary>The runbook.json name (database, redis, jwt), when the secret is configured there.</summary>
    public string? Name { get; init; }
    public required string SecretId { get; init; }
    public string? Arn { get; init; }
    public RotationStrategy? Strategy { get; init; }
    /// <summary>When the value last changed by rotation (else last change, else creation).</summary>
    public DateTimeOffset? LastRotated { get; init; }
    public double? AgeDays { get; init; }
    public required int PolicyDays { get; init; }
    /// <summary>Where the policy came from: runbook.json, tag, rotation-rules or default.</summary>
    public required string PolicySource { get; init; }
    public DateTimeOffset? NextDue { get; init; }
    public bool Overdue => State == SecretRotationState.Overdue;
    public required SecretRotationState State { get; init; }
    /// <summary>Secrets Manager's own rotation (a Lambda) is enabled.</summary>
    public bool ManagedRotation { get; init; }
    public string? Reason { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public override string ToString() => $"{SecretId}: {State}";
}

/// <summary>Rotation policy: runbook.json, then the secret's tags, then Secrets Manager's rotation rules, then the strategy's default.</summary>
public static class SecretPolicy
{
    /// <summary>Tag names read as "rotate every N days".</summary>
    public static readonly string[] PolicyTags = ["opsrunbook:rotation-days", "rotation-days", "RotationDays"];

    /// <summary>Runbook 000: database and Redis passwords every 30 days, JWT secrets and API keys quarterly.</summary>
    public static int DefaultDays(RotationStrategy? strategy) => strategy switch
    {
        RotationStrategy.PostgresSingleUser or RotationStrategy.PostgresAlternatingUsers or RotationStrategy.RedisAcl or RotationStrategy.RedisRequirePass => 30,
        _ => 90,
    };

    public static SecretRotationStatusInfo Evaluate(SecretDescription d, ManagedSecretConfig? config, string? environment, DateTimeOffset now, TimeSpan? dueSoon = null)
    {
        var (days, source) = PolicyOf(d, config);
        var last = d.LastRotatedDate ?? d.LastChangedDate ?? d.CreatedDate;
        var pending = SecretRotator.Holder(d, SecretRotator.Pending);
        var current = SecretRotator.Holder(d, SecretRotator.Current);
        var next = last?.AddDays(days);
        SecretRotationState state;
        string? reason = null;
        // Also when AWSCURRENT already moved, for secrets this module rotates: its run stopped before the cleanup, and
        // whether the server accepts the new credential is unverified until a rerun checks (and repairs) it. Secrets
        // Manager's own rotation (a Lambda) may leave AWSPENDING on the current version after a rotation that finished.
        if (pending is not null && (pending != current || !d.RotationEnabled))
        {
            state = SecretRotationState.Interrupted;
            reason = pending != current
                ? $"version {pending} is AWSPENDING: a rotation did not finish; rerun Invoke-SecretRotation to complete it"
                : $"version {pending} is AWSCURRENT but still AWSPENDING: a rotation stopped after moving the secret; rerun Invoke-SecretRotation to verify the login and clean up";
        }
        else if (next is null)
        {
            state = SecretRotationState.Unknown;
            reason = "Secrets Manager reports no rotation, change or creation date";
        }
        else if (next < now)
        {
            state = SecretRotationState.Overdue;
            reason = $"last rotated {(now - last!.Value).TotalDays.ToString("0", CultureInfo.InvariantCulture)} days ago; the policy is {days} days";
        }
        else
        {
            state = next - now < (dueSoon ?? TimeSpan.FromDays(7)) ? SecretRotationState.DueSoon : SecretRotationState.Current;
        }
        return new SecretRotationStatusInfo
        {
            Environment = environment, Name = config?.Name, SecretId = config?.SecretId ?? d.Name, Arn = d.Arn, Strategy = config?.Strategy,
            LastRotated = last, AgeDays = last is null ? null : Math.Round((now - last.Value).TotalDays, 1), PolicyDays = days, PolicySource = source,
            NextDue = next, State = state, ManagedRotation = d.RotationEnabled, Reason = reason, Tags = d.Tags,
        };
    }

    /// <summary>A secret that could not be described: data, not an exception.</summary>
    public static SecretRotationStatusInfo Unreadable(string secretId, ManagedSecretConfig? config, string? environment, string reason) => new()
    {
        Environment = environment, Name = config?.Name, SecretId = secretId, Strategy = config?.Strategy,
        PolicyDays = config?.RotationDays ?? DefaultDays(config?.Strategy), PolicySource = config?.RotationDays is null ? "default" : "runbook.json",
        State = SecretRotationState.Unknown, Reason = reason,
    };

    private static (int days, string source) PolicyOf(SecretDescription d, ManagedSecretConfig? config)
    {
        if (config?.RotationDays is { } configured) return (configured, "runbook.json");
        foreach (var tag in PolicyTags)
        {
            if (d.Tags.TryGetValue(tag, out var v) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0) return (n, "tag " + tag);
        }
        if (d.RotationDays is { } rules) return (rules, "rotation-rules");
        return (DefaultDays(config?.Strategy), "default");
    }
}
