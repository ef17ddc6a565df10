#Requires -Version 7.4

<#
.SYNOPSIS
    Runbook 000's deployment steps 4-6: deploy, verify, monitor for 15 minutes — rolling back by itself when the deploy is bad.
.DESCRIPTION
    4. Deploy: runs -DeployCommand (your existing one, e.g. 'fly deploy' or 'make fly-deploy'); skipped when omitted,
       for a deploy that another job already started.
    5. Verify: Wait-HealthCheck until every check of the environment is Healthy (-VerifyTimeout, default 10 minutes:
       runbook 000's "doesn't become healthy within 10 minutes"), then Get-DeploymentStatus.
    6. Monitor: Watch-Deployment for -Duration (default 15 minutes); with -AutoRollback it rolls back after 3 unhealthy
       rounds in a row (Fly's rule, for every provider). A failed verification also rolls back with -AutoRollback.
    Everything goes into one report (Markdown; in CI also the step summary). Exit code 2 when the deploy was bad (the exit contract: 2 a check failed, 1 the tool failed).
.EXAMPLE
    ./examples/deploy-and-watch.ps1 -Environment production -DeployCommand 'fly deploy' -AutoRollback
.EXAMPLE
    ./examples/deploy-and-watch.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -Duration 1m -Interval 10s
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    # The command that deploys (run through the shell); omit when the deploy already happened.
    [string] $DeployCommand,

    [string] $VerifyTimeout = '10m',

    [string] $Duration = '15m',

    [string] $Interval = '30s',

    [switch] $AutoRollback,

    [string] $ReportPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }
$results = [System.Collections.Generic.List[object]]::new()
$bad = $false

# 4. Deploy
if ($DeployCommand) {
    Write-Host "== deploying: $DeployCommand"
    if ($IsWindows) { cmd /c $DeployCommand } else { sh -c $DeployCommand }
    if ($LASTEXITCODE -ne 0) { throw "the deploy command failed with exit code $LASTEXITCODE" }
}

# 5. Verify
Write-Host "== verifying (up to $VerifyTimeout)"
try {
    $report = Wait-HealthCheck -Environment $Environment -Timeout $VerifyTimeout @config
    $results.Add($report)
}
catch {
    Write-Warning "verification failed: $($_.Exception.Message)"
    $bad = $true
    if ($AutoRollback) {
        $results.Add((Start-Rollback -Environment $Environment -Force @config))
    }
}
$results.AddRange([object[]]@(Get-DeploymentStatus -Environment $Environment @config))

# 6. Monitor
if (-not $bad) {
    Write-Host "== watching for $Duration"
    $watch = @(Watch-Deployment -Environment $Environment -Duration $Duration -Interval $Interval -AutoRollback:$AutoRollback -Force @config)
    $results.AddRange([object[]]$watch)
    $verdict = $watch[-1]
    if ($verdict.Verdict -ne 'Healthy') { $bad = $true }
    if ($verdict.Rollback) { $results.Add($verdict.Rollback) }
}

$reportParameters = @{ Format = 'Markdown'; Title = "Deployment of $Environment" }
if ($ReportPath) { $reportParameters.Path = $ReportPath }
$summary = $results | Export-RunbookReport @reportParameters
if (-not $ReportPath) { $summary.Content }
if ($bad) { exit 2 }
