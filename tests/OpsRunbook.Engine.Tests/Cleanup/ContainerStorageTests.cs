using OpsRunbook.Engine.Cleanup;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Container storage through the real docker CLI (the machine's, 28.x) against a Docker Engine API built from the CLI's
/// own vendored types (<see cref="FakeDocker"/>): what `docker system df` reports, and each prune's deleted objects
/// and reclaimed space, with the flags the runbook's `docker system prune` implies and volumes only when asked.
/// </summary>
public sealed class ContainerStorageTests : IAsyncLifetime
{
    private FakeDocker _docker = null!;
    private DockerEngine Engine => new(Host: _docker.Host);

    public async ValueTask InitializeAsync()
    {
        _docker = await FakeDocker.StartAsync();
        _docker.Seed();
    }

    public async ValueTask DisposeAsync() => await _docker.DisposeAsync();

    [Fact]
    public async Task Disk_usage_reads_what_docker_system_df_prints()
    {
        var usage = (await ContainerStorage.ReadAsync(Engine, TestContext.Current.CancellationToken)).ToDictionary(u => u.Type);
        Assert.Equal(["Images", "Containers", "Local Volumes", "Build Cache"], usage.Keys);
        var images = usage["Images"];
        Assert.Equal((4, 3), (images.TotalCount, images.Active));
        // LayersSize 960 MB (80 MB of layers shared); reclaimable = size minus what images with containers use alone
        // (v3, v2 whose container exited, postgres): the dangling image and the shared layers, as docker counts.
        Assert.Equal(960_000_000, images.SizeBytes);
        Assert.Equal(960_000_000 - 170_000_000 - 160_000_000 - 400_000_000, images.ReclaimableBytes);
        Assert.Equal((3, 2, 20_000_000L, 5_000_000L), (usage["Containers"].TotalCount, usage["Containers"].Active, usage["Containers"].SizeBytes, usage["Containers"].ReclaimableBytes));
        Assert.Equal((3, 1, 970_000_000L, 70_000_000L), (usage["Local Volumes"].TotalCount, usage["Local Volumes"].Active, usage["Local Volumes"].SizeBytes, usage["Local Volumes"].ReclaimableBytes));
        Assert.Equal(160_000_000, usage["Build Cache"].ReclaimableBytes);
        Assert.Contains(_docker.Requests, r => r.StartsWith("GET /v1.", StringComparison.Ordinal) && r.Contains("/system/df", StringComparison.Ordinal));
    }

    [Fact]
    public async Task System_prune_removes_stopped_containers_dangling_images_and_unused_cache_and_never_a_volume()
    {
        var cleanup = new ContainerCleanup(Engine);
        foreach (var kind in ContainerStorage.SystemPrune) Assert.Null(await cleanup.PruneAsync(kind, all: false, until: null, TestContext.Current.CancellationToken));
        var result = cleanup.Result();
        Assert.Contains(result.Items, i => i.Name == $"container {new string('3', 64)}");
        Assert.Contains(result.Items, i => i.Name == $"image deleted: sha256:{new string('c', 64)}");
        Assert.Contains(result.Items, i => i.Name == "build cache k1");
        Assert.Contains(result.Items, i => i.Name == "network old_default");
        Assert.DoesNotContain(result.Items, i => i.Name.StartsWith("volume", StringComparison.Ordinal));
        // 5 MB of the container, 150 MB of the dangling image, 150 MB of cache, as docker prints them.
        Assert.Equal(5_000_000 + 150_000_000 + 150_000_000, result.ReclaimedBytes);
        Assert.Equal(3, _docker.Volumes.Count);
        Assert.Equal(["registry.example/app:v3", "registry.example/app:v2", "postgres:15"], _docker.Images.Select(i => i.Tags[0]));
        Assert.Contains(_docker.Requests, r => r.Contains("/images/prune?filters=", StringComparison.Ordinal) && r.Contains("dangling", StringComparison.Ordinal));
    }

    [Fact]
    public async Task All_images_and_cache_older_than_a_day_and_anonymous_volumes_only_when_asked()
    {
        var cleanup = new ContainerCleanup(Engine);
        foreach (var kind in (ContainerStorageKind[])[ContainerStorageKind.Containers, ContainerStorageKind.Images, ContainerStorageKind.BuildCache, ContainerStorageKind.Volumes])
        {
            Assert.Null(await cleanup.PruneAsync(kind, all: true, until: TimeSpan.FromDays(2), TestContext.Current.CancellationToken));
        }
        var result = cleanup.Result();
        // v2 lost its only container; v3 and postgres are in use; the frontend cache record goes with --all.
        Assert.Contains(result.Items, i => i.Name == "image untagged: registry.example/app:v2");
        Assert.Contains(result.Items, i => i.Name == "build cache k3");
        Assert.Equal([new string('9', 64)], result.Items.Where(i => i.Name.StartsWith("volume ", StringComparison.Ordinal)).Select(i => i.Name["volume ".Length..]));
        Assert.Contains(_docker.Volumes, v => v.Name == "old_cache");   // named, unused: never pruned
        Assert.Contains(_docker.Requests, r => r.Contains("/build/prune?all=1", StringComparison.Ordinal) && r.Contains("until", StringComparison.Ordinal));
        Assert.DoesNotContain(_docker.Requests, r => r.Contains("/volumes/prune", StringComparison.Ordinal) && r.Contains("all", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_engine_that_does_not_answer_and_a_missing_cli_say_what_to_fix()
    {
        var down = new DockerEngine(Host: "tcp://127.0.0.1:9");
        var e = await Assert.ThrowsAsync<ContainerStorageException>(() => ContainerStorage.ReadAsync(down, TestContext.Current.CancellationToken));
        Assert.Contains("docker system df failed on tcp://127.0.0.1:9", e.Message);
        var cleanup = new ContainerCleanup(down);
        Assert.NotNull(await cleanup.PruneAsync(ContainerStorageKind.Images, false, null, TestContext.Current.CancellationToken));
        Assert.Equal(CleanupOutcome.Failed, Assert.Single(cleanup.Result().Items).Outcome);
        var missing = new DockerEngine(Docker: "/nonexistent/docker");
        e = await Assert.ThrowsAsync<ContainerStorageException>(() => ContainerStorage.ReadAsync(missing, TestContext.Current.CancellationToken));
        Assert.Contains("install the Docker CLI, or name it with -Docker", e.Message);
    }

    [Theory]
    [InlineData("0B", 0)]
    [InlineData("512kB", 512_000)]
    [InlineData("1.234GB", 1_234_000_000)]
    [InlineData("20MB", 20_000_000)]
    [InlineData("1.5GiB", 1_610_612_736)]
    [InlineData("nonsense", 0)]
    public void Sizes_read_as_docker_prints_them(string text, long bytes) => Assert.Equal(bytes, ContainerStorage.ParseSize(text));
}
