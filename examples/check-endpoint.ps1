#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 002's deep health check of one URL, with the conditions the runbook expects.
.EXAMPLE
    ./examples/check-endpoint.ps1 -Uri https://paintbox.fly.dev/api/health
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [uri] $Uri,

    [int] $RetryCount = 2
)
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }

$result = Invoke-HealthCheck -Uri $Uri -TimeoutSec 10 -RetryCount $RetryCount -Condition '[STATUS] == 200', '[BODY].status == ok', '[RESPONSE_TIME] < 2000'
$result | Format-List Status, Reason, LatencyMs, Attempts
$result.Conditions | Format-Table Success, Description -AutoSize
if ($result.Status -eq 'Unhealthy') { exit 2 }
