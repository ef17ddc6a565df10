#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 001's weekly maintenance as one scheduled job: security updates, log and backup cleanup, Docker cleanup, a report.
.DESCRIPTION
    What runbook 001 does every week by hand (apt list --upgradable, find /var/log -name "*.log" -mtime +30 -delete,
    find backups/ -name "*.sql.gz" -mtime +30 -delete, docker system prune -f), with the sharp edges taken off: links
    are never followed, logs still being written are left alone, the newest backups are kept whatever their age,
    named Docker volumes are never pruned. Without -Apply it only says what it would remove (-WhatIf); with -Apply it
    removes it. Everything it found and did goes into one report, and the job exits with the report's code (0 all
    good, 2 a cleanup failed, 3 warnings such as pending security updates), as a scheduler expects.
.EXAMPLE
    ./examples/weekly-maintenance.ps1 -LogPath ./examples/logs -ReportPath ./weekly.md
#>
[CmdletBinding()]
param(
    # The logs to clean (runbook 001: /var/log).
    [string[]] $LogPath = '/var/log',

    # Backup files to clean (*.sql.gz, *.dump), keeping the newest -KeepBackups whatever their age.
    [string[]] $BackupPath = @(),

    [int] $KeepBackups = 3,

    # Older than this goes (runbook 001: 30 days).
    [string] $OlderThan = '30d',

    # Remove for real; without it the job only says what it would remove.
    [switch] $Apply,

    [string] $ReportPath = "./weekly-maintenance-$(Get-Date -Format 'yyyy-MM-dd').md"
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$preview = @{ WhatIf = -not $Apply }
$results = [System.Collections.Generic.List[object]]::new()

Write-Host '--- Security updates'
try {
    $updates = Get-HostUpdate
    $updates | Out-Host
    $results.Add($updates)
}
catch { Write-Warning "Security updates not checked: $($_.Exception.Message)" }

Write-Host "--- Logs older than $OlderThan"
$logs = Find-StaleFile $LogPath -Include '*.log', '*.log.*', '*.gz' -OlderThan $OlderThan
$logs | Format-Table -AutoSize | Out-Host
if ($logs) { $cleanup = $logs | Remove-StaleFile @preview -Force; if ($cleanup) { $results.Add($cleanup) } }

if ($BackupPath) {
    Write-Host "--- Backups older than $OlderThan (the newest $KeepBackups kept)"
    $cleanup = Remove-StaleFile $BackupPath -Include '*.sql.gz', '*.dump' -OlderThan $OlderThan -KeepLatest $KeepBackups @preview -Force
    if ($cleanup) { $results.Add($cleanup) }
}

Write-Host '--- Docker'
try {
    $storage = Get-ContainerStorage
    $storage | Out-Host
    $results.AddRange([object[]]$storage)
    $pruned = Clear-ContainerStorage @preview -Force
    if ($pruned) { $results.Add($pruned) }
}
catch { Write-Warning "Docker not cleaned: $($_.Exception.Message)" }

$report = $results | Export-RunbookReport -Format Markdown -Title "Weekly maintenance $(Get-Date -Format 'yyyy-MM-dd')" -Path $ReportPath
Write-Host ("Report: {0} ({1} failed, {2} warnings{3})" -f $ReportPath, $report.Failed, $report.Warnings, $(if ($Apply) { '' } else { '; nothing removed: run with -Apply' }))
exit [int]$report.ExitCode
