#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the OpsRunbook Pester suite against the built module (out/OpsRunbook) and the test servers.
.DESCRIPTION
    Called by tests/run.sh where pwsh exists, after `dotnet build` and tests/servers.sh. Needs Pester 5.
    Writes "passed failed skipped" to -ResultPath and exits non-zero when a test failed.
#>
[CmdletBinding()]
param(
    [string] $ResultPath
)
$ErrorActionPreference = 'Stop'

$pester = Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version -ge [version]'5.3.0' } | Sort-Object Version -Descending | Select-Object -First 1
if (-not $pester) {
    Write-Host 'Installing Pester 5 for the current user'
    Install-Module -Name Pester -MinimumVersion 5.3.0 -Scope CurrentUser -Force -SkipPublisherCheck
}
Import-Module Pester -MinimumVersion 5.3.0

$configuration = New-PesterConfiguration
$configuration.Run.Path = $PSScriptRoot
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
# Each test file imports the module in a fresh child process where it matters (see OpsRunbook.Tests.ps1).
$result = Invoke-Pester -Configuration $configuration

$summary = '{0} {1} {2}' -f $result.PassedCount, $result.FailedCount, ($result.SkippedCount + $result.NotRunCount)
if ($ResultPath) {
    Set-Content -Path $ResultPath -Value $summary
}
Write-Host ('Pester: {0} passed, {1} failed, {2} skipped' -f $result.PassedCount, $result.FailedCount, ($result.SkippedCount + $result.NotRunCount))
exit $result.FailedCount
