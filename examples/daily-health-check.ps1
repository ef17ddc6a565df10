#Requires -Version 7.4

<#
.SYNOPSIS
    The daily health check of runbook 001 (Formula PM) with OpsRunbook's cmdlets.
.DESCRIPTION
    Runbook 001's routine, step by step:
      - service status          -> Invoke-HealthCheck (endpoints, DNS, S3, database primary/replica, Redis)
      - disk and memory usage   -> Get-HostResource (df -h, free -h), with -IncludeHost, on the server itself
      - thresholds              -> Test-MetricThreshold against the environment's table (or -Profile formula-pm)
      - report                  -> Export-RunbookReport (Markdown here; a step summary and annotations in CI)
    Recent errors (logs) and backup status join as those cmdlets land.
    Exits 0 when nothing is unhealthy or critical, 1 otherwise, so a scheduler can alert on it.
.EXAMPLE
    ./examples/daily-health-check.ps1 -Environment production
.EXAMPLE
    ./examples/daily-health-check.ps1 -Environment production -IncludeHost
.EXAMPLE
    ./examples/daily-health-check.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -ReportPath ./daily.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    # Where to write the Markdown report; by default only the console shows it.
    [string] $ReportPath,

    # Also measure the machine this script runs on (CPU, memory, disks). Only where that machine is the server being
    # checked: on a CI runner or a laptop it would report the runner's own load.
    [switch] $IncludeHost,

    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1')
)
$ErrorActionPreference = 'Stop'

if (-not (Get-Module OpsRunbook)) {
    if (Test-Path $ModulePath) { Import-Module $ModulePath } else { Import-Module OpsRunbook }
}

$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

Write-Host "=== $Environment daily health check - $(Get-Date -Format 'yyyy-MM-dd HH:mm') ==="

Write-Host 'Checking service status...'
$health = Invoke-HealthCheck -Environment $Environment -Summary @config
$report = $health | Where-Object { $_.PSTypeNames -contains 'OpsRunbook.Engine.Health.HealthReport' }
$report.Entries | Format-Table -AutoSize | Out-Host

$hostResource = @()
if ($IncludeHost) {
    Write-Host 'Checking disk and memory usage...'
    $hostResource = Get-HostResource -Environment $Environment
    $hostResource | Format-Table -AutoSize | Out-Host
}

Write-Host 'Comparing with the thresholds...'
$alerts = @($health; $hostResource) | Test-MetricThreshold -Environment $Environment @config
$alerts | Where-Object Severity -ne 'Normal' | Format-Table -AutoSize | Out-Host

$exportParameters = @{ Format = 'Markdown'; Title = "$Environment daily health check" }
if ($ReportPath) { $exportParameters.Path = $ReportPath }
$summary = @($health; $hostResource; $alerts) | Export-RunbookReport @exportParameters
if ($ReportPath) { Write-Host "Report: $ReportPath" }

Write-Host ("Overall: {0}; {1} failing, {2} warning, {3} passing" -f $report.Status, $summary.Failed, $summary.Warnings, $summary.Passed)
Write-Host '=== Health check complete ==='
# The exit contract a scheduler acts on: 0 all good, 2 a check failed, 3 warnings only.
exit [int]$summary.ExitCode
