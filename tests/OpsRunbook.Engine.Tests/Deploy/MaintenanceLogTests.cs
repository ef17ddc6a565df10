using OpsRunbook.Engine.Deploy;

namespace OpsRunbook.Engine.Tests;

/// <summary>Maintenance windows as recorded in a folder: one object per change, the window is the last start and what ended it.</summary>
public sealed class MaintenanceLogTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opsrunbook-maintenance-").FullName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static MaintenanceEvent Event(string type, DateTimeOffset at, DateTimeOffset? until = null, string env = "production", string? reason = null) =>
        new() { Id = MaintenanceLog.NewId(at), Type = type, System = "shop", Environment = env, Time = at, Until = until, Reason = reason };

    [Fact]
    public async Task The_window_is_the_last_start_and_the_end_after_it_per_environment()
    {
        var t0 = DateTimeOffset.UtcNow.AddHours(-5);
        using var log = await MaintenanceLog.OpenAsync(_dir, new OperationContext(new Secrets.SecretResolver(), new Secrets.SecretRedactor()));
        Assert.Null(await log.LastWindowAsync("shop", "production", Ct));
        await log.AppendAsync(Event("Started", t0, reason: "first"), Ct);
        await log.AppendAsync(Event("Ended", t0.AddHours(1)), Ct);
        await log.AppendAsync(Event("Started", t0.AddHours(2), reason: "second"), Ct);
        await log.AppendAsync(Event("Started", t0.AddHours(4), reason: "staging", env: "staging"), Ct);
        var window = (await log.LastWindowAsync("shop", "production", Ct))!;
        Assert.Equal(("second", null, true), (window.Reason, window.EndedAt, window.Active));
        Assert.True(window.IsActiveAt(t0.AddHours(3)));
        Assert.False(window.IsActiveAt(t0.AddHours(1.5)));
        await log.AppendAsync(Event("Ended", t0.AddHours(4.5)), Ct);
        window = (await log.LastWindowAsync("shop", "production", Ct))!;
        Assert.False(window.Active);
        Assert.Equal(TimeSpan.FromHours(2.5), window.Duration);
        Assert.True((await log.LastWindowAsync("shop", "staging", Ct))!.Active);
        Assert.Equal(5, Directory.GetFiles(_dir, "*.json", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public void A_window_with_a_duration_ends_by_itself()
    {
        var start = DateTimeOffset.UtcNow.AddHours(-3);
        var window = MaintenanceLog.Window([Event("Started", start, until: start.AddHours(2))], null)!;
        Assert.False(window.Active);
        Assert.True(window.IsActiveAt(start.AddHours(1)));
        Assert.Equal(TimeSpan.FromHours(2), window.Duration);
        Assert.Equal(Reporting.ReportOutcome.Info, Assert.Single(window.ToReportRows()).Outcome);
    }
}
