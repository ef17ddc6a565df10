using System.Management.Automation;
using OpsRunbook.Engine.Cleanup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Deletes files older than a given age under directories, or the files Find-StaleFile found, and reports the bytes reclaimed.
/// </summary>
/// <remarks>
/// Remove-StaleFile is runbook 001's weekly `find /var/log -name "*.log" -mtime +30 -delete` and `find backups/ -name
/// "*.sql.gz" -mtime +30 -delete`, and runbook 003's "storage full" emergency, without find's sharp edges. It searches
/// as Find-StaleFile does (the same parameters: links never followed, other file systems left alone, -KeepLatest), or
/// takes the StaleFile objects Find-StaleFile wrote, and deletes each file after checking it again: still a plain file,
/// its directories up to the root still real ones (not a link swapped in since), not written since it was found, and not
/// held open by a process (deleting a log that is still being written frees nothing until the process closes it). A
/// file that fails a check is skipped with the reason (-Verbose); one that cannot be deleted is a non-terminating error.
/// At the end it writes one CleanupResult: removed, skipped and failed files with reasons, and the bytes reclaimed;
/// in Export-RunbookReport a cleanup with failures fails and one with skips warns. The roots /, /proc, /sys and /dev
/// are refused. Each file asks for confirmation with -Confirm; -WhatIf lists what would be deleted and deletes nothing.
/// </remarks>
/// <example>
/// <code>Remove-StaleFile /var/log -Include '*.log', '*.gz' -OlderThan 30d -WhatIf</code>
/// <para>Runbook 001's weekly log cleanup, previewed.</para>
/// </example>
/// <example>
/// <code>Remove-StaleFile ./backups -Include '*.sql.gz' -OlderThan 30d -KeepLatest 3</code>
/// <para>The backups older than 30 days, never the newest three.</para>
/// </example>
/// <example>
/// <code>Find-StaleFile /var/log -OlderThan 7d | Where-Object Length -gt 100MB | Remove-StaleFile -WhatIf</code>
/// <para>"Storage full": only the large old files, chosen in the pipeline.</para>
/// </example>
[Cmdlet(VerbsCommon.Remove, "StaleFile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(CleanupResult))]
public sealed class RemoveStaleFileCommand : StaleFileCmdlet
{
    private static readonly string[] Refused = ["/", "/proc", "/sys", "/dev"];
    private StaleFileCleanup? _cleanup;

    /// <summary>Files Find-StaleFile found.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    [ValidateNotNull]
    public StaleFile[] InputObject { get; set; } = [];

    /// <summary>Do not ask for confirmation, even with a ConfirmPreference that would.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Removes what was found or given.</summary>
    protected override void ProcessRecord()
    {
        _cleanup ??= new StaleFileCleanup(ParameterSetName == "Search" ? OlderThan : TimeSpan.Zero);
        if (ParameterSetName == "Search")
        {
            foreach (var file in Search(OpenFilesOnce())) Remove(file);
            return;
        }
        foreach (var file in InputObject) Remove(file);
    }

    /// <summary>Refuses the roots whose cleanup would be a disaster whatever the age (rm's --preserve-root, and more).</summary>
    protected override void CheckRoot(string root)
    {
        var full = OpenFiles.RealPath(root);
        if (Refused.Contains(full.Length > 1 ? full.TrimEnd('/') : full))
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Remove-StaleFile does not clean '{root}': name the directory that holds the files (/var/log, a backup directory)."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, root));
        }
    }

    private void Remove(StaleFile file)
    {
        if (Stopping) return;
        CheckRoot(file.Root);
        if (!ShouldAct(file.Path, $"Remove the file ({CleanupResult.FormatBytes(file.Length)}, last written {file.LastWriteTime:u})", Force)) return;
        var item = _cleanup!.Remove(file, DateTimeOffset.UtcNow);
        switch (item.Outcome)
        {
            case CleanupOutcome.Removed:
                WriteVerbose($"Removed {file.Path} ({CleanupResult.FormatBytes(file.Length)})");
                break;
            case CleanupOutcome.Skipped:
                WriteVerbose($"Skipped {file.Path}: {item.Reason}");
                break;
            default:
                WriteError(new ErrorRecord(new IOException($"Could not remove {file.Path}: {item.Reason}"), ErrorIds.CleanupFailed, ErrorCategory.WriteError, file.Path));
                break;
        }
    }

    /// <summary>Writes the account.</summary>
    protected override void EndProcessing()
    {
        if (_cleanup is not { Any: true }) return;
        if (ParameterSetName == "InputObject" && _cleanup.OpenFiles is { } open) WarnAbout(open);
        var result = _cleanup.Result();
        WriteVerbose(result.ToString());
        WriteObject(result);
    }
}
