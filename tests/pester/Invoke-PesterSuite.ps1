#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the OpsRunbook Pester suite against the built module (out/OpsRunbook) and the test servers.
.DESCRIPTION
    Called by tests/run.sh after `dotnet build` and tests/servers.sh, in the pwsh that tests/pwsh.sh installs, with
    Pester 5.9.1 from .tools/Modules (tests/pwsh.sh installs it too). Writes "passed failed skipped" to -ResultPath and
    exits non-zero when a test failed or Pester is missing.
#>
[CmdletBinding()]
param(
    [string] $ResultPath
)
$ErrorActionPreference = 'Stop'

$pinned = Join-Path $PSScriptRoot '..' '..' '.tools' 'Modules' 'Pester' '5.9.1' 'Pester.psd1'
if (-not (Test-Path $pinned)) {
    throw "Pester 5.9.1 is missing at ${pinned}: run 'bash tests/pwsh.sh' to install it."
}
Import-Module $pinned -Force

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
