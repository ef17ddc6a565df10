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

# The examples run last and on their own: they rotate secrets, back up and roll back the sandbox the other files test.
$passed = 0; $failed = 0; $skipped = 0
$examples = @('Examples.Tests.ps1', 'HelpExamples.Tests.ps1' | ForEach-Object { Join-Path $PSScriptRoot $_ })
foreach ($paths in @((Get-ChildItem -Path $PSScriptRoot -Filter *.Tests.ps1 | Where-Object FullName -notin $examples).FullName), $examples) {
    $configuration = New-PesterConfiguration
    $configuration.Run.Path = $paths
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Detailed'
    $result = Invoke-Pester -Configuration $configuration
    $passed += $result.PassedCount; $failed += $result.FailedCount; $skipped += $result.SkippedCount + $result.NotRunCount
}

$summary = '{0} {1} {2}' -f $passed, $failed, $skipped
if ($ResultPath) {
    Set-Content -Path $ResultPath -Value $summary
}
Write-Host ('Pester: {0} passed, {1} failed, {2} skipped' -f $passed, $failed, $skipped)
exit [Math]::Min($failed, 1)
