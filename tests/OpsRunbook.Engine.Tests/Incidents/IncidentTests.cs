using OpsRunbook.Engine.Incidents;

namespace OpsRunbook.Engine.Tests;

/// <summary>Incident journals on disk, the state computed from them, the runbooks' profiles and the post-mortem draft.</summary>
public class IncidentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    private static IncidentEvent E(string id, IncidentEventType type, int minutes, string? actor = "dana") =>
        new() { Id = IncidentEvent.NewId(T0.AddMinutes(minutes)), IncidentId = id, Time = T0.AddMinutes(minutes), Type = type, Actor = actor };

    private static IncidentEvent Declared(string id, string severity = "P0", string profile = "sentia") =>
        E(id, IncidentEventType.Declared, 0, "ci") with { Text = "Checkout returns 503", Severity = severity, Profile = profile, Environment = "production", System = "sentia" };

    [Fact]
    public void The_state_follows_the_events_and_the_profile_sets_the_deadlines()
    {
        const string id = "INC-20261130-080000-0001";
        var events = new List<IncidentEvent> { Declared(id) };
        var at10 = Incident.Fold(events, T0.AddMinutes(10));
        Assert.Equal(IncidentStatus.Investigating, at10.Status);
        Assert.Equal(T0.AddMinutes(15), at10.ResponseDue); // runbook 004: P0, 15 minutes
        Assert.False(at10.Overdue);
        Assert.Equal("Engineering Lead at 08:15Z", at10.NextEscalation); // the escalation matrix: 15 min
        var at20 = Incident.Fold(events, T0.AddMinutes(20));
        Assert.True(at20.Overdue); // nobody responded within 15 minutes
        Assert.Equal("CTO at 08:30Z", at20.NextEscalation);
        events.Add(E(id, IncidentEventType.StatusChanged, 22) with { Status = "Mitigating" });
        events.Add(E(id, IncidentEventType.SeverityChanged, 25) with { Severity = "P1" });
        events.Add(E(id, IncidentEventType.RoleAssigned, 26) with { Name = "Commander", Person = "dana" });
        events.Add(E(id, IncidentEventType.ActionItem, 30) with { Text = "Alert on pool saturation", Person = "lee" });
        var mitigating = Incident.Fold(events, T0.AddMinutes(31));
        Assert.Equal(IncidentStatus.Mitigating, mitigating.Status);
        Assert.Equal("P1", mitigating.Severity);
        Assert.Equal(T0.AddHours(1), mitigating.ResponseDue);
        Assert.False(mitigating.Overdue); // responded at 22 minutes
        Assert.Equal(T0.AddMinutes(22), mitigating.RespondedAt);
        Assert.Equal("dana", mitigating.Commander);
        events.Add(E(id, IncidentEventType.Resolved, 42) with { Text = "Rolled back to v41" });
        events.Add(E(id, IncidentEventType.Closed, 43));
        var closed = Incident.Fold(events, T0.AddDays(1));
        Assert.Equal(IncidentStatus.Closed, closed.Status);
        Assert.Equal(TimeSpan.FromMinutes(42), closed.Duration);
        Assert.Equal(T0.AddMinutes(42).AddHours(48), closed.PostMortemDue); // runbook 004: 24-48 hours
        Assert.Null(closed.NextEscalation);
        Assert.False(closed.IsOpen);
    }

    [Fact]
    public async Task Two_writers_appending_at_once_lose_nothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), "opsrunbook-incidents-" + Guid.NewGuid().ToString("N"));
        var journal = new IncidentJournal(dir);
        const string id = "INC-20261130-080000-0002";
        await journal.AppendAsync(Declared(id), Ct);
        async Task Writer(string who)
        {
            var own = new IncidentJournal(dir); // as another process would: its own handle on the file
            for (var n = 0; n < 20; n++)
            {
                await own.AppendAsync(new IncidentEvent { Id = IncidentEvent.NewId(DateTimeOffset.UtcNow), IncidentId = id, Time = DateTimeOffset.UtcNow, Type = IncidentEventType.Note, Actor = who, Text = $"{who} {n}" }, Ct);
            }
        }
        await Task.WhenAll(Writer("a"), Writer("b"));
        var events = await journal.ReadAsync(id, Ct);
        Assert.Equal(41, events.Count);
        Assert.Equal(20, events.Count(e => e.Actor == "a"));
        Assert.Equal(20, events.Count(e => e.Actor == "b"));
        Assert.Equal([id], await journal.ListAsync(Ct));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_damaged_journal_or_an_unknown_id_says_so()
    {
        var dir = Path.Combine(Path.GetTempPath(), "opsrunbook-incidents-" + Guid.NewGuid().ToString("N"));
        var journal = new IncidentJournal(dir);
        await Assert.ThrowsAsync<IncidentNotFoundException>(() => journal.ReadAsync("INC-20261130-080000-0003", Ct));
        await Assert.ThrowsAsync<IncidentNotFoundException>(() => journal.AppendAsync(E("INC-20261130-080000-0003", IncidentEventType.Note, 1), Ct));
        Assert.Empty(await journal.ListAsync(Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => journal.ReadAsync("../../etc/passwd", Ct));
        await journal.AppendAsync(Declared("INC-20261130-080000-0004"), Ct);
        await File.AppendAllTextAsync(Path.Combine(dir, "INC-20261130-080000-0004.jsonl"), "{not json\n", Ct);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => journal.ReadAsync("INC-20261130-080000-0004", Ct));
        Assert.Contains(":2 is not an incident event", ex.Message);
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData("paintbox", "P1", 15)]
    [InlineData("paintbox", "P2", 30)]
    [InlineData("paintbox", "P3", 120)]
    [InlineData("paintbox", "P4", 1440)]
    [InlineData("formula-pm", "P0", 0)]
    [InlineData("formula-pm", "P1", 15)]
    [InlineData("formula-pm", "P2", 60)]
    [InlineData("cardmint", "P0", 15)]
    [InlineData("cardmint", "P1", 60)]
    [InlineData("cardmint", "P2", 240)]
    [InlineData("sentia", "P0", 15)]
    [InlineData("sentia", "P1", 60)]
    [InlineData("sentia", "P2", 240)]
    [InlineData("sentia", "P3", 1440)]
    public void Profiles_carry_the_runbooks_response_times(string profile, string severity, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), IncidentProfile.Get(profile).Level(severity).ResponseTime);

    [Fact]
    public void An_unknown_level_names_the_profiles_levels()
    {
        var ex = Assert.Throws<ArgumentException>(() => IncidentProfile.Get("cardmint").Level("P4"));
        Assert.Contains("P0, P1, P2", ex.Message);
    }

    [Fact]
    public void The_post_mortem_draft_has_the_sre_template_and_marks_what_is_unknown()
    {
        const string id = "INC-20261130-080000-0005";
        var events = new List<IncidentEvent>
        {
            Declared(id),
            E(id, IncidentEventType.Result, 1) with { Kind = "Health checks", Subject = "api", Status = "Unhealthy", Text = "HTTP 503 | <b>" },
            E(id, IncidentEventType.Field, 20) with { Name = "Impact", Text = "Checkout down for 42 minutes" },
            E(id, IncidentEventType.ActionItem, 30) with { Text = "Alert on pool saturation", Person = "lee" },
            E(id, IncidentEventType.Resolved, 42) with { Text = "Rolled back to v41" },
        };
        var md = IncidentReport.Markdown(Incident.Fold(events, T0.AddHours(1)));
        foreach (var heading in new[] { "## Summary", "## Impact", "## Root Causes", "## Trigger", "## Resolution", "## Detection", "## Action Items", "## Lessons Learned", "### What went well", "### What went wrong", "### Where we got lucky", "## Timeline (UTC)" })
        {
            Assert.Contains(heading, md);
        }
        Assert.Contains("Checkout down for 42 minutes", md);
        Assert.Contains("| Alert on pool saturation | lee |", md);
        Assert.Contains("Rolled back to v41", md);
        Assert.Contains(IncidentReport.Unknown, md); // Root Causes, Trigger, Detection...
        Assert.Contains("| 2026-11-30 08:01:00 | Health checks: api Unhealthy — HTTP 503 \\| &lt;b&gt; | dana |", md); // cells cannot break the table or carry HTML
        var json = System.Text.Json.JsonDocument.Parse(IncidentReport.Json(Incident.Fold(events, T0.AddHours(1)))).RootElement;
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("sections").GetProperty("Trigger").ValueKind);
        Assert.Equal(5, json.GetProperty("timeline").GetArrayLength());
    }

    [Theory]
    [InlineData("paintbox", "P1", true)]   // "page on-call immediately"
    [InlineData("paintbox", "P3", false)]  // a ticket
    [InlineData("sentia", "P0", true)]     // on-call + Slack
    [InlineData("sentia", "P2", false)]    // Slack, then email
    [InlineData("cardmint", "P0", true)]   // all hands
    public void A_level_pages_at_once_only_where_its_runbook_says_so(string profile, string severity, bool pages) =>
        Assert.Equal(pages, IncidentProfile.Get(profile).Level(severity).PagesAtOnce);

    [Fact]
    public void The_notice_goes_to_chat_always_and_pages_only_a_paging_level()
    {
        var targets = new[]
        {
            new Notify.ResolvedTarget(Notify.NotificationChannel.Slack, "http://127.0.0.1:1/slack", "slack"),
            new Notify.ResolvedTarget(Notify.NotificationChannel.PagerDuty, "http://127.0.0.1:1/pd", "pd", RoutingKey: new string('k', 32)),
        };
        var p2 = Incident.Fold([Declared("INC-20261130-080000-0006", "P2")], T0);
        var quiet = IncidentNotice.Requests(p2, IncidentProfile.Get("sentia"), Notify.NotificationTemplate.IncidentAlert, new Dictionary<string, string>(), targets, "trigger");
        Assert.Equal([Notify.NotificationChannel.Slack], quiet.Select(r => r.Channel));
        var p0 = Incident.Fold([Declared("INC-20261130-080000-0007", "P0")], T0);
        var paged = IncidentNotice.Requests(p0, IncidentProfile.Get("sentia"), Notify.NotificationTemplate.IncidentAlert, new Dictionary<string, string>(), targets, "trigger");
        var page = Assert.Single(paged, r => r.Channel == Notify.NotificationChannel.PagerDuty);
        Assert.Equal("opsrunbook/incident/inc-20261130-080000-0007", page.Key);
        Assert.Contains("\"severity\":\"critical\"", page.Body);
        var resolve = IncidentNotice.Requests(p2, IncidentProfile.Get("sentia"), Notify.NotificationTemplate.IncidentResolved, new Dictionary<string, string>(), targets, "resolve");
        Assert.Contains(resolve, r => r.Channel == Notify.NotificationChannel.PagerDuty); // a resolve is always sent
    }
}
