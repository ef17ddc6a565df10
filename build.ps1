#Requires -Version 7.4

<#
.SYNOPSIS
    Build, test, demo, benchmark and package OpsRunbook. Only orchestrates dotnet and the repository's scripts.
.EXAMPLE
    ./build.ps1              # Build: dotnet build -c Release -> out/OpsRunbook (what users import: optimized code)
.EXAMPLE
    ./build.ps1 -Task Test   # the README's test command
.EXAMPLE
    ./build.ps1 -Task Demo   # sandbox + daily health check
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package')]
    [string[]] $Task = 'Build',

    # Release by default: the module users import runs optimized code (a Debug Engine scans logs three times slower).
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
# Work from the repository, and leave the caller where it was.
Push-Location $PSScriptRoot

function Invoke-Native {
    param([string] $FilePath, [string[]] $ArgumentList)
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) { throw "$FilePath $($ArgumentList -join ' ') failed with exit code $LASTEXITCODE" }
}

try {
foreach ($t in $Task) {
    switch ($t) {
        'Build' {
            Invoke-Native dotnet @('build', 'OpsRunbook.sln', '-c', $Configuration, '-nologo')
            Write-Host "Module: $(Join-Path $PSScriptRoot 'out' 'OpsRunbook')"
        }
        'Test' {
            # tests/run.sh starts the real servers, runs xunit and Pester, and prints "N passed, N failed, N skipped".
            Invoke-Native bash @('tests/run.sh')
        }
        'Demo' {
            Invoke-Native bash @('demo.sh')
        }
        'Bench' {
            Invoke-Native dotnet @('run', '-c', 'Release', '--project', 'bench/OpsRunbook.Bench', '--', 'all')
        }
        'Package' {
            Invoke-Native dotnet @('build', 'OpsRunbook.sln', '-c', 'Release', '-nologo')
            $version = (Import-PowerShellDataFile 'OpsRunbook.psd1').ModuleVersion
            $zip = Join-Path 'out' "OpsRunbook-$version.zip"
            Compress-Archive -Path 'out/OpsRunbook' -DestinationPath $zip -Force
            Write-Host "Package: $zip (or: Publish-PSResource -Path out/OpsRunbook -Repository <name>)"
        }
    }
}
}
finally {
    Pop-Location
}
