using System.Management.Automation;
using OpsRunbook.Engine.Cleanup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Finds files older than a given age under directories (logs, old backups), never following links out of them, and marks files a process holds open.
/// </summary>
/// <remarks>
/// Find-StaleFile is runbook 001's weekly `find /var/log -name "*.log" -mtime +30` and runbook 003's "storage full"
/// question (what can go?), read-only. It walks each -Path (relative paths and wildcards resolve as in any cmdlet) and
/// returns a StaleFile for every file last written longer ago than -OlderThan whose name matches -Include and not
/// -Exclude. Links are never followed, to directories or files: a link to /etc under /var/log is passed by, and so is
/// what it points to. Other file systems mounted below a root are left alone unless -CrossFileSystem is given (find's
/// -xdev, the other way round). -KeepLatest N keeps each directory's N newest matching files whatever their age, so a
/// backup directory whose backups stopped a month ago is never emptied. Each file says which processes hold it open
/// (read from /proc, as fuser does): deleting such a file frees nothing until they close it, and Remove-StaleFile
/// skips it. Without root, other users' processes cannot be read; a warning says how many. -Verbose names what was
/// passed by and why. Sum the Length of the output to see what a cleanup would reclaim.
/// </remarks>
/// <example>
/// <code>Find-StaleFile /var/log -Include '*.log', '*.gz' -OlderThan 30d</code>
/// <para>Runbook 001's weekly log cleanup, as a list first.</para>
/// </example>
/// <example>
/// <code>Find-StaleFile ./backups -Include '*.sql.gz' -OlderThan 30d -KeepLatest 3 | Measure-Object Length -Sum</code>
/// <para>How many old backups there are and how many bytes they hold, keeping the newest three whatever their age.</para>
/// </example>
/// <example>
/// <code>Find-StaleFile /var/log -OlderThan 7d | Sort-Object Length -Descending | Select-Object -First 10</code>
/// <para>"Storage full": the ten largest files not written for a week.</para>
/// </example>
[Cmdlet(VerbsCommon.Find, "StaleFile")]
[OutputType(typeof(StaleFile))]
public sealed class FindStaleFileCommand : StaleFileCmdlet
{
    /// <summary>Walks each root.</summary>
    protected override void ProcessRecord()
    {
        var open = OpenFilesOnce();
        foreach (var file in Search(open)) WriteObject(file);
    }
}

/// <summary>What Find-StaleFile and Remove-StaleFile share: the search's parameters, resolving roots, the open-file table.</summary>
public abstract class StaleFileCmdlet : OpsRunbookCmdlet
{
    private OpenFiles? _open;

    /// <summary>The directories to look in (wildcards allowed); binds FullName from Get-Item and Get-ChildItem.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Search")]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>Files last written longer ago than this: 30d, 12h, 90m.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Search")]
    [DurationTransformation]
    public TimeSpan OlderThan { get; set; }

    /// <summary>File-name wildcards one of which a file must match ('*.log', '*.sql.gz'); all files without it.</summary>
    [Parameter(ParameterSetName = "Search")]
    [ValidateNotNullOrEmpty]
    public string[] Include { get; set; } = [];

    /// <summary>File-name wildcards that leave files out.</summary>
    [Parameter(ParameterSetName = "Search")]
    [ValidateNotNullOrEmpty]
    public string[] Exclude { get; set; } = [];

    /// <summary>Keep each directory's newest N matching files, however old (the last backups).</summary>
    [Parameter(ParameterSetName = "Search")]
    [ValidateRange(0, int.MaxValue)]
    public int KeepLatest { get; set; }

    /// <summary>How many directory levels below each root to look into (0: only the root's own files).</summary>
    [Parameter(ParameterSetName = "Search")]
    [ValidateRange(0, int.MaxValue)]
    public int? MaxDepth { get; set; }

    /// <summary>Also look into other file systems mounted below a root.</summary>
    [Parameter(ParameterSetName = "Search")]
    public SwitchParameter CrossFileSystem { get; set; }

    /// <summary>The open-file table, read once per command, with a warning when it cannot see everything.</summary>
    protected OpenFiles OpenFilesOnce()
    {
        if (_open is not null) return _open;
        _open = OpenFiles.Read();
        WarnAbout(_open);
        return _open;
    }

    /// <summary>Says when the open-file table is blind to some processes (or to all, off Linux).</summary>
    protected void WarnAbout(OpenFiles open)
    {
        if (!open.Supported) WriteWarning("Open files cannot be read on this system (no /proc): files in use are not recognised.");
        else if (open.Unreadable > 0) WriteWarning($"The open files of {open.Unreadable} of {open.Processes} processes could not be read (other users' processes; run as root to see them): a file only they hold open is not recognised as in use.");
    }

    /// <summary>The stale files under the resolved -Path roots; a root that does not exist is an error and the rest go on.</summary>
    protected IEnumerable<StaleFile> Search(OpenFiles open)
    {
        var query = new StaleFileQuery { OlderThan = OlderThan, Include = Include, Exclude = Exclude, KeepLatest = KeepLatest, MaxDepth = MaxDepth, CrossFileSystems = CrossFileSystem };
        foreach (var root in Roots())
        {
            CheckRoot(root);
            WriteVerbose($"Looking in {root} for files older than {OlderThan}");
            IEnumerable<StaleFile> found;
            try
            {
                found = StaleFileFinder.Find(root, query, open, DateTimeOffset.UtcNow, s => WriteVerbose($"Passed by {s.Path}: {s.Reason}"), Cancellation).ToList();
            }
            catch (DirectoryNotFoundException ex)
            {
                WriteError(new ErrorRecord(ex, ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, root));
                continue;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            foreach (var file in found) yield return file;
        }
    }

    /// <summary>Stops before a root this command must not walk (none for a search).</summary>
    protected virtual void CheckRoot(string root)
    {
    }

    /// <summary>-Path resolved to file-system paths; a path that resolves to nothing is an error that names it.</summary>
    private IEnumerable<string> Roots()
    {
        foreach (var path in Path)
        {
            System.Collections.ObjectModel.Collection<string> resolved;
            try
            {
                resolved = GetResolvedProviderPathFromPSPath(path, out var provider);
                if (provider.Name != "FileSystem")
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a file-system path (it is on the {provider.Name} provider)."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, path));
                    continue;
                }
            }
            catch (ItemNotFoundException ex)
            {
                WriteError(new ErrorRecord(new DirectoryNotFoundException($"The directory '{path}' does not exist: {ex.Message}"), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, path));
                continue;
            }
            foreach (var root in resolved) yield return root;
        }
    }
}
