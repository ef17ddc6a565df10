using System.Management.Automation;
using OpsRunbook.Engine.Cleanup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Prunes Docker's stopped containers, unused networks, dangling images and build cache (docker system prune), volumes only when asked, and reports the space reclaimed.
/// </summary>
/// <remarks>
/// Clear-ContainerStorage is runbook 001's weekly `docker system prune -f` and the container part of runbook 003's
/// "storage full" emergency. By default it removes what `docker system prune` removes: stopped containers, custom
/// networks no container uses, dangling images and dangling build cache; -All takes every image no container uses and
/// all unused build cache (docker's -a); -Until 24h only what was created longer ago; -Include chooses the kinds.
/// Volumes are pruned only with -Include Volumes, and then only anonymous volumes no container uses: named volumes hold
/// data (a database's) and are never pruned. It reads `docker system df` first (an engine that does not answer is a
/// terminating error), asks once per kind with what docker counts as reclaimable (ConfirmImpact High: -Force for
/// scheduled jobs), runs one prune per kind through the docker CLI, and writes one CleanupResult: the objects docker
/// deleted and the space it reclaimed (as docker prints it); a prune that fails is a non-terminating error and a failed
/// item, and fails the cleanup in a report. -WhatIf reads and says what it would prune, and prunes nothing.
/// </remarks>
/// <example>
/// <code>Clear-ContainerStorage -Force</code>
/// <para>Runbook 001's weekly `docker system prune -f`.</para>
/// </example>
/// <example>
/// <code>Clear-ContainerStorage -All -Until 168h -WhatIf</code>
/// <para>"Storage full": every unused image and all build cache older than a week, previewed with the reclaimable space.</para>
/// </example>
/// <example>
/// <code>Clear-ContainerStorage -Include Containers, Volumes -Force | Export-RunbookReport -Title 'Weekly cleanup' -Format Markdown -Path ./cleanup.md</code>
/// <para>Stopped containers and their anonymous volumes, as a report.</para>
/// </example>
[Cmdlet(VerbsCommon.Clear, "ContainerStorage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(CleanupResult))]
public sealed class ClearContainerStorageCommand : DockerCmdlet
{
    private static readonly Dictionary<ContainerStorageKind, string> DfType = new()
    {
        [ContainerStorageKind.Containers] = "Containers",
        [ContainerStorageKind.Images] = "Images",
        [ContainerStorageKind.BuildCache] = "Build Cache",
        [ContainerStorageKind.Volumes] = "Local Volumes",
    };

    /// <summary>The kinds to prune (default: what docker system prune removes: Containers, Networks, Images, BuildCache).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public ContainerStorageKind[] Include { get; set; } = [.. ContainerStorage.SystemPrune];

    /// <summary>Every image no container uses and all unused build cache, not only dangling ones (docker's -a).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Only what was created longer ago than this (24h, 7d); not for volumes, which docker cannot filter by age.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Until { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Reads, asks, prunes, accounts.</summary>
    protected override void EndProcessing()
    {
        var engine = Engine;
        var usage = Usage().ToDictionary(u => u.Type);
        var cleanup = new ContainerCleanup(engine);
        foreach (var kind in ContainerStorage.SystemPrune.Append(ContainerStorageKind.Volumes).Where(Include.Contains))
        {
            if (Stopping) break;
            var what = kind switch
            {
                ContainerStorageKind.Containers => "stopped containers",
                ContainerStorageKind.Images => All ? "every image no container uses" : "dangling images",
                ContainerStorageKind.BuildCache => All ? "all unused build cache" : "dangling build cache",
                ContainerStorageKind.Networks => "custom networks no container uses",
                _ => "anonymous volumes no container uses (named volumes are kept)",
            };
            if (Until is { } age && kind != ContainerStorageKind.Volumes) what += $" created more than {age} ago";
            if (Until is not null && kind == ContainerStorageKind.Volumes) WriteVerbose("Volumes cannot be filtered by age: -Until does not apply to them");
            var reclaimable = DfType.TryGetValue(kind, out var type) && usage.TryGetValue(type, out var u) ? $" (docker counts {CleanupResult.FormatBytes(u.ReclaimableBytes)} of {u.Type} reclaimable)" : "";
            if (!ShouldAct(engine.Describe, $"Prune {what}{reclaimable}", Force)) continue;
            var failure = cleanup.PruneAsync(kind, All, Until, Cancellation).GetAwaiter().GetResult();
            if (failure is not null) WriteError(new ErrorRecord(failure, ErrorIds.CleanupFailed, ErrorCategory.WriteError, kind));
        }
        if (!cleanup.Any) return;
        var result = cleanup.Result();
        WriteVerbose(result.ToString());
        WriteObject(result);
    }
}
