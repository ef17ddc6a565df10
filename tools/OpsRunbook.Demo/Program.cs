using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

// usage: OpsRunbook.Demo CONFIG_PATH ENVIRONMENT
// Runbook 001's daily health check through the Engine, as examples/daily-health-check.ps1 does with the cmdlets:
// service status, host resources, thresholds, report. Exits 0 when nothing fails, 1 otherwise.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: OpsRunbook.Demo CONFIG_PATH ENVIRONMENT");
    return 2;
}
try
{
    var config = RunbookConfigLoader.Load(args[0]);
    var env = config.GetEnvironment(args[1]);
    var secrets = new SecretResolver();
    if (env.Aws is not null) secrets.UseAws(env.Aws);

    Console.WriteLine($"=== {env.Name} daily health check - {DateTimeOffset.Now:yyyy-MM-dd HH:mm} ===");
    Console.WriteLine("Checking service status...");
    using var session = new HealthCheckSession(new HealthCheckOptions { FailureThreshold = 3, RetryDelay = TimeSpan.FromMilliseconds(500) }, secrets);
    var results = new List<HealthCheckResult>();
    Console.WriteLine($"{"Status",-9} {"Name",-18} {"Kind",-14} {"LatencyMs",9} Reason");
    await foreach (var r in session.RunAsync(env.GetHealthCheckTargets()))
    {
        results.Add(r);
        Console.WriteLine($"{r.Status,-9} {r.Name,-18} {r.Kind,-14} {Math.Round(r.LatencyMs),9} {r.Reason}");
    }
    var summary = HealthReport.From(results, session.Elapsed, DateTimeOffset.UtcNow);

    Console.WriteLine();
    Console.WriteLine("Checking disk and memory usage...");
    var host = await HostResourceReader.ReadAsync(TimeSpan.FromMilliseconds(500), env.Name, CancellationToken.None);
    Console.WriteLine($"{host.Host}: CPU {host.CpuPercent}%, memory {host.MemoryPercent}%, load {host.Load1}; disks: " +
        string.Join(", ", host.Disks.Select(d => $"{d.Mount} {d.Percent}%")));

    Console.WriteLine();
    Console.WriteLine($"Comparing with the thresholds ({env.GetThresholdProfile().Description})...");
    var alerts = ThresholdEvaluator.Evaluate(results.SelectMany(ThresholdEvaluator.Observe).Concat(host.Observations()), env.GetThresholdProfile()).ToList();
    foreach (var a in alerts.Where(a => a.Severity != AlertSeverity.Normal)) Console.WriteLine($"  {a.Severity}: {a.Message}");
    Console.WriteLine($"  {alerts.Count} values compared, {alerts.Count(a => a.Severity != AlertSeverity.Normal)} past a level");

    var writer = new ReportWriter();
    foreach (var item in results.Cast<object>().Append(summary).Append(host).Concat(alerts)) writer.Add(item);
    var report = writer.Write(ReportFormat.Markdown, $"{env.Name} daily health check", DateTimeOffset.UtcNow);
    Console.WriteLine();
    Console.WriteLine($"Overall: {summary.Status}; report: {report.Failed} failing, {report.Warnings} warning, {report.Passed} passing");
    Console.WriteLine("=== Health check complete ===");
    return report.Failed == 0 ? 0 : 1;
}
catch (RunbookConfigException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
