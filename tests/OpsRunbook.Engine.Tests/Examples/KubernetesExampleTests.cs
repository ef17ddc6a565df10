using k8s;
using k8s.Models;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// examples/kubernetes against the Kubernetes API's schema: read strictly by the official client's models (generated
/// from the API's OpenAPI document), so a misspelt or misplaced field fails; and the exit contract wired as documented.
/// </summary>
public class KubernetesExampleTests
{
    private static string Example(string name)
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "OpsRunbook.sln"))) dir = Path.GetDirectoryName(dir)!;
        return File.ReadAllText(Path.Combine(dir, "examples", "kubernetes", name));
    }

    [Fact]
    public void The_cronjob_fails_its_job_without_retries_on_exit_codes_2_and_3_and_never_overlaps()
    {
        var cronJob = KubernetesYaml.Deserialize<V1CronJob>(Example("cronjob.yaml"), strict: true);
        Assert.Equal(("batch/v1", "CronJob"), (cronJob.ApiVersion, cronJob.Kind));
        Assert.Equal("Forbid", cronJob.Spec.ConcurrencyPolicy);
        var job = cronJob.Spec.JobTemplate.Spec;
        var failJob = Assert.Single(job.PodFailurePolicy.Rules, r => r.Action == "FailJob");
        Assert.Equal("In", failJob.OnExitCodes.OperatorProperty);
        Assert.Equal([2, 3], failJob.OnExitCodes.Values);
        Assert.Equal("health", failJob.OnExitCodes.ContainerName);
        // A pod failure policy needs restartPolicy Never; exit code 1 (the tool failed) is retried within backoffLimit.
        Assert.Equal("Never", job.Template.Spec.RestartPolicy);
        Assert.InRange(job.BackoffLimit ?? 6, 1, 6);
        var container = Assert.Single(job.Template.Spec.Containers);
        Assert.Equal("health", container.Name);
        Assert.Contains("-FailOn", string.Join(" ", container.Args));
        Assert.Contains(container.Env, e => e.Name == "OPSRUNBOOK_CONFIG" && e.Value == "/etc/opsrunbook/runbook.json");
        Assert.Contains(container.VolumeMounts, m => m.MountPath == "/etc/opsrunbook");
    }

    [Fact]
    public void The_configmap_holds_a_runbook_json_the_module_loads()
    {
        var map = KubernetesYaml.Deserialize<V1ConfigMap>(Example("configmap.yaml"), strict: true);
        var file = Path.Combine(Directory.CreateTempSubdirectory("opsrunbook-k8s").FullName, "runbook.json");
        File.WriteAllText(file, map.Data["runbook.json"]);
        var config = RunbookConfigLoader.Load(file);
        Assert.Equal("paintbox", config.System);
        Assert.Equal(4, config.GetEnvironment("production").GetHealthCheckTargets().Count);
        Directory.Delete(Path.GetDirectoryName(file)!, true);
    }

    [Fact]
    public void A_misspelt_field_is_refused_as_the_api_server_would()
    {
        var bad = Example("cronjob.yaml").Replace("concurrencyPolicy:", "concurencyPolicy:", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.Deserialize<V1CronJob>(bad, strict: true));
    }
}
