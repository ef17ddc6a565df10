using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

// usage: OpsRunbook.Demo CONFIG_PATH ENVIRONMENT
// Prints each result as it completes, then the summary; exits 0 when the environment is Healthy, 1 otherwise.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: OpsRunbook.Demo CONFIG_PATH ENVIRONMENT");
    return 2;
}
try
{
    var config = RunbookConfigLoader.Load(args[0]);
    var targets = config.GetEnvironment(args[1]).GetHealthCheckTargets();
    using var session = new HealthCheckSession(new HealthCheckOptions(), new SecretResolver());
    var results = new List<HealthCheckResult>();
    Console.WriteLine($"{"Status",-9} {"Environment",-12} {"Name",-18} {"Kind",-8} {"LatencyMs",9} Reason");
    Console.WriteLine($"{"------",-9} {"-----------",-12} {"----",-18} {"----",-8} {"---------",9} ------");
    await foreach (var r in session.RunAsync(targets))
    {
        results.Add(r);
        Console.WriteLine($"{r.Status,-9} {r.Environment,-12} {r.Name,-18} {r.Kind,-8} {Math.Round(r.LatencyMs),9} {r.Reason}");
    }
    var report = HealthReport.From(results, session.Elapsed, DateTimeOffset.UtcNow);
    Console.WriteLine();
    Console.WriteLine($"{report.Environment}: {report} in {report.TotalDuration.TotalMilliseconds:0} ms");
    return report.Status == HealthStatus.Healthy ? 0 : 1;
}
catch (RunbookConfigException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
