#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 000/002's "verify deployment": wait until every target of an environment is healthy, then monitor it.
.DESCRIPTION
    Waits up to -Timeout for all targets to be Healthy (Wait-HealthCheck, checking every -Interval), then checks again
    every -Interval for -MonitorFor ("monitor for 15 minutes", runbook 000) and fails at the first round in which a
    target is Unhealthy (each check already allows Fly.io's three consecutive failures). Exit code 2 on failure (the exit contract: 2 a check failed, 1 the tool failed).
.EXAMPLE
    ./examples/monitor-after-deploy.ps1 -Environment production
.EXAMPLE
    ./examples/monitor-after-deploy.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -MonitorFor 00:01:00
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [timespan] $Timeout = '00:10:00',

    [timespan] $Interval = '00:00:15',

    [timespan] $MonitorFor = '00:15:00',

    [string] $ConfigPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

try {
    Wait-HealthCheck -Environment $Environment -Until Healthy -Timeout $Timeout -Interval $Interval @config |
        Format-Table -AutoSize | Out-Host
}
catch {
    Write-Error "The deployment did not become healthy: $($_.Exception.Message)" -ErrorAction Continue
    exit 2
}

Write-Host "$Environment is healthy; monitoring for $MonitorFor"
$end = (Get-Date) + $MonitorFor
$round = 0
while ((Get-Date) -lt $end) {
    $round++
    $report = Invoke-HealthCheck -Environment $Environment -Summary @config | Select-Object -Last 1
    Write-Host ("round {0}: {1}" -f $round, $report)
    if ($report.Status -eq 'Unhealthy') {
        $report.Entries | Where-Object Status -eq 'Unhealthy' | Format-Table Name, Reason -AutoSize | Out-Host
        Write-Error "Unhealthy during monitoring (round $round); consider Start-Rollback" -ErrorAction Continue
        exit 2
    }
    Start-Sleep -Seconds $Interval.TotalSeconds
}
Write-Host "Monitoring finished: $round rounds, no unhealthy target"
