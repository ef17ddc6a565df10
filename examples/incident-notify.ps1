#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 004's outage communication: detect, alert the team, page on-call, post updates, resolve.
.DESCRIPTION
    Checks the environment; when something fails it posts the runbook's initial incident alert (Slack/Teams/webhook
    from the environment's "notify" section) with the failing checks, triggers one PagerDuty alert per failing check,
    and, once everything is healthy again, resolves those alerts and posts the resolution. Meant for a scheduled job:
    -StatePath remembers what was already said, so a job every 15 minutes speaks only when something changes.
.EXAMPLE
    ./examples/incident-notify.ps1 -Environment production -Severity P1 -Lead '@dana' -WhatIf
.EXAMPLE
    ./examples/incident-notify.ps1 -Environment production -StatePath ./incident-state.json
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Environment,
    [string] $ConfigPath,
    [ValidateSet('P0', 'P1', 'P2', 'P3')] [string] $Severity = 'P1',
    [string] $Lead = 'on-call',
    [string] $StatePath = (Join-Path ([IO.Path]::GetTempPath()) "opsrunbook-incident-$Environment.json")
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$common = @{ Environment = $Environment }
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }

# 1. Detect (runbook 004: "Production system outage detected").
$checks = Invoke-HealthCheck @common
$failing = @($checks | Where-Object Status -ne Healthy)

# 2. Page on-call for what turned bad, resolve what recovered: one alert per broken check, never one per run.
$checks | Send-RunbookAlert @common -Priority $Severity -OnChange -StatePath "$StatePath.alerts" -WhatIf:$WhatIfPreference | Out-Null

# 3. Tell the team, with the runbook's templates, only when the state changed.
$changes = $checks | Send-RunbookNotification @common -OnChange -StatePath $StatePath -WhatIf:$WhatIfPreference
if ($changes -and $failing.Count -gt 0) {
    Send-RunbookNotification @common -Template IncidentAlert -Field @{
        Severity = $Severity; Impact = ($failing.Name -join ', ') + ' failing'; Lead = $Lead
    } -WhatIf:$WhatIfPreference
}
elseif ($changes) {
    Send-RunbookNotification @common -Template IncidentResolved -Field @{
        Resolution = 'All health checks pass again'; FollowUp = 'Write the incident report within 24 hours'
    } -WhatIf:$WhatIfPreference
}
else {
    $changes
}
