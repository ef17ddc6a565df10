#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 004's incident response as one script: detect, declare, tell the team and page, mitigate, verify, close,
    and draft the post-mortem.
.DESCRIPTION
    1. Invoke-HealthCheck: what is failing. Nothing failing: the script says so and stops.
    2. New-Incident -Notify: the incident journal, the runbook's INCIDENT ALERT to the notify targets, a page for
       levels that page at once. Then "what changed in the logs?": the platform's error templates of the last
       -LogWindow against the hour before it (Get-DeploymentLog, Get-LogPattern, Compare-LogPattern), new and spiking
       ones noted on the timeline.
    3. With -Rollback: Start-Rollback to the previous good release, on the incident's timeline.
    4. Verify: a fresh health check on the timeline. All healthy: Close-Incident -Notify and the post-mortem draft
       (-ReportPath); otherwise Set-Incident -Status Mitigating -Notify and exit 2.
.EXAMPLE
    ./examples/incident-response.ps1 -Environment production -Severity P1 -Rollback -ReportPath ./INC.md
.EXAMPLE
    ./examples/incident-response.ps1 -Environment production -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Environment,
    [string] $ConfigPath,
    [string] $Severity = 'P1',
    [switch] $Rollback,
    [string] $ReportPath = './incident-report.md',
    [timespan] $LogWindow = '00:15:00'
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$common = @{ Environment = $Environment }
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }

# 1. Detect
$failing = @(Invoke-HealthCheck @common | Where-Object Status -ne Healthy)
if ($failing.Count -eq 0) {
    "All of $Environment's checks pass: no incident."
    return
}

# 2. Declare, tell the team, page
$incident = $failing | New-Incident @common -Severity $Severity -Notify
if (-not $incident) { return }   # -WhatIf
"Declared $($incident.Id): $($incident.Title) (response due $($incident.ResponseDue.ToString('u')))"

# 2b. Investigate: what changed in the logs (new or spiking errors in the last -LogWindow against the hour before)
$now = [datetimeoffset]::UtcNow
$records = @(Get-DeploymentLog @common -Since $now.Subtract($LogWindow).AddHours(-1) -WarningAction SilentlyContinue)
$changed = @(Compare-LogPattern -Baseline @($records | Get-LogPattern -Preset Error -Until $now.Subtract($LogWindow)) `
    -Current @($records | Get-LogPattern -Preset Error -Since $now.Subtract($LogWindow)) | Where-Object Change -in New, Spike)
if ($changed.Count -gt 0) {
    $note = 'Logs, last {0:N0} min: ' -f $LogWindow.TotalMinutes + (($changed | Select-Object -First 5 | ForEach-Object { "$($_.Change) ×$($_.CurrentCount): $($_.Pattern)" }) -join '; ')
    Add-IncidentEvent $incident @common -Note $note | Out-Null
    $note
}

# 3. Mitigate
if ($Rollback) {
    Start-Rollback @common -Force | Add-IncidentEvent $incident @common | Out-Null
}

# 4. Verify, then close or keep mitigating
$after = @(Invoke-HealthCheck @common)
$after | Add-IncidentEvent $incident @common | Out-Null
if (@($after | Where-Object Status -ne Healthy).Count -eq 0) {
    Close-Incident $incident @common -Resolution ($Rollback ? 'Rolled back to the previous good release' : 'Recovered') -Notify |
        Export-IncidentReport @common -Path $ReportPath
}
else {
    Set-Incident $incident @common -Status Mitigating -Text "$(@($after | Where-Object Status -ne Healthy).Count) checks still failing" -Notify | Out-Null
    exit 2
}
