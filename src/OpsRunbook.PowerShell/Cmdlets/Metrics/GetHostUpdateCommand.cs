using System.Management.Automation;
using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists the package updates this host is waiting for, which are security updates, and whether it needs a reboot (apt: Debian, Ubuntu).
/// </summary>
/// <remarks>
/// Get-HostUpdate answers runbook 001's weekly "security updates" question without changing anything: it asks apt for a
/// simulated dist-upgrade (apt-get -s: no root, no lock, nothing installed) and returns one HostUpdateReport with every
/// package that has a newer version (installed and new version, the archives it comes from, IsSecurity when one of
/// them is a security archive), the counts, whether /var/run/reboot-required says the host waits for a reboot and
/// which packages asked for it, and when the package lists were last refreshed: pending updates are as of then (run
/// apt-get update to refresh them; this cmdlet does not). A host without apt is a terminating error that says so.
/// In a report the host is a warning when security updates are pending or a reboot is required.
/// </remarks>
/// <example>
/// <code>Get-HostUpdate</code>
/// <para>How many updates are pending, how many for security, and whether a reboot is required.</para>
/// </example>
/// <example>
/// <code>(Get-HostUpdate).Packages | Where-Object IsSecurity | Format-Table Name, InstalledVersion, CandidateVersion</code>
/// <para>The security updates, with the versions they move between.</para>
/// </example>
/// <example>
/// <code>Get-HostUpdate | Export-RunbookReport -Title 'Weekly updates' -Format Markdown -Path ./updates.md</code>
/// <para>Runbook 001's weekly check as a report.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "HostUpdate")]
[OutputType(typeof(HostUpdateReport))]
public sealed class GetHostUpdateCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Reads the host.</summary>
    protected override void EndProcessing()
    {
        try
        {
            var report = HostUpdateReport.ReadAsync(_cancel.Token).GetAwaiter().GetResult();
            WriteVerbose(report.ToString());
            WriteObject(report);
        }
        catch (HostResourceUnavailableException ex)
        {
            ThrowTerminatingError(ErrorTable.Typed(ex, null)!);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C
        }
    }

    /// <summary>Ctrl+C stops apt.</summary>
    protected override void StopProcessing() => _cancel.Cancel();
}
