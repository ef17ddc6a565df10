#Requires -Modules Pester
# Invoke-VulnerabilityScan (issue 18) in the real pwsh, with fake trivy and npm on PATH that print the scanners'
# recorded reports (tests/OpsRunbook.Engine.Tests/Security/Data: Trivy's integration golden, npm's own audit snapshot)
# and exit as the real ones do: npm audit with 1 when it finds something.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $data = Join-Path $RepoRoot 'tests' 'OpsRunbook.Engine.Tests' 'Security' 'Data'
    $script:Fakes = Join-Path $TestDrive 'bin'
    New-Item -ItemType Directory -Path $Fakes | Out-Null
    Set-Content -Path (Join-Path $Fakes 'trivy') -Value "#!/bin/sh`necho `"`$*`" > '$TestDrive/trivy-args'`ncat '$data/trivy-debian-buster.json'`n"
    Set-Content -Path (Join-Path $Fakes 'npm') -Value "#!/bin/sh`ncat '$data/npm-audit.json'`nexit 1`n"
    chmod +x (Join-Path $Fakes 'trivy') (Join-Path $Fakes 'npm')
    $script:Project = Join-Path $TestDrive 'web'
    New-Item -ItemType Directory -Path $Project | Out-Null
    Set-Content -Path (Join-Path $Project 'package.json') -Value '{ "name": "web" }'
    $script:SavedPath = $env:PATH
}

AfterAll { $env:PATH = $SavedPath }

Describe 'Invoke-VulnerabilityScan' {
    It 'runs Trivy on a folder and an image, findings most severe first' {
        $env:PATH = "$Fakes$([IO.Path]::PathSeparator)$SavedPath"
        $findings = Invoke-VulnerabilityScan $Project
        $findings.Id | Should -Be @('CVE-2019-18224', 'CVE-2019-18276')
        $findings[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Security.VulnerabilityFinding'
        ($findings[0].Severity, $findings[0].Package, $findings[0].FixedVersion) | Should -Be @('Critical', 'libidn2-0', '2.0.5-1+deb10u1')
        Get-Content (Join-Path $TestDrive 'trivy-args') | Should -Be "fs --format json --quiet $Project"
        Invoke-VulnerabilityScan -Image registry.example/app:v3 -MinimumSeverity High | Should -HaveCount 1
        Get-Content (Join-Path $TestDrive 'trivy-args') | Should -Be 'image --format json --quiet registry.example/app:v3'
        ($findings | Out-String -Width 200) | Should -BeLike '*Severity*Id*Package*InstalledVersion*FixedVersion*Title*Critical*CVE-2019-18224*'
    }

    It 'takes npm audit''s exit code 1 for what it is: findings, not a failure' {
        $env:PATH = "$Fakes$([IO.Path]::PathSeparator)$SavedPath"
        $finding = Invoke-VulnerabilityScan $Project -Scanner Npm
        ($finding.Id, $finding.Package, $finding.Severity) | Should -Be @('GHSA-100', 'test-dep-a', 'High')
    }

    It 'gates a report on high and critical findings' {
        $env:PATH = "$Fakes$([IO.Path]::PathSeparator)$SavedPath"
        $report = Invoke-VulnerabilityScan $Project | Export-RunbookReport -NoCiIntegration
        ($report.Failed, $report.Total) | Should -Be @(1, 2)
        $report.Content | Should -BeLike '*### Vulnerabilities*CVE-2019-18224 libidn2-0*fixed in 2.0.5-1+deb10u1*'
    }

    It 'says what is missing when no scanner can run, and when the folder is not there' {
        $env:PATH = '/usr/bin:/bin'
        { Invoke-VulnerabilityScan $TestDrive -ErrorAction Stop } | Should -Throw '*no scanner to run: install Trivy*'
        { Invoke-VulnerabilityScan $Project -Scanner Trivy -ErrorAction Stop } | Should -Throw '*trivy is not installed*'
        $env:PATH = $SavedPath
        { Invoke-VulnerabilityScan (Join-Path $TestDrive 'nope') -ErrorAction Stop } | Should -Throw '*is not a folder to scan*'
    }
}
