using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OpsRunbook.Engine.Common;
using OpsRunbook.Engine.Notify;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Notifications against the protocol fakes of Slack, Teams, PagerDuty and a Standard Webhooks receiver.</summary>
public class NotificationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly HttpClient Http = new();

    private static NotificationItem Item(string subject, NotificationTone tone, string status, string reason = "", string env = "production") =>
        new("Health checks", subject, tone, status, reason, env, "paintbox");

    /// <summary>A sender whose waits are recorded, not slept (and 30 s is the longest Retry-After it honours).</summary>
    private static (NotificationSender Sender, List<TimeSpan> Waits) Recording(TimeSpan? timeout = null)
    {
        var waits = new List<TimeSpan>();
        return (new NotificationSender(Http, new SecretRedactor()) { Delay = (t, _) => { lock (waits) waits.Add(t); return Task.CompletedTask; }, Timeout = timeout ?? TimeSpan.FromSeconds(15) }, waits);
    }

    private static NotificationRequest Request(NotificationChannel channel, string url, JsonObject body, bool idempotent = false, string? secret = null, string? key = null) =>
        new(channel, url, channel + " (test)", body.ToJsonString(), idempotent, "test", 1, "production", key, secret);

    [Fact]
    public void A_long_run_fits_slack_limits_with_a_visible_marker()
    {
        var items = Enumerable.Range(0, 1500).Select(i => Item($"target-{i:0000}", NotificationTone.Critical, "Unhealthy", new string('x', 120) + " <!channel> & <https://evil|click>")).ToList();
        var message = MessageComposer.FromItems(items).Single();
        var payload = Payloads.Slack(message);
        var blocks = payload["blocks"]!.AsArray();
        Assert.True(blocks.Count <= Payloads.SlackBlocks, $"{blocks.Count} blocks");
        Assert.All(blocks.Where(b => b!["type"]!.GetValue<string>() == "section"), b => Assert.True((b!["text"]?["text"]?.GetValue<string>().Length ?? 0) <= 3000));
        var all = string.Join("\n", blocks.Select(b => b!["text"]?["text"]?.GetValue<string>() ?? ""));
        Assert.Contains("more lines (truncated", all);
        Assert.DoesNotContain("<!channel>", all); // escaped: a server's reason cannot page a channel
        Assert.Contains("&lt;!channel&gt;", all);
        Assert.Equal("🔴 Health checks: 1500 failing in production", blocks[0]!["text"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Slack_takes_the_message_and_the_sender_paces_a_second_one()
    {
        await using var fake = await FakeNotify.StartAsync();
        var sender = new NotificationSender(Http, new SecretRedactor());
        var message = MessageComposer.FromItems([Item("api", NotificationTone.Critical, "Unhealthy", "503")]).Single();
        var first = await sender.SendAsync(Request(NotificationChannel.Slack, fake.SlackUrl, Payloads.Slack(message)), Ct);
        var second = await sender.SendAsync(Request(NotificationChannel.Slack, fake.SlackUrl, Payloads.Slack(message)), Ct);
        Assert.Equal(NotificationStatus.Sent, first.Status);
        Assert.Equal(NotificationStatus.Sent, second.Status); // the fake answers 429 to a second message within 900 ms
        Assert.True(second.Waited > TimeSpan.FromMilliseconds(500), $"waited {second.Waited}");
        Assert.Equal(2, fake.Delivered.Count(d => d.Service == "slack"));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("date")]
    public async Task A_429_waits_what_retry_after_says_then_sends(string retryAfter)
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Throttle("pagerduty", 1, retryAfter == "date" ? DateTimeOffset.UtcNow.AddSeconds(3).ToString("R") : retryAfter);
        var (sender, waits) = Recording();
        var item = Item("api", NotificationTone.Critical, "Unhealthy");
        var r = await sender.SendAsync(Request(NotificationChannel.PagerDuty, fake.PagerDutyEndpoint + "/v2/enqueue", Payloads.PagerDutyEvent(item, "trigger", FakeNotify.RoutingKey), idempotent: true), Ct);
        Assert.Equal(NotificationStatus.Accepted, r.Status);
        Assert.Equal(2, r.Attempts);
        var wait = Assert.Single(waits, w => w > TimeSpan.FromSeconds(1));
        Assert.InRange(wait.TotalSeconds, 1, 3.5);
        Assert.True(fake.OpenAlerts.ContainsKey(Payloads.DedupKey(item)));
    }

    [Fact]
    public async Task A_retry_after_longer_than_a_send_waits_is_throttled_at_once()
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Throttle("teams", 1, "120");
        var (sender, waits) = Recording();
        var r = await sender.SendAsync(Request(NotificationChannel.Teams, fake.TeamsUrl, Payloads.Teams(MessageComposer.FromItems([Item("api", NotificationTone.Warning, "Degraded")]).Single())), Ct);
        Assert.Equal(NotificationStatus.Throttled, r.Status);
        Assert.Equal(1, r.Attempts);
        Assert.Contains("Retry-After 120 s", r.Reason);
        Assert.DoesNotContain(waits, w => w > TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_rejected_message_is_data_and_never_retried()
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Fail("slack", 410, "channel_is_archived", count: 5);
        var (sender, _) = Recording();
        var r = await sender.SendAsync(Request(NotificationChannel.Slack, fake.SlackUrl, new JsonObject { ["text"] = "x" }), Ct);
        Assert.Equal(NotificationStatus.Rejected, r.Status);
        Assert.Equal(1, r.Attempts);
        Assert.Equal(410, r.StatusCode);
        Assert.Contains("channel_is_archived", r.Reason);
        Assert.Contains("make a new one", r.Reason);
    }

    [Fact]
    public async Task An_answer_lost_after_the_body_went_out_is_not_sent_twice_to_slack()
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Stall("slack", TimeSpan.FromSeconds(3));
        var (sender, _) = Recording(TimeSpan.FromMilliseconds(500));
        var r = await sender.SendAsync(Request(NotificationChannel.Slack, fake.SlackUrl, new JsonObject { ["text"] = "once" }), Ct);
        Assert.Equal(NotificationStatus.Failed, r.Status);
        Assert.Equal(1, r.Attempts);
        Assert.Contains("may have arrived", r.Reason);
        await Task.Delay(3500, Ct); // let the stalled answer finish
        Assert.Single(fake.Delivered, d => d.Service == "slack");
    }

    [Fact]
    public async Task A_signed_webhook_is_retried_with_the_same_id_and_the_receiver_keeps_one()
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Stall("webhook", TimeSpan.FromSeconds(2));
        var (sender, _) = Recording(TimeSpan.FromMilliseconds(400));
        var message = MessageComposer.FromItems([Item("api", NotificationTone.Critical, "Unhealthy")]).Single();
        var task = sender.SendAsync(Request(NotificationChannel.Webhook, fake.WebhookUrl(), Payloads.Webhook(message), idempotent: true, secret: FakeNotify.WebhookSecret), Ct);
        await Task.Delay(1000, Ct);
        fake.Stall("webhook", TimeSpan.Zero);
        var r = await task;
        Assert.Equal(NotificationStatus.Sent, r.Status);
        Assert.True(r.Attempts >= 2, $"{r.Attempts} attempts");
        await Task.Delay(2500, Ct);
        var id = Assert.Single(fake.WebhookIds).Key; // every attempt carried one webhook-id, verified by the StandardWebhooks library
        Assert.Equal(r.Key, id);
        Assert.Single(fake.Delivered, d => d.Service == "webhook");
        Assert.All(fake.Log.Where(l => l.Service == "webhook"), l => Assert.NotEqual(401, l.Status));
    }

    [Fact]
    public async Task A_wrong_signing_secret_is_refused_by_the_receiver()
    {
        await using var fake = await FakeNotify.StartAsync();
        var (sender, _) = Recording();
        var r = await sender.SendAsync(Request(NotificationChannel.Webhook, fake.WebhookUrl(), new JsonObject { ["type"] = "t" }, idempotent: true, secret: "whsec_" + Convert.ToBase64String(new byte[24])), Ct);
        Assert.Equal(NotificationStatus.Rejected, r.Status);
        Assert.Equal(401, r.StatusCode);
    }

    [Fact]
    public async Task A_connection_that_was_never_made_is_retried_and_then_fails()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var (sender, waits) = Recording();
        var r = await sender.SendAsync(Request(NotificationChannel.Slack, $"http://127.0.0.1:{port}/services/T/B/secretpart", new JsonObject { ["text"] = "x" }), Ct);
        Assert.Equal(NotificationStatus.Failed, r.Status);
        Assert.Equal(4, r.Attempts);
        Assert.Contains("could not connect", r.Reason);
        Assert.DoesNotContain("secretpart", r.Reason);
    }

    [Fact]
    public async Task PagerDuty_opens_and_resolves_by_a_stable_key_and_refuses_a_bad_routing_key_once()
    {
        await using var fake = await FakeNotify.StartAsync();
        var (sender, _) = Recording();
        var broken = Item("api", NotificationTone.Critical, "Unhealthy", "HTTP 503");
        var trigger = await sender.SendAsync(Request(NotificationChannel.PagerDuty, fake.PagerDutyEndpoint + "/v2/enqueue", Payloads.PagerDutyEvent(broken, "trigger", FakeNotify.RoutingKey), true), Ct);
        Assert.Equal(NotificationStatus.Accepted, trigger.Status);
        Assert.Equal("opsrunbook/paintbox/production/health checks/api", Assert.Single(fake.OpenAlerts).Key);
        var again = Item("api", NotificationTone.Critical, "Unhealthy", "HTTP 502 now");
        Assert.Equal(Payloads.DedupKey(broken), Payloads.DedupKey(again)); // the reason and the run are not in the key
        var resolve = await sender.SendAsync(Request(NotificationChannel.PagerDuty, fake.PagerDutyEndpoint + "/v2/enqueue", Payloads.PagerDutyEvent(broken with { Tone = NotificationTone.Good }, "resolve", FakeNotify.RoutingKey), true), Ct);
        Assert.Equal(NotificationStatus.Accepted, resolve.Status);
        Assert.Empty(fake.OpenAlerts);
        var bad = await sender.SendAsync(Request(NotificationChannel.PagerDuty, fake.PagerDutyEndpoint + "/v2/enqueue", Payloads.PagerDutyEvent(broken, "trigger", "short"), true), Ct);
        Assert.Equal(NotificationStatus.Rejected, bad.Status);
        Assert.Equal(1, bad.Attempts);
        Assert.Contains("routing_key", bad.Reason);
        var longKey = Payloads.DedupKey(Item(new string('a', 400), NotificationTone.Critical, "Unhealthy"));
        Assert.Equal(255, longKey.Length);
    }

    [Fact]
    public async Task A_server_error_is_backed_off_for_pagerduty_but_not_repeated_to_slack()
    {
        await using var fake = await FakeNotify.StartAsync();
        fake.Fail("pagerduty", 500, "{}", count: 2);
        fake.Fail("slack", 500, "rollup_error", count: 1);
        var (sender, _) = Recording();
        var pd = await sender.SendAsync(Request(NotificationChannel.PagerDuty, fake.PagerDutyEndpoint + "/v2/enqueue", Payloads.PagerDutyEvent(Item("api", NotificationTone.Critical, "Unhealthy"), "trigger", FakeNotify.RoutingKey), true), Ct);
        Assert.Equal(NotificationStatus.Accepted, pd.Status);
        Assert.Equal(3, pd.Attempts);
        var slack = await sender.SendAsync(Request(NotificationChannel.Slack, fake.SlackUrl, new JsonObject { ["text"] = "x" }), Ct);
        Assert.Equal(NotificationStatus.Failed, slack.Status);
        Assert.Equal(1, slack.Attempts);
    }

    [Fact]
    public async Task A_teams_card_over_28_kb_is_cut_to_fit_and_accepted()
    {
        await using var fake = await FakeNotify.StartAsync();
        var items = Enumerable.Range(0, 300).Select(i => Item($"check-{i}", NotificationTone.Warning, "Degraded", new string('y', 200))).ToList();
        var payload = Payloads.Teams(MessageComposer.FromItems(items).Single());
        Assert.True(Encoding.UTF8.GetByteCount(payload.ToJsonString()) <= Payloads.TeamsBytes);
        Assert.Contains("truncated: Teams takes at most 28 KB", payload.ToJsonString());
        var r = await new NotificationSender(Http, new SecretRedactor()).SendAsync(Request(NotificationChannel.Teams, fake.TeamsUrl, payload), Ct);
        Assert.Equal(NotificationStatus.Accepted, r.Status);
        Assert.Contains("does not report whether it was posted", r.Reason);
    }

    [Fact]
    public void The_runbook_templates_have_their_fields_in_order()
    {
        var alert = MessageComposer.FromTemplate(NotificationTemplate.IncidentAlert, new Dictionary<string, string> { ["severity"] = "P1", ["impact"] = "Checkout down", ["Region"] = "iad" }, "production", "sentia");
        Assert.Equal(["Severity", "Status", "Impact", "ETA", "Lead", "Region"], alert.Fields.Select(f => f.Key));
        Assert.Equal(["P1", "Investigating", "Checkout down", "Investigating", "TBD", "iad"], alert.Fields.Select(f => f.Value));
        Assert.StartsWith("🚨 INCIDENT ALERT", alert.Title);
        var resolved = MessageComposer.FromTemplate(NotificationTemplate.IncidentResolved, new Dictionary<string, string> { ["RootCause"] = "bad deploy" }, null, null);
        Assert.Equal("bad deploy", resolved.Fields.Single(f => f.Key == "Root Cause").Value);
    }

    [Fact]
    public async Task Only_transitions_pass_the_change_gate_and_overlapping_runs_send_once()
    {
        var path = Path.Combine(Path.GetTempPath(), $"opsrunbook-gate-{Guid.NewGuid():N}", "state.json");
        var bad = Item("api", NotificationTone.Critical, "Unhealthy");
        var good = bad with { Tone = NotificationTone.Good, Status = "Healthy" };
        var sends = 0;
        async Task Run(NotificationItem item)
        {
            await using var gate = await ChangeGate.OpenAsync(path, TimeSpan.FromSeconds(10), Ct);
            var changes = gate.Changes([item]);
            if (changes.Count > 0) Interlocked.Increment(ref sends);
            await Task.Delay(50, Ct);
            gate.Record([item], DateTimeOffset.UtcNow);
        }
        await Task.WhenAll(Run(bad), Run(bad), Run(bad));
        Assert.Equal(1, sends); // three overlapping runs found it broken: one message
        await Run(bad);
        Assert.Equal(1, sends); // still broken: nothing new
        await Run(good);
        Assert.Equal(2, sends); // recovered: one message
        await Run(good);
        Assert.Equal(2, sends);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    private static OperationContext S3Context(FakeConditionalS3 s3)
    {
        var redactor = new SecretRedactor();
        var keys = new Dictionary<string, string> { ["T_S3_KEY"] = "AKIDFAKE", ["T_S3_SECRET"] = "fake-secret" };
        return new OperationContext(new SecretResolver(redactor, environment: keys.GetValueOrDefault), redactor)
        {
            Aws = new Clients.Aws.AwsSettings
            {
                Region = "us-east-1", S3Endpoint = s3.Endpoint,
                AccessKeyId = SecretValue.Parse("env:T_S3_KEY"), SecretAccessKey = SecretValue.Parse("env:T_S3_SECRET"),
            },
            Cancellation = Ct,
        };
    }

    [Fact]
    public async Task S3_state_takes_a_conditional_lease_so_overlapping_runs_on_different_machines_send_once()
    {
        await using var s3 = await FakeConditionalS3.StartAsync();
        var context = S3Context(s3);
        var bad = Item("api", NotificationTone.Critical, "Unhealthy");
        var sends = 0;
        async Task Run(NotificationItem item)
        {
            await using var gate = await S3ChangeGate.OpenAsync("s3://ops-state/notify/state.json", context, TimeSpan.FromSeconds(30));
            if (gate.Changes([item]).Count > 0) Interlocked.Increment(ref sends);
            await Task.Delay(100, Ct);
            gate.Record([item], DateTimeOffset.UtcNow);
        }
        await Task.WhenAll(Run(bad), Run(bad), Run(bad));
        Assert.Equal(1, sends);
        Assert.Contains(s3.Log, l => l.Method == "PUT" && l.Key.EndsWith(".lock") && l.Status == 412); // a run found the lease taken
        Assert.False(s3.Objects.ContainsKey("ops-state/notify/state.json.lock")); // released
        await Run(bad with { Tone = NotificationTone.Good, Status = "Healthy" });
        Assert.Equal(2, sends);
    }

    [Fact]
    public async Task A_lease_left_by_a_run_that_died_is_taken_over_once_expired_and_whatif_takes_none()
    {
        await using var s3 = await FakeConditionalS3.StartAsync();
        var stale = System.Text.Encoding.UTF8.GetBytes($$"""{"expires":"{{DateTimeOffset.UtcNow.AddMinutes(-5):O}}","host":"dead"}""");
        s3.Objects["ops-state/s.json.lock"] = (stale, "\"" + Convert.ToHexString(System.Security.Cryptography.MD5.HashData(stale)).ToLowerInvariant() + "\"");
        var context = S3Context(s3);
        await using (var gate = await S3ChangeGate.OpenAsync("s3://ops-state/s.json", context, TimeSpan.FromSeconds(10)))
        {
            gate.Record([Item("api", NotificationTone.Critical, "Unhealthy")], DateTimeOffset.UtcNow);
        }
        Assert.True(s3.Objects.ContainsKey("ops-state/s.json"));
        Assert.False(s3.Objects.ContainsKey("ops-state/s.json.lock"));
        var writes = s3.Log.Count(l => l.Method is "PUT" or "DELETE");
        await using (var preview = await S3ChangeGate.OpenAsync("s3://ops-state/s.json", context, TimeSpan.FromSeconds(10), readOnly: true))
        {
            Assert.Empty(preview.Changes([Item("api", NotificationTone.Critical, "Unhealthy")])); // read: it was already known
        }
        Assert.Equal(writes, s3.Log.Count(l => l.Method is "PUT" or "DELETE"));
    }
}
