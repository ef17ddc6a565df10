#Requires -Modules Pester
# Fleets on the CI system's own engine (issue 17): the plan step's matrix for GitHub Actions and Azure Pipelines, with
# the runners' files and variables set as the runners set them.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    function New-Fleet([string] $Path, [string] $System, [string[]] $Names) {
        $environments = [ordered]@{}
        foreach ($name in $Names) { $environments[$name] = @{ endpoints = @(@{ name = 'web'; url = "http://127.0.0.1:1/$([uri]::EscapeDataString($name))" }) } }
        Set-Content -Path $Path -Value (@{ system = $System; environments = $environments } | ConvertTo-Json -Depth 6)
        $Path
    }
    $script:Shop = New-Fleet (Join-Path $TestDrive 'shop.json') 'shop' @('prod-eu', 'prod-us', 'prod-ap 1', 'staging')
    $script:Billing = New-Fleet (Join-Path $TestDrive 'billing.json') 'billing' @('prod-eu')
}

Describe 'Export-RunbookMatrix' {
    It 'writes a job per environment to $GITHUB_OUTPUT for fromJSON, and nothing with -WhatIf' {
        $output = Join-Path $TestDrive 'github_output'
        Set-Content $output -Value 'earlier=1'
        $env:GITHUB_ACTIONS = 'true'; $env:GITHUB_OUTPUT = $output
        try {
            Export-RunbookMatrix -ConfigPath $Shop -WhatIf | Out-Null
            (Get-Content $output) | Should -Be @('earlier=1')
            $matrix = Export-RunbookMatrix -ConfigPath $Shop prod-*
        }
        finally { Remove-Item env:GITHUB_ACTIONS, env:GITHUB_OUTPUT }
        $matrix.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Reporting.RunbookMatrix'
        $lines = Get-Content $output
        $lines[0] | Should -Be 'earlier=1'
        $lines[1] | Should -BeLike 'matrix={"include":*'
        $lines[2] | Should -Be 'matrix-jobs=3'
        # What the workflow's fromJSON(needs.plan.outputs.matrix) reads.
        $include = ($lines[1].Substring('matrix='.Length) | ConvertFrom-Json).include
        $include.environment | Should -Be @('prod-eu', 'prod-us', 'prod-ap 1')
        $include.name | Should -Be @('prod_eu', 'prod_us', 'prod_ap_1')
        ($matrix | Out-String) | Should -BeLike '*Environments*Jobs*Systems*3*3*shop*'
    }

    It 'sets an Azure output variable with named jobs' {
        # The agent reads the step's output: a child pwsh, as the step runs.
        $env:TF_BUILD = 'True'
        try { $printed = pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Join-Path $ModuleDir 'OpsRunbook.psd1')'; Export-RunbookMatrix -ConfigPath '$Shop' -PerJob 2 | Out-Null" | Out-String }
        finally { Remove-Item env:TF_BUILD }
        $line = ($printed -split "`n" | Where-Object { $_ -like '##vso`[task.setvariable variable=matrix;*' })
        $line | Should -Not -BeNullOrEmpty -Because $printed
        $jobs = ($line.Substring($line.IndexOf(']') + 1) | ConvertFrom-Json -AsHashtable)
        $jobs.Keys | Sort-Object | Should -Be @('prod_ap_1_and_1_more', 'prod_eu_and_1_more')
        $jobs['prod_eu_and_1_more'].environment | Should -Be 'prod-eu,prod-us'
    }

    It 'spans several runbook.json files, one per system, each entry naming its system and file' {
        $matrix = @(Get-RunbookEnvironment -ConfigPath $Shop; Get-RunbookEnvironment -ConfigPath $Billing) | Export-RunbookMatrix -System -NoCiIntegration
        $include = ($matrix.GitHub | ConvertFrom-Json).include
        $include.Count | Should -Be 5
        $last = $include[-1]
        ($last.system, $last.environment, $last.config) | Should -Be @('billing', 'prod-eu', $Billing)
        $include[0].name | Should -Be 'shop_prod_eu'
    }

    It 'refuses more jobs than a GitHub matrix runs, and says which -PerJob fits' {
        $big = New-Fleet (Join-Path $TestDrive 'big.json') 'big' @(1..300 | ForEach-Object { "env-$_" })
        $err = { Export-RunbookMatrix -ConfigPath $big -NoCiIntegration -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.MatrixTooLarge*'
        $err.Exception.Message | Should -BeLike '*300 environments make 300 jobs*at most 256: use -PerJob 2*'
        (Export-RunbookMatrix -ConfigPath $big -PerJob 2 -NoCiIntegration).Jobs.Count | Should -Be 150
    }
}

Describe 'Fan-out inside one job' -Skip:(-not $HaveServers) {
    BeforeAll {
        # Three environments of the sandbox, as three regions of one system would be.
        $config = Get-Content -Raw -Path $SandboxConfig | ConvertFrom-Json -AsHashtable
        $config.Remove('$schema')
        foreach ($name in 'eu', 'us') { $config.environments[$name] = $config.environments['sandbox'] }
        $script:FleetConfig = Join-Path $TestDrive 'fleet.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content -Path $FleetConfig
    }

    It 'checks every environment -Environment names in one run, each result tagged with its environment and system' {
        $names = (Get-RunbookEnvironment -ConfigPath $FleetConfig).Name
        $names | Should -Be @('sandbox', 'eu', 'us')
        $results = Invoke-HealthCheck -ConfigPath $FleetConfig -Environment $names -Name simple, tcp -Summary
        $entries = $results | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Health.HealthCheckResult' }
        $entries.Count | Should -Be 6
        ($entries | Group-Object Environment | Sort-Object Name).Name | Should -Be @('eu', 'sandbox', 'us')
        $entries.System | Select-Object -Unique | Should -Be 'sandbox'
        $results[-1].Entries.Count | Should -Be 6
        # Wildcards choose environments too.
        (Invoke-HealthCheck -ConfigPath $FleetConfig -Environment e*, u* -Name simple).Environment | Sort-Object | Should -Be @('eu', 'us')
    }

    It 'keeps its results usable across a job, Clixml and JSON, and says when a list cannot label -Uri results' {
        $file = Join-Path $TestDrive 'results.xml'
        Invoke-HealthCheck -ConfigPath $FleetConfig -Environment eu, us -Name simple | Export-Clixml -Path $file
        $back = Import-Clixml -Path $file
        ($back.System | Select-Object -Unique) | Should -Be 'sandbox'
        { Invoke-HealthCheck -Uri $Settings.OPSRUNBOOK_APP_URL -Environment eu, us -ErrorAction Stop } | Should -Throw '*one name that labels the results*'
    }
}

Describe 'Results that cross the boundaries jobs cross' -Skip:(-not $HaveServers) {
    BeforeAll {
        $script:Failing = Invoke-HealthCheck -ConfigPath $SandboxConfig sandbox -Name simple, tcp -Summary
        $script:Down = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -Environment sandbox -FailureThreshold 1 -TimeoutSec 1
    }

    It 'read back from JSON, check the same targets again and are judged by their status' {
        $json = $Failing | ConvertTo-Json -Depth 10 -WarningAction SilentlyContinue | ConvertFrom-Json
        $again = $json | Invoke-HealthCheck -ConfigPath $SandboxConfig
        ($again.Name | Sort-Object) | Should -Be @('simple', 'tcp') -Because 'each result names its target; the environment is not checked whole'
        $report = $Down | ConvertTo-Json -Depth 10 -WarningAction SilentlyContinue | ConvertFrom-Json | Export-RunbookReport -NoCiIntegration
        ($report.Failed, $report.Total) | Should -Be @(1, 1)
    }

    It 'a deserialized BackupInfo is tested by Test-DatabaseBackup, which binds its BackupUri and Environment by name' {
        $file = Join-Path $TestDrive 'backup.xml'
        Backup-Database sandbox -ConfigPath $SandboxConfig -Destination (Join-Path $TestDrive 'backups') | Export-Clixml -Path $file
        $back = Import-Clixml -Path $file
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.OpsRunbook.Engine.Backup.BackupInfo'
        $verification = $back | Test-DatabaseBackup -ConfigPath $SandboxConfig
        $verification.Status | Should -Be 'Verified'
        $verification.BackupUri | Should -Be $back.BackupUri
    }

    It 'from Start-Job, format with the module''s views and bind to the next cmdlet' {
        $job = Start-Job { param($m, $c) Import-Module $m; Invoke-HealthCheck -ConfigPath $c sandbox -Name simple } -ArgumentList (Join-Path $ModuleDir 'OpsRunbook.psd1'), $SandboxConfig
        $back = $job | Wait-Job | Receive-Job
        $job | Remove-Job
        $back.PSObject.TypeNames[0] | Should -Be 'Deserialized.OpsRunbook.Engine.Health.HealthCheckResult'
        ($back | Out-String) | Should -BeLike '*Status*Environment*Name*Kind*LatencyMs*Reason*Healthy*sandbox*simple*'
        ($back | Invoke-HealthCheck -ConfigPath $SandboxConfig).Name | Should -Be 'simple'
        ($back | Export-RunbookReport -NoCiIntegration).Passed | Should -Be 1
    }
}

Describe 'The scheduled-job definitions in examples/' {
    BeforeAll {
        $script:Validator = Join-Path $RepoRoot 'tests' 'servers' 'node_modules' '@action-validator' 'cli' 'cli.mjs'
        $script:Ci = Join-Path $RepoRoot 'examples' 'ci'
    }

    It 'GitHub workflow <_> passes the workflow schema (action-validator)' -ForEach @('github-actions-fleet.yml', 'github-actions-health-check.yml') {
        if (-not (Test-Path $Validator)) {
            if ($env:OPSRUNBOOK_REQUIRE_SERVERS) { throw "the workflow validator is not installed: tests/servers.sh install" }
            Set-ItResult -Skipped -Because 'the workflow validator is not installed (tests/servers.sh install)'
            return
        }
        $output = node $Validator (Join-Path $Ci $_) 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
    }

    It 'the validator refuses a broken workflow, so its pass means something' {
        if (-not (Test-Path $Validator)) { Set-ItResult -Skipped -Because 'no validator'; return }
        $broken = Join-Path $TestDrive 'broken.yml'
        (Get-Content -Raw (Join-Path $Ci 'github-actions-fleet.yml')).Replace('runs-on:', 'runs_on:') | Set-Content $broken
        node $Validator $broken *> $null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'the GitHub fleet plans a matrix, keeps one run per environment, runs off the hour and keeps the reports' {
        $text = Get-Content -Raw (Join-Path $Ci 'github-actions-fleet.yml')
        $text | Should -Match 'Export-RunbookMatrix'
        $text | Should -Match 'matrix: \$\{\{ fromJSON\(needs\.plan\.outputs\.matrix\) \}\}'
        $text | Should -Match 'matrix: \$\{\{ steps\.plan\.outputs\.matrix \}\}'
        $text | Should -Match '(?m)^    concurrency:\s*\n\s+group: health-\$\{\{ matrix\.system \}\}-\$\{\{ matrix\.environment \}\}'
        $text | Should -Match 'id-token: write'
        $text | Should -Match 'actions/upload-artifact'
        $text | Should -Match '-OutputDirectory report -FailOn Unhealthy'
        # Off the hour: no schedule fires at minute 0.
        foreach ($cron in [regex]::Matches($text, "cron: '([^']+)'")) { $cron.Groups[1].Value.Split(' ')[0] -split ',' | Should -Not -Contain '0' }
        foreach ($file in Get-ChildItem $Ci) { Get-Content -Raw $file.FullName | Should -Not -Match 'Get-HostResource' -Because "$($file.Name) must check production, not the runner" }
    }

    It 'the Azure fleet reads the plan job''s matrix and runs on schedule whether or not the code changed' {
        $text = Get-Content -Raw (Join-Path $Ci 'azure-pipelines-fleet.yml')
        $text | Should -Match "matrix: \`$\[ dependencies\.plan\.outputs\['plan\.matrix'\] \]"
        $text | Should -Match 'always: true'
        $text | Should -Match 'batch: true'
        $text | Should -Match 'name: plan'
    }
}
