#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 004's "what changed since the deploy?": the log patterns after a deployment against the hour before it.
.DESCRIPTION
    Mines the logs' templates (or the preset's groups) in the window before the deployment and in the window since, then
    lists what is new, what spiked or dropped and what is gone (Compare-LogPattern), and the error rate of each side
    (ERROR and FATAL over all records, the runbooks' error-rate threshold). The logs are -Path files, or, with
    -Environment and no -Path, the platform's own (Get-DeploymentLog: Fly.io, Railway, Compose, Kubernetes). The
    deployment's time is -DeployedAt, or the current release's creation time (Get-DeploymentRelease). Writes the changes
    as objects, so a job can act on them (| Where-Object Change -in New, Spike).
.EXAMPLE
    ./examples/logs-since-deploy.ps1 -Path ./logs/app.log -DeployedAt '2026-11-30T10:00:00Z'
.EXAMPLE
    ./examples/logs-since-deploy.ps1 -Path ./logs/app.jsonl -DeployedAt '2026-11-30T10:00:00Z' -Preset FailedLogin -Baseline 30m
.EXAMPLE
    ./examples/logs-since-deploy.ps1 -Environment production -DeployedAt ((Get-Date).AddMinutes(-5)) -Baseline 1h
#>
[CmdletBinding()]
param(
    # Log files (wildcards, .gz); without them, the environment's platform logs (-Environment).
    [string[]] $Path,
    # When the deployment happened; without it, the current release of -Environment says.
    [string] $DeployedAt,
    # The environment whose logs (without -Path) and current release (without -DeployedAt) are read (runbook.json).
    [string] $Environment,
    # How long before the deployment the baseline reaches.
    [string] $Baseline = '1h',
    # A runbook question instead of every record: Error (default), FailedLogin, Auth, SlowRequest, None.
    [string] $Preset = 'Error',
    [string] $ConfigPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }

$common = @{ Environment = $Environment }
if ($ConfigPath) { $common.ConfigPath = $ConfigPath }
if (-not $Path -and -not $Environment) { throw 'Say where the logs are: -Path <files>, or -Environment <name> to read them from its platform.' }
if ($DeployedAt) {
    $at = [datetimeoffset]::Parse($DeployedAt, [cultureinfo]::InvariantCulture)
} elseif ($Environment) {
    $at = (Get-DeploymentRelease @common | Where-Object Current).CreatedAt
    if (-not $at) { throw "The current release of '$Environment' has no creation time: give -DeployedAt." }
} else {
    throw 'Say when the deployment happened: -DeployedAt <time>, or -Environment <name> to read it from the platform.'
}
$span = switch -Regex ($Baseline) { '^(\d+)m$' { [timespan]::FromMinutes($Matches[1]) } '^(\d+)h$' { [timespan]::FromHours($Matches[1]) } default { [timespan]::Parse($Baseline) } }

# The records: the files, or the platform's logs from the start of the baseline on (read once, counted twice).
$source = if ($Path) { @{ Path = $Path } } else { @{ InputObject = @(Get-DeploymentLog @common -Since $at.Subtract($span)) } }
function Patterns([hashtable] $window) {
    if ($source.Path) { Get-LogPattern -Path $source.Path @window } else { $source.InputObject | Get-LogPattern @window }
}
$before = @(Patterns @{ Preset = $Preset; Since = $at.Subtract($span); Until = $at })
$after = @(Patterns @{ Preset = $Preset; Since = $at })
$now = [datetimeoffset]::UtcNow
$afterSpan = (($after.LastSeen | Measure-Object -Maximum).Maximum ?? $now) - $at
Write-Host ("Deployment at {0:u}; baseline {1} before it ({2} records), {3:N0} minutes since ({4} records)" -f $at.UtcDateTime, $Baseline,
    [long]($before | Measure-Object Count -Sum).Sum, [math]::Max(1, $afterSpan.TotalMinutes), [long]($after | Measure-Object Count -Sum).Sum)

# The error rate on each side (ERROR and FATAL over all records), as the runbooks' thresholds read it.
foreach ($side in @(@{ Name = 'before'; Window = @{ Since = $at.Subtract($span); Until = $at } }, @{ Name = 'since'; Window = @{ Since = $at } })) {
    $levels = Patterns ($side.Window + @{ GroupBy = 'Level' })
    $total = ($levels | Measure-Object Count -Sum).Sum
    $errors = ($levels | Where-Object Pattern -in ERROR, FATAL | Measure-Object Count -Sum).Sum
    if ($total) { Write-Host ("  error rate {0}: {1:N2}% ({2} of {3} records)" -f $side.Name, (100.0 * $errors / $total), $errors, $total) }
}

Compare-LogPattern -Baseline $before -Current $after -BaselineWindow $span -CurrentWindow ([timespan]::FromMinutes([math]::Max(1, $afterSpan.TotalMinutes)))
