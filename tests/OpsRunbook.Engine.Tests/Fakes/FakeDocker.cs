using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// A Docker Engine API (v1.50) for the real docker CLI (tests point it here with --host tcp://127.0.0.1:PORT): the
/// calls `docker system df` and the prune commands make, with the shapes of the CLI's vendored API types
/// (docker/cli v28.2.2: api/types DiskUsage, image.Summary, container.Summary, volume.Volume, build.CacheRecord and the
/// PruneReports) and the engine's prune rules: stopped containers; dangling images (no tag) or, with dangling=false,
/// every image no container uses; build cache not in use (internal and frontend records only with all); anonymous
/// volumes no container uses (all=true for named ones too); custom networks without containers; until= filters
/// (a Go duration or a Unix time) on the creation time. The CLI's client negotiates the version with HEAD /_ping first.
/// </summary>
public sealed partial class FakeDocker : IAsyncDisposable
{
    public sealed record Image(string Id, string[] Tags, long Size, long SharedSize, DateTimeOffset Created);
    public sealed record Container(string Id, string Name, string ImageId, string State, long SizeRw, DateTimeOffset Created, string[] Volumes);
    public sealed record Volume(string Name, bool Anonymous, long Size, DateTimeOffset Created);
    public sealed record CacheRecord(string Id, string Type, bool InUse, bool Shared, long Size, DateTimeOffset Created);
    public sealed record Network(string Name, bool Used, DateTimeOffset Created);

    private readonly object _gate = new();
    private FakeHttpServer _server = null!;

    public List<Image> Images { get; } = [];
    public List<Container> Containers { get; } = [];
    public List<Volume> Volumes { get; } = [];
    public List<CacheRecord> BuildCache { get; } = [];
    public List<Network> Networks { get; } = [];
    /// <summary>Every request as "METHOD /path?query" (the version prefix kept).</summary>
    public List<string> Requests { get; } = [];

    /// <summary>The docker --host value.</summary>
    public string Host => _server.BaseUrl.Replace("http://", "tcp://", StringComparison.Ordinal);

    public static async Task<FakeDocker> StartAsync(int port = 0)
    {
        var fake = new FakeDocker();
        fake._server = await FakeHttpServer.StartAsync((ctx, _) => fake.HandleAsync(ctx), port: port);
        return fake;
    }

    /// <summary>A small host a week after a few deploys: what the tests and the sandbox start from.</summary>
    public void Seed()
    {
        lock (_gate)
        {
            Images.Clear(); Containers.Clear(); Volumes.Clear(); BuildCache.Clear(); Networks.Clear();
            var now = DateTimeOffset.UtcNow;
            Images.Add(new Image("sha256:" + new string('a', 64), ["registry.example/app:v3"], 250_000_000, 80_000_000, now.AddDays(-1)));
            Images.Add(new Image("sha256:" + new string('b', 64), ["registry.example/app:v2"], 240_000_000, 80_000_000, now.AddDays(-8)));
            Images.Add(new Image("sha256:" + new string('c', 64), [], 230_000_000, 80_000_000, now.AddDays(-15)));
            Images.Add(new Image("sha256:" + new string('d', 64), ["postgres:15"], 400_000_000, 0, now.AddDays(-30)));
            Containers.Add(new Container(new string('1', 64), "shop-app-1", Images[0].Id, "running", 12_000_000, now.AddDays(-1), []));
            Containers.Add(new Container(new string('2', 64), "shop-db-1", Images[3].Id, "running", 3_000_000, now.AddDays(-30), ["shop_pgdata"]));
            Containers.Add(new Container(new string('3', 64), "shop-migrate-1", Images[1].Id, "exited", 5_000_000, now.AddDays(-8), []));
            Volumes.Add(new Volume("shop_pgdata", false, 900_000_000, now.AddDays(-30)));
            Volumes.Add(new Volume("old_cache", false, 50_000_000, now.AddDays(-60)));
            Volumes.Add(new Volume(new string('9', 64), true, 20_000_000, now.AddDays(-9)));
            BuildCache.Add(new CacheRecord("k1", "regular", false, false, 150_000_000, now.AddDays(-9)));
            BuildCache.Add(new CacheRecord("k2", "regular", true, false, 60_000_000, now.AddDays(-1)));
            BuildCache.Add(new CacheRecord("k3", "frontend", false, false, 10_000_000, now.AddDays(-9)));
            Networks.Add(new Network("shop_default", true, now.AddDays(-30)));
            Networks.Add(new Network("old_default", false, now.AddDays(-40)));
            Requests.Clear();
        }
    }

