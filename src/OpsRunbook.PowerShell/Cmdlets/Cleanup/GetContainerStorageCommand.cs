using System.Management.Automation;
using OpsRunbook.Engine.Cleanup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Shows what Docker images, containers, volumes and build cache take on disk and how much a prune could free (docker system df).
/// </summary>
/// <remarks>
/// Get-ContainerStorage is `docker system df` as objects, for runbook 003's "storage full" question and runbook 001's
/// weekly cleanup: one ContainerStorageUsage per kind (Images, Containers, Local Volumes, Build Cache) with the count,
/// how many are in use, the size and the reclaimable bytes as docker counts them (docker prints four significant
/// digits). It runs the docker CLI (argument lists, never a shell) against the engine docker would use: DOCKER_HOST or
/// the local socket, or -DockerHost / -Context. Read-only. An engine that does not answer is a terminating error in the
/// CLI's own words. In a report each kind is a measurement.
/// </remarks>
/// <example>
/// <code>Get-ContainerStorage</code>
/// <para>The docker disk usage of this host, with what a prune would reclaim.</para>
/// </example>
/// <example>
/// <code>(Get-ContainerStorage | Measure-Object ReclaimableBytes -Sum).Sum / 1GB</code>
/// <para>How many GiB a full prune could free.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "ContainerStorage")]
[OutputType(typeof(ContainerStorageUsage))]
public sealed class GetContainerStorageCommand : DockerCmdlet
{
    /// <summary>Reads the engine.</summary>
    protected override void EndProcessing()
    {
        foreach (var usage in Usage()) WriteObject(usage);
    }
}

/// <summary>What the container-storage cmdlets share: which engine, through which docker CLI.</summary>
public abstract class DockerCmdlet : OpsRunbookCmdlet
{
    /// <summary>The Docker engine (docker --host): unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host. Default: DOCKER_HOST, else the local socket.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>A docker context to use instead of a host.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>The docker executable, when it is not on PATH.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Docker { get; set; }

    /// <summary>The engine the parameters name.</summary>
    protected DockerEngine Engine => new(Docker, DockerHost, Context);

    /// <summary>docker system df; an engine that cannot be asked is a terminating error.</summary>
    protected IReadOnlyList<ContainerStorageUsage> Usage()
    {
        try
        {
            return ContainerStorage.ReadAsync(Engine, Cancellation).GetAwaiter().GetResult();
        }
        catch (ContainerStorageException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.DockerError, ErrorCategory.ConnectionError, Engine.Describe));
            throw; // not reached
        }
    }
}
