using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>The four steps of AWS's rotation contract, plus the cleanup and undo this module adds.</summary>
public enum RotationStepName
{
    /// <summary>Generate the new value and store it as the AWSPENDING version.</summary>
    Create,
    /// <summary>Make the database or cache accept the pending credential.</summary>
    Set,
    /// <summary>Log in with the pending credential.</summary>
    Test,
    /// <summary>Move AWSCURRENT to the pending version (AWSPREVIOUS follows).</summary>
    Finish,
    /// <summary>Retire the old credential where two were valid during the change, then drop the AWSPENDING label (the rotation's resume marker).</summary>
    Cleanup,
    /// <summary>After a failure before finish: make the AWSCURRENT credential the working one again.</summary>
    Revert,
}

/// <summary>What happened in one step.</summary>
public enum RotationStepOutcome
{
    Done,
    /// <summary>An earlier (interrupted) run had done it; nothing was changed.</summary>
    AlreadyDone,
    /// <summary>The strategy has nothing to do in this step.</summary>
    Skipped,
    Failed,
    /// <summary>-WhatIf: what would be done.</summary>
    Planned,
    /// <summary>Not attempted because an earlier step failed.</summary>
    NotReached,
}

/// <summary>One step, timed.</summary>
public sealed record SecretRotationStep(RotationStepName Step, RotationStepOutcome Outcome, TimeSpan Duration, string? Detail)
{
    public override string ToString() => $"{Step}: {Outcome}{(Detail is null ? "" : " — " + Detail)}";
}

/// <summary>How a rotation ended.</summary>
public enum SecretRotationStatus
{
    /// <summary>AWSCURRENT is the new version and it logs in.</summary>
    Rotated,
    /// <summary>-WhatIf: the plan, nothing changed.</summary>
    Planned,
    /// <summary>A step failed; AWSCURRENT is unchanged (see CurrentLogsIn) and a rerun resumes from the pending version.</summary>
    Failed,
}

/// <summary>The outcome of Invoke-SecretRotation for one secret. Holds version ids and names only, never a value.</summary>
public sealed class SecretRotationResult : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch
        {
            SecretRotationStatus.Failed => ReportOutcome.Fail,
            SecretRotationStatus.Rotated when Error is not null => ReportOutcome.Warn,
            SecretRotationStatus.Planned => ReportOutcome.Info,
            _ => ReportOutcome.Pass,
        };
        var message = Error ?? string.Join("; ", Steps.Select(s => $"{s.Step} {s.Outcome}"));
        yield return new ReportRow("Secret rotation", SecretId, outcome, Status.ToString(), Environment, message,
            new KeyValuePair<string, string>[] { new("Strategy", Strategy.ToString()), new("User", Username ?? ""), new("NewVersion", NewVersionId ?? ""), new("Resumed", Resumed ? "yes" : "no"),
             new("CurrentLogsIn", CurrentLogsIn is null ? "" : CurrentLogsIn.Value ? "yes" : "NO") }, Timestamp, Duration.TotalMilliseconds);
    }

    public string? Environment { get; init; }
    public required string SecretId { get; init; }
    public required RotationStrategy Strategy { get; init; }
    /// <summary>The user the credential logs in as after the rotation (alternating: the other of user / user_clone).</summary>
    public string? Username { get; init; }
    /// <summary>Where the credential logs in (host:port), when it is a login. Not named Target, so results bind to Invoke-HealthCheck by Environment only.</summary>
    public string? Endpoint { get; init; }
    /// <summary>The AWSCURRENT version before the rotation (AWSPREVIOUS after it).</summary>
    public string? PreviousVersionId { get; init; }
    /// <summary>The new version (AWSCURRENT after a successful rotation; AWSPENDING after a failed one).</summary>
    public string? NewVersionId { get; init; }
    /// <summary>An interrupted earlier run was resumed.</summary>
    public bool Resumed { get; init; }
    public required IReadOnlyList<SecretRotationStep> Steps { get; init; }
    public required SecretRotationStatus Status { get; init; }
    /// <summary>Why it failed (secret values masked).</summary>
    public string? Error { get; init; }
    /// <summary>After a failure: whether the AWSCURRENT credential was seen to log in (null when not a login or not checked).</summary>
    public bool? CurrentLogsIn { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public TimeSpan Duration => TimeSpan.FromTicks(Steps.Sum(s => s.Duration.Ticks));

    public override string ToString() => $"{SecretId}: {Status} ({Strategy})";
}

/// <summary>What to rotate and how.</summary>
public sealed record SecretRotationRequest
{
    /// <summary>The Secrets Manager secret (name or ARN).</summary>
    public required string SecretId { get; init; }
    public RotationStrategy Strategy { get; init; } = RotationStrategy.Auto;
    /// <summary>A secret that logs in with the rights to change the user (alternating users; optional for Redis ACL).</summary>
    public string? AdminSecretId { get; init; }
    public PasswordPolicy Password { get; init; } = new();
    /// <summary>Generic JSON secrets: the field that holds the value (default "password").</summary>
    public string? Field { get; init; }
    /// <summary>Resume (or make idempotent) a specific rotation; by default the secret's AWSPENDING version, else a new token.</summary>
    public string? ClientRequestToken { get; init; }
    public RotationConnectionOptions Connection { get; init; } = new();
    /// <summary>Redis: save the change (ACL SAVE or CONFIG REWRITE) so a restart keeps it. Default on.</summary>
    public bool PersistRedis { get; init; } = true;
    public string? Environment { get; init; }
    /// <summary>Plan only: read what is needed to describe the steps, change nothing.</summary>
    public bool WhatIf { get; init; }
}
