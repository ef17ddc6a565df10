#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 003's monthly failover drill as one job: announce the window, take the primary away, verify, document the recovery time.
.DESCRIPTION
    What runbook 003 does by hand ("1. Announce maintenance window; 2. flyctl machine kill [primary-machine-id];
    3. verify replica promotion; 4. test application connectivity; 5. document results and recovery time"):
    the maintenance window is recorded and the environment's alerts are silenced for it (Enable-MaintenanceMode
    -NoPlatform: the application stays up, only the pages stop), the team is told, Test-DatabaseFailover kills the
    primary machine of the Fly Postgres cluster (-FlyApp, or the environment's "database"."fly"."app") or, on a
    self-managed pair, promotes the replica, and runs the environment's health checks; the result goes into a report,
    the window is closed and the team is told how it went. Without -Apply it changes nothing: each step says what it
    would do (-WhatIf). The job exits with the report's code (0 recovered within the target, nothing lost, all healthy;
    2 the drill failed; 3 slower than the target, data lost or a check not healthy).
.EXAMPLE
    ./examples/monthly-failover-drill.ps1 -Environment production -FlyApp cardmint-db -ReportPath ./failover-drill.md
.EXAMPLE
    ./examples/monthly-failover-drill.ps1 -Environment staging -RecoveryTarget 60s -Notify
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    # The Fly Postgres cluster app (default: the environment's "database"."fly"."app"; neither: a self-managed pair).
    [string] $FlyApp,

    # The recovery time to meet (default: the environment's backup "rto", else 5 minutes).
    [string] $RecoveryTarget,

    # Tell the environment's notification targets when the window opens and how the drill went.
    [switch] $Notify,

    # Drill for real; without it every step only says what it would do.
    [switch] $Apply,

    [string] $ReportPath = "./failover-drill-$(Get-Date -Format 'yyyy-MM').md"
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }
$preview = @{ WhatIf = -not $Apply }

Write-Host "--- 1. Maintenance window on $Environment (alerts silenced for an hour at most)"
Enable-MaintenanceMode $Environment -NoPlatform -Duration 1h -Reason 'Monthly failover drill' -Force @config @preview | Out-Host
if ($Notify) {
    Send-RunbookNotification $Environment -Title "Failover drill on $Environment" -Text 'Monthly failover drill starting: database writes pause for a minute or two.' -Tone Warning @config @preview | Out-Null
}

Write-Host '--- 2-4. Take the primary away, wait for the new one, check the application'
$drill = @{ Force = $true }
if ($FlyApp) { $drill.FlyApp = $FlyApp }
if ($RecoveryTarget) { $drill.RecoveryTarget = $RecoveryTarget }
$result = try {
    Test-DatabaseFailover $Environment @drill @config @preview
}
catch {
    # A drill refused as unsafe is the drill's answer, not the job's failure: it goes into the report.
    Write-Warning $_.Exception.Message
}
$result | Format-List Status, RecoveryTime, RecoveryTarget, DataLossBytes, OldPrimary, NewPrimary, Reason, NextSteps | Out-Host

Write-Host '--- 5. Document'
Disable-MaintenanceMode $Environment -NoPlatform -Force @config @preview | Out-Host
if (-not $result) {
    Write-Host $(if ($Apply) { 'The drill did not run: nothing to report.' } else { 'Nothing was changed: run with -Apply to drill.' })
    exit $(if ($Apply) { 2 } else { 0 })
}
$report = $result | Export-RunbookReport -Format Markdown -Title "$Environment failover drill $(Get-Date -Format 'yyyy-MM')" -Path $ReportPath
if ($Notify) { $result | Send-RunbookNotification $Environment -Title "Failover drill on $Environment`: $($result.Status)" @config | Out-Null }
Write-Host "Report: $ReportPath ($($result.Status): $($result.Reason))"
exit [int]$report.ExitCode
