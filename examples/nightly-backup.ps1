#Requires -Version 7.4

<#
.SYNOPSIS
    The nightly backup of the runbooks: back up, prove it, apply retention, report.
.DESCRIPTION
    1. Backup-Database to the environment's destination (and -ExtraDestination, e.g. a local disk as well as S3).
    2. Test-DatabaseBackup: checksum and archive; with -RestoreCheck a restore into a scratch database, pg_amcheck,
       row counts, and the measured RTO against the environment's "backup"."rto".
    3. Remove-DatabaseBackup with the environment's retention (or -KeepDaily/-KeepWeekly/-KeepMonthly); the newest
       verified backup is always kept.
    4. Export-RunbookReport: a Markdown report (in CI a step summary); exit 2 when anything failed.
.EXAMPLE
    ./examples/nightly-backup.ps1 -Environment production -RestoreCheck
.EXAMPLE
    ./examples/nightly-backup.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -RestoreCheck -KeepDaily 7 -KeepWeekly 4
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    [string[]] $ExtraDestination,

    [switch] $RestoreCheck,

    [int] $KeepDaily,

    [int] $KeepWeekly,

    [int] $KeepMonthly,

    [string] $ReportPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

$results = [System.Collections.Generic.List[object]]::new()

$backupParameters = @{ Environment = $Environment } + $config
if ($ExtraDestination) {
    $configured = (Get-RunbookEnvironment $Environment @config).BackupDestination
    $backupParameters.Destination = @($configured) + $ExtraDestination
}
$backup = Backup-Database @backupParameters -ErrorAction Continue
$results.Add($backup)

if ($backup.Status -eq 'Succeeded') {
    $verification = $backup | Test-DatabaseBackup -RestoreCheck:$RestoreCheck @config -ErrorAction Continue
    $results.AddRange([object[]]@($verification))

    $retention = @{}
    if ($KeepDaily) { $retention.KeepDaily = $KeepDaily }
    if ($KeepWeekly) { $retention.KeepWeekly = $KeepWeekly }
    if ($KeepMonthly) { $retention.KeepMonthly = $KeepMonthly }
    $removed = @(Remove-DatabaseBackup -Environment $Environment @retention @config -Force)
    Write-Host "Retention removed $($removed.Count) backup(s)"
}

$exportParameters = @{ Format = 'Markdown'; Title = "$Environment nightly backup $(Get-Date -Format 'yyyy-MM-dd')" }
if ($ReportPath) { $exportParameters.Path = $ReportPath }
$report = $results | Export-RunbookReport @exportParameters
$report.Content | Write-Host
if ($report.Failed -gt 0) { exit 2 }
