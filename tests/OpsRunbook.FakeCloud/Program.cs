using System.Text.Json;
using OpsRunbook.Engine.Tests.Fakes;

// Usage: OpsRunbook.FakeCloud PORT SEED.json
//   SEED.json: { "accessKey": "...", "secretKey": "...", "secrets": { "name": "value", ... } } — read once, then deleted
//   is up to the caller (tests/servers.sh keeps it mode 600 in the servers folder). Runs until killed.
if (args.Length != 2 || !int.TryParse(args[0], out var port))
{
    Console.Error.WriteLine("usage: OpsRunbook.FakeCloud PORT SEED.json");
    return 2;
}
using var seed = JsonDocument.Parse(File.ReadAllText(args[1]));
var root = seed.RootElement;
await using var sm = await FakeSecretsManager.StartAsync(port, root.GetProperty("accessKey").GetString()!, root.GetProperty("secretKey").GetString()!);
sm.EmptyFirstPage = false;
foreach (var secret in root.GetProperty("secrets").EnumerateObject())
{
    var days = secret.Name.EndsWith("/jwt", StringComparison.Ordinal) ? 90 : 30;
    sm.Add(secret.Name, secret.Value.GetString()!, new Dictionary<string, string> { ["opsrunbook:rotation-days"] = days.ToString(System.Globalization.CultureInfo.InvariantCulture) }, rotationDays: null);
}
Console.WriteLine($"fake Secrets Manager on {sm.Endpoint} with {root.GetProperty("secrets").EnumerateObject().Count()} secrets");
var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
return 0;
