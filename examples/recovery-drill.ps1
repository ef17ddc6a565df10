#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 004's monthly recovery drill: restore the newest backup to a scratch database, verify it, measure the RTO against the target, report.
.DESCRIPTION
    Takes the newest backup of the environment, restores it into a scratch database (never the live one), runs
    pg_amcheck where allowed, compares every table's rows with the backup's manifest, drops the scratch database,
    and reports the restore time as the measured RTO next to the target (-RtoTarget, or "backup"."rto"; runbook 004:
    4 hours, runbook 000: 30 minutes). Exit 1 when the backup fails verification or the RTO is missed.
.EXAMPLE
    ./examples/recovery-drill.ps1 -Environment production -RtoTarget 4h -ReportPath ./drill-2026-11.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    [string] $RtoTarget,

    [string] $ReportPath = "./recovery-drill-$(Get-Date -Format 'yyyy-MM').md"
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

$newest = Get-DatabaseBackup -Environment $Environment @config | Select-Object -First 1
if (-not $newest) { throw "no backups found for $Environment" }
Write-Host "Drill on $($newest.BackupUri) taken $($newest.StartedAt)"

$testParameters = @{ RestoreCheck = $true; Environment = $Environment } + $config
if ($RtoTarget) { $testParameters.RtoTarget = $RtoTarget }
$verification = $newest | Test-DatabaseBackup @testParameters -ErrorAction Continue
$verification | Format-List Status, ChecksumMatches, Restored, AmCheck, TablesMatched, RestoreDuration, RtoTarget, RtoMet, Problems | Out-Host

$report = $verification | Export-RunbookReport -Format Markdown -Title "$Environment recovery drill $(Get-Date -Format 'yyyy-MM')" -Path $ReportPath
Write-Host "Report: $ReportPath"
if ($verification.Status -ne 'Verified' -or $verification.RtoMet -eq $false) { exit 2 }
