namespace OpsRunbook.Engine.Incidents;

/// <summary>One severity level of a profile: how fast someone must respond, and who is brought in when.</summary>
/// <param name="Severity">P0…P4.</param>
/// <param name="Description">The runbook's words for the level.</param>
/// <param name="ResponseTime">How soon a response is due after the incident is declared.</param>
/// <param name="Escalation">Who is paged or told, and how long after the declaration (the first at zero).</param>
public sealed record IncidentLevel(string Severity, string Description, TimeSpan ResponseTime, IReadOnlyList<(TimeSpan After, string Who)> Escalation)
{
    /// <summary>Whether declaring at this level pages someone at once (its first escalation step pages on-call or calls all hands).</summary>
    public bool PagesAtOnce => Escalation.Any(e => e.After == TimeSpan.Zero
        && (e.Who.Contains("page", StringComparison.OrdinalIgnoreCase) || e.Who.Contains("on-call", StringComparison.OrdinalIgnoreCase) || e.Who.Contains("all hands", StringComparison.OrdinalIgnoreCase)));
}

/// <summary>
/// A runbook's incident rules, transcribed: severity levels with response times, escalation, and the post-mortem
/// deadline. <see cref="Source"/> says where in the runbook each comes from.
/// </summary>
public sealed record IncidentProfile(string Name, string Source, IReadOnlyList<IncidentLevel> Levels, TimeSpan? PostMortemWithin)
{
    /// <summary>The level of <paramref name="severity"/>; an error naming the levels when the profile has no such one.</summary>
    public IncidentLevel Level(string severity) =>
        Levels.FirstOrDefault(l => string.Equals(l.Severity, severity, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"the '{Name}' incident profile has no severity '{severity}'; its levels are {string.Join(", ", Levels.Select(l => l.Severity))}");

    /// <summary>The built-in profiles, one per runbook that has an incident chapter, and "default".</summary>
    public static IReadOnlyList<IncidentProfile> BuiltIn { get; } =
    new IncidentProfile[]
    {
        new("paintbox", "runbook 000 (Paintbox), Incident Response: Severity Levels table, 3. Triage & Escalation, 6. Post-Incident",
        new IncidentLevel[]
        {
            new("P1", "Complete outage (site down, data loss)", TimeSpan.FromMinutes(15), new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call"), (TimeSpan.Zero, "notify CTO") }),
            new("P2", "Major degradation (login broken, calculations failing)", TimeSpan.FromMinutes(30), new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call"), (TimeSpan.Zero, "notify team lead") }),
            new("P3", "Minor issues (slow performance, UI glitches)", TimeSpan.FromHours(2), new (TimeSpan, string)[] { (TimeSpan.Zero, "create a ticket, notify during business hours") }),
            new("P4", "Non-critical (minor bugs, feature requests)", TimeSpan.FromHours(24), new (TimeSpan, string)[] { (TimeSpan.Zero, "add to backlog") }),
        }, TimeSpan.FromHours(24)),
        new("formula-pm", "runbook 001 (Formula PM), Severity Levels (P0 immediate, P1 15 minutes, P2 1 hour, P3 next business day)",
        new IncidentLevel[]
        {
            new("P0", "Critical: complete outage, data loss, security breach, payment system down", TimeSpan.Zero, new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call") }),
            new("P1", "High: partial outage, significant degradation, critical feature unavailable", TimeSpan.FromMinutes(15), new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call") }),
            new("P2", "Medium: minor performance issues, non-critical feature issues, intermittent errors", TimeSpan.FromHours(1), new (TimeSpan, string)[] { (TimeSpan.Zero, "notify the team") }),
            new("P3", "Low: cosmetic issues, enhancement requests, documentation", TimeSpan.FromHours(24), new (TimeSpan, string)[] { (TimeSpan.Zero, "next business day") }),
        }, null),
        new("cardmint", "runbook 003 (CardMint), Incident Response: Severity Levels, Post-Incident Review (root cause analysis within 48 hours)",
        new IncidentLevel[]
        {
            new("P0", "Critical: complete outage, data loss risk", TimeSpan.FromMinutes(15), new (TimeSpan, string)[] { (TimeSpan.Zero, "all hands, emergency procedures") }),
            new("P1", "High: degraded performance, user impact", TimeSpan.FromHours(1), new (TimeSpan, string)[] { (TimeSpan.Zero, "investigate, mitigate, schedule fix") }),
            new("P2", "Medium: minor issues, no user impact", TimeSpan.FromHours(4), new (TimeSpan, string)[] { (TimeSpan.Zero, "standard troubleshooting") }),
        }, TimeSpan.FromHours(48)),
        new("sentia", "runbook 004 (Sentia), Incident Severity Classification, Alert Escalation Matrix (Critical/High/Medium/Low as P0–P3), Post-Incident (24-48 hours)",
        new IncidentLevel[]
        {
            new("P0", "Critical: complete outage, data loss or corruption, security breach, revenue impact", TimeSpan.FromMinutes(15),
                new (TimeSpan, string)[] { (TimeSpan.Zero, "on-call + Slack"), (TimeSpan.FromMinutes(15), "Engineering Lead"), (TimeSpan.FromMinutes(30), "CTO"), (TimeSpan.FromHours(1), "CEO") }),
            new("P1", "High: significant degradation, feature completely broken, error rate over 10%", TimeSpan.FromHours(1),
                new (TimeSpan, string)[] { (TimeSpan.Zero, "Slack + email"), (TimeSpan.FromMinutes(15), "on-call"), (TimeSpan.FromMinutes(30), "Engineering Lead") }),
            new("P2", "Medium: minor performance issues, non-critical feature broken, error rate 5-10%", TimeSpan.FromHours(4),
                new (TimeSpan, string)[] { (TimeSpan.Zero, "Slack"), (TimeSpan.FromMinutes(15), "email") }),
            new("P3", "Low: minor bugs, UI/UX issues, documentation errors", TimeSpan.FromHours(24), new (TimeSpan, string)[] { (TimeSpan.Zero, "email") }),
        }, TimeSpan.FromHours(48)),
        new("default", "OpsRunbook's default when an environment names no profile: the common P0–P4 scale",
        new IncidentLevel[]
        {
            new("P0", "Critical: complete outage or data loss", TimeSpan.FromMinutes(15), new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call") }),
            new("P1", "High: major degradation, many users affected", TimeSpan.FromHours(1), new (TimeSpan, string)[] { (TimeSpan.Zero, "page on-call") }),
            new("P2", "Medium: partial degradation", TimeSpan.FromHours(4), new (TimeSpan, string)[] { (TimeSpan.Zero, "notify the team") }),
            new("P3", "Low: minor issue", TimeSpan.FromHours(24), new (TimeSpan, string)[] { (TimeSpan.Zero, "create a ticket") }),
            new("P4", "Informational", TimeSpan.FromDays(3), new (TimeSpan, string)[] { (TimeSpan.Zero, "add to backlog") }),
        }, TimeSpan.FromHours(48)),
    };

    /// <summary>The profile of an environment: its incidents.profile, else its thresholdProfile when that runbook has an incident chapter, else "default".</summary>
    public static IncidentProfile For(Environments.EnvironmentConfig? env) =>
        Get(env?.Incidents?.Profile
            ?? (env?.ThresholdProfile is { } t && BuiltIn.Any(p => string.Equals(p.Name, t, StringComparison.OrdinalIgnoreCase)) ? t : "default"));

    /// <summary>A built-in profile by name; an error listing the names otherwise.</summary>
    public static IncidentProfile Get(string name) =>
        BuiltIn.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"no incident profile '{name}'; the built-in ones are {string.Join(", ", BuiltIn.Select(p => p.Name))}");

}
