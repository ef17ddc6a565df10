using System.Text.Json;
using OpsRunbook.Engine.Tests.Fakes;

// Usage: OpsRunbook.FakeCloud PORT SEED.json
//   SEED.json: { "accessKey": "...", "secretKey": "...", "secrets": { "name": "value", ... },
//                "fly": { "port": N, "app": "...", "token": "..." },
//                "flyPostgres": { "app": "...", "proxy": { "port": N, "primaryPort": N, "replicaPort": N }, "onKill": "shell command" }, "sts": { "port": N }, "notify": { "port": N }, "conditionalS3": { "port": N },
//                "railway": { "port": N, "token": "..." }, "kubernetes": { "port": N }, "docker": { "port": N },
//                "tls": { "caPath": "...", "ports": { "days60": N, "days15": N, "days5": N, "wrongName": N, "selfSigned": N } } }
//   (tests/servers.sh writes it, mode 600)
//   Serves the fake Secrets Manager on PORT and, with "fly", the fake Fly.io Machines + GraphQL APIs on fly.port with
//   an app of two machines on release 3 (releases 1-3; 2 failed). Runs until killed.
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
FakeFly? fly = null;
if (root.TryGetProperty("fly", out var f))
{
    fly = await FakeFly.StartAsync(f.GetProperty("app").GetString()!, f.GetProperty("token").GetString()!, f.GetProperty("port").GetInt32());
    var app = fly.App;
    fly.AddRelease(1, $"registry.fly.io/{app}:v1", createdAt: "2026-11-18T09:00:00Z");
    fly.AddRelease(2, $"registry.fly.io/{app}:v2", "failed", "2026-11-19T09:00:00Z");
    fly.AddRelease(3, $"registry.fly.io/{app}:v3", createdAt: "2026-11-20T09:00:00Z");
    fly.AddMachine("148e21ea7d0e89", $"registry.fly.io/{app}:v3", "iad", 3);
    fly.AddMachine("3d8d9e6b2e1d28", $"registry.fly.io/{app}:v3", "lhr", 3);
    // The app's log buffer: the last ten minutes of a small web app (JSON lines from one machine, plain from the other).
    var now = DateTimeOffset.UtcNow;
    for (var i = 0; i < 60; i++)
    {
        var at = now.AddSeconds(-600 + i * 10);
        var json = i % 2 == 0;
        var (machine, region) = json ? ("148e21ea7d0e89", "iad") : ("3d8d9e6b2e1d28", "lhr");
        var message = (i % 15, json) switch
        {
            (7, true) or (8, true) => $$"""{"level":"error","msg":"DatabaseTimeout: query on orders timed out after {{5000 + i}} ms","error_type":"DatabaseTimeout"}""",
            (7, false) or (8, false) => $"ERROR ConnectionRefused: connect to redis-1:6379 refused attempt {1 + i % 3}",
            (11, _) => $"level=warn msg=\"login failed for user{i}\" ip=203.0.113.{i % 5 + 1}",
            (_, true) => $$"""{"level":"info","msg":"GET /api/orders/{{i}} 200","response_time_ms":{{40 + i}}}""",
            _ => $"INFO GET /api/products/{i} 200 response_time={30 + i}ms",
        };
        fly.AddLog(at, message, "info", machine, region);
    }
    Console.WriteLine($"fake Fly.io on {fly.MachinesApi} and {fly.GraphQl} (app {app})");
}
// A Fly Postgres cluster app on the same Machines API (Test-DatabaseFailover on Fly): a primary and a replica in iad and
// a replica in lhr, with postgres-flex's role checks. With "proxy" (an address that follows the primary, Fly's port
// 5432, in front of a tests/pg-pair.sh pair) and "onKill" (a shell command that kills the pair's primary and promotes
// its replica, as repmgr would), killing the primary machine fails the cluster over for real.
FakeFly? flyDb = null;
TcpProxy? flyDbProxy = null;
if (fly is not null && root.TryGetProperty("flyPostgres", out var fp))
{
    flyDb = await FakeFly.StartAsync(fp.GetProperty("app").GetString()!, fly.Token);
    flyDb.AddPostgresMachine("5683d920b1558e", "iad", "primary");
    flyDb.AddPostgresMachine("e2865013a63d86", "iad", "replica");
    flyDb.AddPostgresMachine("91852e1c7d3e08", "lhr", "replica");
    fly.Serve(flyDb);
    if (fp.TryGetProperty("proxy", out var px))
    {
        flyDbProxy = new TcpProxy(px.GetProperty("primaryPort").GetInt32(), px.GetProperty("port").GetInt32());
        var replicaPort = px.GetProperty("replicaPort").GetInt32();
        var onKill = fp.GetProperty("onKill").GetString()!;
        flyDb.FailOverOnKill("5683d920b1558e", "e2865013a63d86", async () =>
        {
            var shell = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", ["-c", onKill]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var errors = await shell.StandardError.ReadToEndAsync();
            await shell.WaitForExitAsync();
            if (shell.ExitCode != 0) Console.Error.WriteLine($"onKill exited {shell.ExitCode}: {errors}");
            flyDbProxy.Retarget(replicaPort);
        });
    }
    Console.WriteLine($"fake Fly Postgres cluster app {flyDb.App}{(flyDbProxy is null ? "" : $", its primary's address on 127.0.0.1:{flyDbProxy.Port}")}");
}
// Railway's GraphQL API (project proj-1, service svc-1, environment env-1) with a successful deployment's last ten
// minutes of logs and request logs, and a Kubernetes API server (Deployment shop/app, two pods with an app container
// and a proxy sidecar) for the real kubectl: Get-DeploymentLog against both in the real pwsh.
FakeRailway? railway = null;
if (root.TryGetProperty("railway", out var rw))
{
    railway = await FakeRailway.StartAsync(token: rw.GetProperty("token").GetString()!, port: rw.GetProperty("port").GetInt32());
    railway.AddDeployment("REMOVED", true, "registry.railway.app/web:v1", 120);
    var current = railway.AddDeployment("SUCCESS", true, "registry.railway.app/web:v2", 30);
    railway.AddDeployment("FAILED", false, "registry.railway.app/web:v3", 5);
    var now = DateTimeOffset.UtcNow;
    for (var i = 0; i < 40; i++)
    {
        var at = now.AddSeconds(-600 + i * 15);
        if (i % 10 == 3) railway.AddLog(current, at, $"DatabaseTimeout: query on orders timed out after {5000 + i} ms", "error", ("level", "\"error\""), ("service", "\"orders\""));
        else if (i % 10 == 7) railway.AddLog(current, at, $$"""{"level":"warn","msg":"login failed for user{{i}}","ip":"203.0.113.{{i % 4 + 1}}"}""");
        else railway.AddLog(current, at, $"GET /api/orders/{i} 200", "info", ("level", "\"info\""), ("took_ms", (40 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        railway.AddHttpLog(current, at, i % 5 == 0 ? "POST" : "GET", i % 5 == 0 ? "/api/checkout" : $"/api/orders/{i}", i % 10 == 3 ? 503 : 200, i % 10 == 3 ? 30000 + i : 80 + i);
    }
    Console.WriteLine($"fake Railway on {railway.Api}");
}
FakeKubernetes? kubernetes = null;
if (root.TryGetProperty("kubernetes", out var kube))
{
    kubernetes = await FakeKubernetes.StartAsync(kube.GetProperty("port").GetInt32());
    kubernetes.Deploy("registry.example/app:v1", "deploy v1");
    kubernetes.Sidecar = "proxy";
    var now = DateTimeOffset.UtcNow;
    for (var i = 0; i < 20; i++)
    {
        var at = now.AddSeconds(-300 + i * 15);
        kubernetes.AddPodLog(FakeKubernetes.Name, at, i % 5 == 2 ? $$"""{"level":"error","msg":"ConnectionRefused: connect to redis-1:6379 refused attempt {{i}}"}""" : $"level=info msg=\"GET /api/orders/{i} 200\" took_ms={30 + i}");
        if (i % 4 == 0) kubernetes.AddPodLog("proxy", at.AddMilliseconds(500), $"[{at.AddMilliseconds(500):yyyy-MM-dd'T'HH:mm:ss.fff'Z'}] \"GET /api/orders/{i} HTTP/1.1\" 200");
    }
    Console.WriteLine($"fake Kubernetes API server on {kubernetes.Server}");
}
// A Docker Engine API for the real docker CLI (Get-/Clear-ContainerStorage): a host a week after a few deploys;
// POST /_fake/seed puts it back after a test pruned it.
FakeDocker? docker = null;
if (root.TryGetProperty("docker", out var dk))
{
    docker = await FakeDocker.StartAsync(dk.GetProperty("port").GetInt32());
    docker.Seed();
    Console.WriteLine($"fake Docker engine on {docker.Host}");
}
// TLS servers with certificates made for the certificate checks (Get-EndpointCertificate): from one private CA, a
// localhost certificate for 60, 15 and 5 days and one for another name; and a self-signed one no CA vouches for.
var tlsServers = new List<FakeHttpServer>();
TestCertificates? pki = null;
if (root.TryGetProperty("tls", out var tls))
{
    pki = new TestCertificates("localhost", 60);
    File.Copy(pki.CaPath, tls.GetProperty("caPath").GetString()!, overwrite: true);
    var ports = tls.GetProperty("ports");
    foreach (var (name, cert) in new[]
    {
        ("days60", pki.Server), ("days15", pki.Issue("localhost", 15)), ("days5", pki.Issue("localhost", 5)),
        ("wrongName", pki.Issue("wrong.example", 60)), ("selfSigned", TestCertificates.SelfSigned("localhost", 60)),
    })
    {
        tlsServers.Add(await FakeHttpServer.StartAsync((ctx, _) => Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(ctx.Response, "ok"), cert, ports.GetProperty(name).GetInt32()));
    }
    Console.WriteLine($"TLS servers with test certificates on ports {string.Join(", ", ports.EnumerateObject().Select(p => $"{p.Name} {p.Value}"))}");
}
// A fake STS and SSO portal (AssumeRoleWithWebIdentity, AssumeRole, GetRoleCredentials) handing out the fake Secrets
// Manager's keys: a web identity (GitHub OIDC), an assume-role or an SSO profile in the sandbox ends in requests that
// Secrets Manager verifies.
FakeAwsIdentity? sts = null;
if (root.TryGetProperty("sts", out var s))
{
    sts = await FakeAwsIdentity.StartAsync(root.GetProperty("accessKey").GetString()!, root.GetProperty("secretKey").GetString()!, "sandbox-session-token", s.GetProperty("port").GetInt32());
    Console.WriteLine($"fake STS/SSO on {sts.Endpoint}");
}
// Slack, Teams, PagerDuty and a Standard Webhooks receiver, for the sandbox's "notify" targets.
FakeNotify? notify = null;
if (root.TryGetProperty("notify", out var nf))
{
    notify = await FakeNotify.StartAsync(nf.GetProperty("port").GetInt32());
    Console.WriteLine($"fake Slack/Teams/PagerDuty/webhook on {notify.BaseUrl}");
}
// S3's conditional writes (If-None-Match / If-Match), which s3rver lacks, for -OnChange state in S3.
FakeConditionalS3? conditional = null;
if (root.TryGetProperty("conditionalS3", out var cs))
{
    conditional = await FakeConditionalS3.StartAsync(cs.GetProperty("port").GetInt32());
    Console.WriteLine($"fake conditional-write S3 on {conditional.Endpoint}");
}
// servers.sh stops it with SIGTERM. The fakes' web hosts take SIGTERM over (their console lifetime cancels the
// runtime's default exit), so ProcessExit never comes: listen for the signals ourselves.
var stop = new TaskCompletionSource();
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
await stop.Task;
if (fly is not null) await fly.DisposeAsync();
if (flyDb is not null) await flyDb.DisposeAsync();
if (flyDbProxy is not null) await flyDbProxy.DisposeAsync();
if (sts is not null) await sts.DisposeAsync();
if (notify is not null) await notify.DisposeAsync();
if (conditional is not null) await conditional.DisposeAsync();
if (railway is not null) await railway.DisposeAsync();
foreach (var server in tlsServers) await server.DisposeAsync();
pki?.Dispose();
if (kubernetes is not null) await kubernetes.DisposeAsync();
if (docker is not null) await docker.DisposeAsync();
return 0;
