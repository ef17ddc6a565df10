using System.Management.Automation;
using OpsRunbook.Engine.Backup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Copies a bucket (or prefix) to another, server-side and in parallel, skipping unchanged objects: runbook 001's `aws s3 sync s3://app s3://backup/files/YYYYMMDD/`.
/// </summary>
/// <remarks>
/// Backup-StorageBucket lists both sides and copies every object that is missing or differs (size or ETag) with S3's
/// server-side CopyObject, so no bytes pass through this machine. Stores in S3-compatible mode that refuse the copy
/// (some misread x-amz-copy-source) are copied through this machine instead, and counted as streamed. The
/// BucketSyncResult counts copied, unchanged and failed objects and the bytes copied. {date} in -Destination becomes
/// today's UTC date (yyyyMMdd).
/// -Verbose says how many objects there are on each side; the progress bar counts the objects done.
/// </remarks>
/// <example>
/// <code>Backup-StorageBucket -Source s3://formula-pm-storage/ -Destination 's3://formula-pm-backup/files/{date}/' -Environment production</code>
/// <para>Runbook 001's file storage backup.</para>
/// </example>
[Cmdlet(VerbsData.Backup, "StorageBucket", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BucketSyncResult))]
public sealed class BackupStorageBucketCommand : BackupCmdlet
{
    /// <summary>The bucket or prefix to copy: s3://bucket/prefix/.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = "";

    /// <summary>Where to copy it: s3://bucket/prefix/ ({date} becomes yyyyMMdd).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Copies at once (default 16).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 16;

    /// <summary>Copies.</summary>
    protected override void ProcessRecord()
    {
        var context = Context();
        var destination = BackupLocation.Dated(Destination, DateTimeOffset.UtcNow);
        var source = new BackupLocation(Source);
        if (!ShouldProcess(destination.Root, $"Copy every changed object from {source.Root}")) return;
        var result = RunObserved(progress => StorageSync.SyncAsync(source, destination, ThrottleLimit, context with { Progress = progress }),
            "Backup-StorageBucket", task => Run(() => task, source.Root), activityId: 6);
        if (result.Failed > 0)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"{result.Failed} objects failed to copy: {string.Join("; ", result.Errors.Take(5))}"), ErrorIds.StorageCopyFailed, ErrorCategory.WriteError, result));
        }
        WriteObject(result);
    }
}