    private bool InUse(Image i) => Containers.Any(c => c.ImageId == i.Id);
    private int RefCount(Volume v) => Containers.Count(c => c.Volumes.Contains(v.Name));

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = VersionPrefix().Replace(ctx.Request.Path.Value ?? "", "");
        lock (_gate) Requests.Add($"{ctx.Request.Method} {ctx.Request.Path}{ctx.Request.QueryString}");
        ctx.Response.Headers["Api-Version"] = "1.50";
        ctx.Response.Headers["Ostype"] = "linux";
        ctx.Response.Headers["Docker-Experimental"] = "false";
        ctx.Response.Headers["Builder-Version"] = "2";
        ctx.Response.Headers["Server"] = "Docker/28.2.2 (linux)";
        if (path == "/_ping")
        {
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            if (ctx.Request.Method != "HEAD") await ctx.Response.WriteAsync("OK");
            return;
        }
        var filters = Filters(ctx.Request.Query["filters"].ToString());
        var cutoff = filters.TryGetValue("until", out var until) ? Until(until.Single()) : DateTimeOffset.MaxValue;
        JsonNode body;
        lock (_gate)
        {
            switch (ctx.Request.Method, path)
            {
                case ("GET", "/system/df"):
                    body = DiskUsage();
                    break;
                case ("POST", "/containers/prune"):
                {
                    var gone = Containers.Where(c => c.State is "exited" or "created" or "dead" && c.Created < cutoff).ToList();
                    Containers.RemoveAll(gone.Contains);
                    body = new JsonObject { ["ContainersDeleted"] = Array(gone.Select(c => c.Id)), ["SpaceReclaimed"] = gone.Sum(c => c.SizeRw) };
                    break;
                }
                case ("POST", "/images/prune"):
                {
                    var danglingOnly = !filters.TryGetValue("dangling", out var d) || d.Contains("true") || d.Contains("1");
                    var gone = Images.Where(i => !InUse(i) && (!danglingOnly || i.Tags.Length == 0) && i.Created < cutoff).ToList();
                    Images.RemoveAll(gone.Contains);
                    var deleted = new JsonArray();
                    foreach (var i in gone)
                    {
                        foreach (var tag in i.Tags) deleted.Add(new JsonObject { ["Untagged"] = tag });
                        deleted.Add(new JsonObject { ["Deleted"] = i.Id });
                    }
                    body = new JsonObject { ["ImagesDeleted"] = deleted, ["SpaceReclaimed"] = gone.Sum(i => i.Size - i.SharedSize) };
                    break;
                }
                case ("POST", "/build/prune"):
                {
                    var all = ctx.Request.Query["all"] is var a && (a == "1" || a == "true");
                    var gone = BuildCache.Where(r => !r.InUse && (all || r.Type is not ("internal" or "frontend")) && r.Created < cutoff).ToList();
                    BuildCache.RemoveAll(gone.Contains);
                    body = new JsonObject { ["CachesDeleted"] = Array(gone.Select(r => r.Id)), ["SpaceReclaimed"] = gone.Sum(r => r.Size) };
                    break;
                }
                case ("POST", "/volumes/prune"):
                {
                    var all = filters.TryGetValue("all", out var v) && (v.Contains("true") || v.Contains("1"));
                    var gone = Volumes.Where(x => RefCount(x) == 0 && (all || x.Anonymous)).ToList();
                    Volumes.RemoveAll(gone.Contains);
                    body = new JsonObject { ["VolumesDeleted"] = Array(gone.Select(x => x.Name)), ["SpaceReclaimed"] = gone.Sum(x => x.Size) };
                    break;
                }
                case ("POST", "/networks/prune"):
                {
                    var gone = Networks.Where(n => !n.Used && n.Created < cutoff).ToList();
                    Networks.RemoveAll(gone.Contains);
                    body = new JsonObject { ["NetworksDeleted"] = Array(gone.Select(n => n.Name)) };
                    break;
                }
                case ("POST", "/_fake/seed"):
                    Seed();
                    body = new JsonObject();
                    break;
                default:
                    ctx.Response.StatusCode = 404;
                    body = new JsonObject { ["message"] = $"page not found: {ctx.Request.Method} {path}" };
                    break;
            }
        }
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString());
    }

    private JsonObject DiskUsage() => new()
    {
        ["LayersSize"] = Images.Sum(i => i.Size - i.SharedSize) + (Images.Count > 0 ? Images.Max(i => i.SharedSize) : 0),
        ["Images"] = new JsonArray(Images.Select(i => (JsonNode)new JsonObject
        {
            ["Containers"] = Containers.Count(c => c.ImageId == i.Id),
            ["Created"] = i.Created.ToUnixTimeSeconds(),
            ["Id"] = i.Id,
            ["Labels"] = null,
            ["ParentId"] = "",
            ["RepoDigests"] = new JsonArray(),
            ["RepoTags"] = Array(i.Tags),
            ["SharedSize"] = i.SharedSize,
            ["Size"] = i.Size,
        }).ToArray()),
        ["Containers"] = new JsonArray(Containers.Select(c => (JsonNode)new JsonObject
        {
            ["Id"] = c.Id,
            ["Names"] = Array(["/" + c.Name]),
            ["Image"] = Images.FirstOrDefault(i => i.Id == c.ImageId)?.Tags.FirstOrDefault() ?? c.ImageId,
            ["ImageID"] = c.ImageId,
            ["Command"] = "/entrypoint.sh",
            ["Created"] = c.Created.ToUnixTimeSeconds(),
            ["Ports"] = new JsonArray(),
            ["SizeRw"] = c.SizeRw,
            ["Labels"] = new JsonObject(),
            ["State"] = c.State,
            ["Status"] = c.State == "running" ? "Up 2 days" : "Exited (0) 8 days ago",
            ["HostConfig"] = new JsonObject { ["NetworkMode"] = "default" },
            ["Mounts"] = new JsonArray(),
        }).ToArray()),
        ["Volumes"] = new JsonArray(Volumes.Select(v => (JsonNode)new JsonObject
        {
            ["CreatedAt"] = Rfc3339(v.Created),
            ["Driver"] = "local",
            ["Labels"] = v.Anonymous ? new JsonObject { ["com.docker.volume.anonymous"] = "" } : new JsonObject(),
            ["Mountpoint"] = $"/var/lib/docker/volumes/{v.Name}/_data",
            ["Name"] = v.Name,
            ["Options"] = null,
            ["Scope"] = "local",
            ["UsageData"] = new JsonObject { ["RefCount"] = RefCount(v), ["Size"] = v.Size },
        }).ToArray()),
        ["BuildCache"] = new JsonArray(BuildCache.Select(r => (JsonNode)new JsonObject
        {
            ["ID"] = r.Id,
            ["Type"] = r.Type,
            ["Description"] = "mount / from exec /bin/sh -c npm ci",
            ["InUse"] = r.InUse,
            ["Shared"] = r.Shared,
            ["Size"] = r.Size,
            ["CreatedAt"] = Rfc3339(r.Created),
            ["LastUsedAt"] = Rfc3339(r.Created),
            ["UsageCount"] = 1,
        }).ToArray()),
    };

    private static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static JsonArray Array(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray());

    /// <summary>filters={"until":{"24h":true},"dangling":{"true":true}} (the client's filters.Args JSON).</summary>
    private static Dictionary<string, List<string>> Filters(string json)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json)) return result;
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject()) result[p.Name] = p.Value.EnumerateObject().Select(v => v.Name).ToList();
        return result;
    }

    /// <summary>until= as the engine reads it: a Go duration before now (86400s, 24h, 1h30m) or a Unix time.</summary>
    private static DateTimeOffset Until(string value)
    {
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var unix)) return DateTimeOffset.FromUnixTimeSeconds(unix);
        var total = TimeSpan.Zero;
        foreach (Match m in GoDuration().Matches(value))
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch { "h" => TimeSpan.FromHours(n), "m" => TimeSpan.FromMinutes(n), "ms" => TimeSpan.FromMilliseconds(n), _ => TimeSpan.FromSeconds(n) };
        }
        return DateTimeOffset.UtcNow - total;
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|h|m|s)")]
    private static partial Regex GoDuration();

    [GeneratedRegex(@"^/v\d+\.\d+")]
    private static partial Regex VersionPrefix();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
