#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 004's critical-outage procedure: confirm the outage, roll back, verify, report.
.DESCRIPTION
    1. Invoke-HealthCheck: what is down, right now (the report keeps it).
    2. When anything is Unhealthy (or -Force), Start-Rollback: to the previous good release, or -Release; it waits until
       the instances are up and the environment's checks pass (-Timeout, default 10 minutes).
    3. Verify: a fresh health check and the deployment's instances.
    4. Export-RunbookReport: the before/after checks and the rollback, for the incident channel (Markdown; in CI the
       step summary). Exit 1 when the environment is still not healthy.
    -WhatIf shows the rollback it would do and changes nothing.
.EXAMPLE
    ./examples/emergency-rollback.ps1 -Environment production
.EXAMPLE
    ./examples/emergency-rollback.ps1 -Environment production -Release v41 -Force -ReportPath ./incident-rollback.md
.EXAMPLE
    ./examples/emergency-rollback.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -Force -WhatIf
#>
[CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    # The release to return to (id or version); default the previous good release.
    [string] $Release,

    # Roll back even when every check passes.
    [switch] $Force,

    [string] $Timeout = '10m',

    [string] $ReportPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }
$results = [System.Collections.Generic.List[object]]::new()

# 1. Confirm the outage
$before = @(Invoke-HealthCheck -Environment $Environment @config)
$results.AddRange([object[]]$before)
$down = @($before | Where-Object Status -EQ 'Unhealthy')
if ($down.Count -eq 0 -and -not $Force) {
    Write-Host "Every check of '$Environment' passes: no rollback (use -Force to roll back anyway)."
}
else {
    $down | Format-Table Name, Status, Reason -AutoSize | Out-String | Write-Host
    # 2. Roll back (Start-Rollback asks for confirmation unless -Force; -WhatIf flows through)
    $rollback = @{ Environment = $Environment; Timeout = $Timeout } + $config
    if ($Release) { $rollback.Release = $Release }
    if ($Force) { $rollback.Force = $true }
    if ($WhatIfPreference) { $rollback.WhatIf = $true }
    $result = Start-Rollback @rollback
    if ($result) { $results.Add($result) }
}

# 3. Verify
$after = @(Invoke-HealthCheck -Environment $Environment @config)
$results.AddRange([object[]]@(Get-DeploymentStatus -Environment $Environment @config))

# 4. Report (the after-checks are what decides the exit code)
$reportParameters = @{ Format = 'Markdown'; Title = "Emergency rollback of $Environment" }
if ($ReportPath) { $reportParameters.Path = $ReportPath }
$summary = @($results + $after) | Export-RunbookReport @reportParameters
if (-not $ReportPath) { $summary.Content }
if (@($after | Where-Object Status -NE 'Healthy').Count -gt 0) { exit 2 }
