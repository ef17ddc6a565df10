#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 000's "High Error Rate" and "Database Connection Pool Exhausted" procedures, as one triage script.
.DESCRIPTION
    1. Health of the database targets (is it up, is the replica streaming, how far behind).
    2. Connection usage against max_connections, by state (pool exhausted?).
    3. Blocked queries and their blockers; long-running queries (> -LongRunning).
    4. The slowest statements (pg_stat_statements) and Redis memory, hit rate and evictions.
    5. With -Remediate: terminates blockers that sit "idle in transaction" and queries older than -KillAfter
       (runbook 001's 30-minute rule), asking for each one unless -Force is given. Without it, shows what it would do.
.EXAMPLE
    ./examples/database-triage.ps1 -Environment production
.EXAMPLE
    ./examples/database-triage.ps1 -Environment production -Remediate -KillAfter 30m
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    [string] $LongRunning = '5m',

    [string] $KillAfter = '30m',

    [switch] $Remediate,

    [switch] $Force
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

Write-Host "=== Database triage: $Environment ==="
Invoke-HealthCheck -Environment $Environment -Name 'database*', 'redis' -FailureThreshold 1 @config | Format-Table -AutoSize | Out-Host
Get-DatabaseReplication -Environment $Environment @config | Format-Table -AutoSize | Out-Host

Write-Host '--- Connections (pool exhausted?)'
$usage = Get-DatabaseConnectionUsage -Environment $Environment @config
$usage | Format-Table -AutoSize | Out-Host

Write-Host '--- Locks'
$locks = @(Get-DatabaseLock -Environment $Environment @config)
if ($locks.Count -eq 0) { Write-Host 'no blocked queries' } else { $locks | Format-Table -AutoSize | Out-Host }

Write-Host "--- Queries running longer than $LongRunning"
Get-DatabaseActivity -Environment $Environment -MinDuration $LongRunning @config | Format-Table -AutoSize | Out-Host

Write-Host '--- Slowest statements (mean time)'
try {
    Get-DatabaseSlowQuery -Environment $Environment -Top 5 @config | Format-Table -AutoSize | Out-Host
}
catch {
    Write-Warning $_.Exception.Message
}

Write-Host '--- Redis'
Get-RedisInfo -Environment $Environment @config | Format-List Version, Role, MemoryPercent, MemorySeverity, EvictionPolicy, HitRatePercent, EvictedKeys, ConnectedClients | Out-Host

$stopParameters = @{ Terminate = $true; WhatIf = (-not $Remediate) }
if ($Force) { $stopParameters.Force = $true }
Write-Host ('--- {0}' -f $(if ($Remediate) { 'Remediation' } else { 'Remediation preview (-Remediate to act)' }))
$locks | Where-Object BlockingState -like 'idle in transaction*' | Stop-DatabaseQuery @stopParameters @config | Format-Table -AutoSize | Out-Host
Stop-DatabaseQuery -Environment $Environment -OlderThan $KillAfter @stopParameters @config | Format-Table -AutoSize | Out-Host
