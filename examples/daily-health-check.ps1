#Requires -Version 7.4
<#
.SYNOPSIS
    The daily health check of runbook 001 (Formula PM), as far as OpsRunbook's cmdlets reach today.
.DESCRIPTION
    Runbook 001's routine: service status, disk and memory, recent errors, backup status. This script covers the
    service status part with Invoke-HealthCheck: every endpoint, the database primary and replica, and Redis of one
    environment. Disk/memory (Get-HostResource), recent errors and backup status join as those cmdlets land.
    Exits 0 when the environment is Healthy, 1 when anything is Degraded or Unhealthy, so a scheduler can alert on it.
.EXAMPLE
    ./examples/daily-health-check.ps1 -Environment production
.EXAMPLE
    ./examples/daily-health-check.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.json
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    [string] $ModulePath = (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1')
)
$ErrorActionPreference = 'Stop'

if (-not (Get-Module OpsRunbook)) {
    if (Test-Path $ModulePath) { Import-Module $ModulePath } else { Import-Module OpsRunbook }
}

$checkParameters = @{ Environment = $Environment; Summary = $true; RetryCount = 1 }
if ($ConfigPath) { $checkParameters.ConfigPath = $ConfigPath }

Write-Host "=== $Environment daily health check — $(Get-Date -Format 'yyyy-MM-dd HH:mm') ==="
Write-Host 'Checking service status...'
$output = Invoke-HealthCheck @checkParameters
$report = $output | Where-Object { $_ -is [OpsRunbook.Engine.Health.HealthReport] }
$report.Entries | Format-Table -AutoSize | Out-Host

Write-Host ("Overall: {0} ({1} healthy, {2} degraded, {3} unhealthy)" -f $report.Status, $report.Healthy, $report.Degraded, $report.Unhealthy)
Write-Host '=== Health check complete ==='
if ($report.Status -ne 'Healthy') { exit 1 }
