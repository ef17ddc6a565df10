#Requires -Modules Pester
# Invoke-DatabaseLoadTest (runbook 003's weekly pgbench test) in the real pwsh with the real pgbench, on a PostgreSQL
# of this file's own (tests/pg-pair.sh's primary): refusals that say what to do, -WhatIf that creates nothing, pgbench's
# tables created and a run measured, clients that abort as data, and the password never on pgbench's command line.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Pair = Start-PgPair
    $env:LOADTEST_URL = $Pair.PAIR_PRIMARY_URL
    $script:Password = [regex]::Match($Pair.PAIR_PRIMARY_URL, '^postgres://[^:]+:([^@]+)@').Groups[1].Value
    $script:Config = Join-Path $TestDrive 'runbook.json'
    @{
        system       = 'cardmint'
        environments = @{
            weekly = @{ database = @{ connection = 'env:LOADTEST_URL'; timeout = '5s' }; thresholdProfile = 'cardmint' }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content -Path $Config
    function Get-Accounts { psql $Pair.PAIR_PRIMARY_URL -qAtc "SELECT to_regclass('pgbench_accounts') IS NOT NULL" }
}

AfterAll {
    Stop-PgPair $Pair
    Remove-Item Env:LOADTEST_URL -ErrorAction SilentlyContinue
}

Describe 'Invoke-DatabaseLoadTest' {
    It 'refuses a test without pgbench''s tables and says how to get them' {
        $err = { Invoke-DatabaseLoadTest weekly -ConfigPath $Config -Duration 5s } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.LoadTestRefused*'
        $err.Exception.Message | Should -BeLike "*pgbench's tables are not in 127.0.0.1:*/drill: add -Initialize (pgbench -i -s 1: 100000 accounts)*"
    }

    It 'says what it would do with -WhatIf and creates nothing' {
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Invoke-DatabaseLoadTest weekly -ConfigPath '$Config' -Initialize -Scale 2 -WhatIf -Verbose" 2>&1 | Out-String
        $output | Should -BeLike "*What if:*Create pgbench's tables in 127.0.0.1:*/drill (pgbench -i -s 2: 200000 accounts); Run select only from 20 clients on 4 threads for 300 s*"
        $output | Should -BeLike '*pgbench: pgbench (PostgreSQL) *'
        $output | Should -Not -BeLike "*$Password*"
        Get-Accounts | Should -Be 'f'
    }

    It 'creates pgbench''s tables, runs, and reports throughput and percentiles against the environment''s target' {
        $all = Invoke-DatabaseLoadTest weekly -ConfigPath $Config -Initialize -Clients 4 -Threads 2 -Duration 6s -Verbose 4>&1
        $result = $all | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Database.DatabaseLoadTestResult' }
        ($all | Out-String -Width 300) + ($result | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$Password*"
        Get-Accounts | Should -Be 't'
        ($result.Script, $result.Clients, $result.Threads, $result.Duration) | Should -Be @('select only', 4, 2, [timespan]::FromSeconds(6))
        $result.Transactions | Should -BeGreaterThan 0
        $result.Samples | Should -Be $result.Transactions
        $result.LatencyTarget | Should -Be ([timespan]::FromMilliseconds(100))   # the cardmint profile's db_latency_ms warning level
        $result.LatencyP95Ms | Should -BeGreaterOrEqual $result.LatencyP50Ms
        $result.LatencyP99Ms | Should -BeGreaterOrEqual $result.LatencyP95Ms
        $result.Errors.Count | Should -Be 0
        $result.Status | Should -BeIn @('Healthy', 'Degraded')   # p95 against 100 ms depends on this machine's load
        ($result | Out-String -Width 200) | Should -BeLike '*Status*Clients*Tps*LatencyP95Ms*LatencyP99Ms*Reason*tps; p95*'
        # The p95 under load against the environment's db_latency_ms levels (cardmint: 100 / 150 ms).
        $alert = $result | Test-MetricThreshold -ConfigPath $Config
        ($alert.Metric, $alert.Value, $alert.Profile) | Should -Be @('db_latency_ms', $result.LatencyP95Ms, 'weekly')
        $alert.Threshold | Should -BeLike '*100*150*'
        $alert.Subject | Should -BeLike '127.0.0.1:*/drill p95 under load'
        $report = Join-Path $TestDrive 'load.md'
        $result | Export-RunbookReport -Title 'Weekly load test' -Format Markdown -Path $report
        Get-Content $report -Raw | Should -BeLike '*Load test*select only, 4 clients*tps; p95*'
    }

    It 'keeps the password off pgbench''s command line while it runs' {
        $script = Join-Path $TestDrive 'sleep.sql'
        Set-Content -Path $script -Value 'SELECT pg_sleep(0.1);'
        $job = Start-ThreadJob { param($m, $c, $s) Import-Module $m; Invoke-DatabaseLoadTest weekly -ConfigPath $c -ScriptFile $s -Clients 2 -Threads 1 -Duration 8s } -ArgumentList "$ModuleDir/OpsRunbook.psd1", $Config, $script
        $seen = $null
        $deadline = (Get-Date).AddSeconds(20)
        while (-not $seen -and (Get-Date) -lt $deadline) {
            $seen = Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -Match '^\d+$' |
                ForEach-Object { try { [IO.File]::ReadAllText("/proc/$($_.Name)/cmdline") } catch { } } | Where-Object { $_ -like '*pgbench*-f*' }
            Start-Sleep -Milliseconds 200
        }
        $seen | Should -Not -BeNullOrEmpty -Because 'pgbench ran'
        ($seen -join "`n") | Should -Not -BeLike "*$Password*"
        ($seen -join "`n").Replace([char]0, ' ') | Should -BeLike '*-c 2 -j 1 -T 8*'
        $result = $job | Receive-Job -Wait -AutoRemoveJob
        $result.Status | Should -BeIn @('Healthy', 'Degraded')
    }

    It 'reports clients that abort on an error as Unhealthy, with the error' {
        $script = Join-Path $TestDrive 'broken.sql'
        Set-Content -Path $script -Value 'SELECT 1 / (random() * 0)::int;'
        $result = Invoke-DatabaseLoadTest weekly -ConfigPath $Config -ScriptFile $script -Clients 2 -Threads 1 -Duration 2s -WarningVariable warned 3>$null
        ($result.Status, $result.AbortedClients) | Should -Be @('Unhealthy', 2)
        $result.Errors | Should -Contain 'division by zero'
        "$warned" | Should -BeLike '*no transaction completed: division by zero*'
    }
}
