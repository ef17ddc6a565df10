#Requires -Version 7.4
# Monitoring and CI reporting (issue 3), end to end in pwsh against the servers of tests/servers.sh.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Health check to thresholds to report' -Skip:(-not $HaveServers) {
    It 'keeps the readable samples of an exposition with one bad line, and warns which line' {
        $body = [uri]::EscapeDataString("# TYPE up GAUGE`n  up 1`nbroken{ 2`nrequests_total 3`n")
        $samples = Get-ServiceMetric -Uri "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=$body" -WarningVariable warned -WarningAction SilentlyContinue
        $samples.Name | Should -Be @('up', 'requests_total')
        ($samples | Where-Object Name -eq 'up').Type | Should -Be 'Gauge'
        $warned.Count | Should -Be 1
        "$($warned[0])" | Should -Match 'line 3'
    }

    It 'masks a token from a URL variable everywhere, and tells GitHub to mask it too' {
        $config = Join-Path $TestDrive 'url-token.json'
        @{ system = 's'; environments = @{ p = @{ endpoints = @(@{ name = 'status'; url = "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=`${PESTER_URL_TOKEN}"; expect = @('[BODY] == ok') }) } } } |
            ConvertTo-Json -Depth 6 | Set-Content $config
        $token = 'tok-pester-7c1d2e'
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; Invoke-HealthCheck p -ConfigPath '$config' -FailureThreshold 1 | Tee-Object -Variable r | Format-List Name, Status, Reason, Target; `$r | Export-RunbookReport -Format Markdown -FailOn Unhealthy"
        $env:GITHUB_ACTIONS = 'true'; $env:PESTER_URL_TOKEN = $token
        try { $out = @(pwsh -NoProfile -NonInteractive -Command $script 2>&1 | ForEach-Object { "$_" -split "[`r`n]" }) }
        finally { Remove-Item env:GITHUB_ACTIONS, env:PESTER_URL_TOKEN }
        $LASTEXITCODE | Should -Not -Be 0 -Because 'the endpoint echoes the token, so [BODY] == ok fails'
        @($out | Where-Object { $_ -eq "::add-mask::$token" }).Count | Should -Be 1
        $out | Where-Object { $_ -ne "::add-mask::$token" -and $_ -like "*$token*" } | Should -BeNullOrEmpty
        ($out -join "`n") | Should -Match ([regex]::Escape('${PESTER_URL_TOKEN}'))
    }

    It 'prints nothing an Azure or GitHub runner would act on when an endpoint answers with runner commands' {
        # An Azure agent acts on "##vso[" anywhere in a line of stdout or stderr; GitHub on "##[" anywhere and on lines
        # starting with "::". The endpoint tries all three; the job log may show them only broken.
        $body = [uri]::EscapeDataString("##vso[task.setvariable variable=OPSRUNBOOK_PWNED]1`n  ::add-mask::x`r::set-env name=A::b ##[error]x")
        $url = "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=$body"
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; `$r = Invoke-HealthCheck -Uri '$url' -Condition '[BODY] == ok' -FailureThreshold 1; `$r | Format-List Name, Status, Reason; `$r | Export-RunbookReport -Format Markdown -FailOn Unhealthy"
        $env:TF_BUILD = 'True'
        try { $out = pwsh -NoProfile -NonInteractive -Command $script 2>&1 } finally { Remove-Item env:TF_BUILD }
        $LASTEXITCODE | Should -Not -Be 0 -Because '-FailOn Unhealthy fails the job'
        $lines = @($out | ForEach-Object { "$_" -split "[`r`n]" })
        ($lines -join "`n") | Should -Match '# #vso\[task\.setvariable' -Because 'what the endpoint tried stays visible, broken'
        $commands = @($lines | Where-Object { $_ -match '##vso\[' })
        $commands | Should -Not -BeNullOrEmpty -Because 'the module''s own logissue, uploadsummary and output variable lines are there'
        foreach ($line in $commands) {
            $line | Should -MatchExactly '^##vso\[task\.(logissue|uploadsummary|setvariable variable=opsrunbook\.[a-z-]+;isOutput=true\])'
            [regex]::Matches($line, '##vso\[').Count | Should -Be 1
        }
        $lines | Where-Object { $_ -match '##\[' -or $_.TrimStart().StartsWith('::') } | Should -BeNullOrEmpty
    }

    It 'asks a DNS server, and gets an answer too big for UDP over TCP' {
        $dns = "dns://127.0.0.1:$($Settings.OPSRUNBOOK_DNS_PORT)"
        $results = Invoke-HealthCheck -Uri "$dns/app.opsrunbook.test", "$dns/big.opsrunbook.test?type=TXT", "$dns/nothing-here.opsrunbook.test" -FailureThreshold 1
        ($results | Where-Object Name -like '*app*').Status | Should -Be 'Healthy'
        $big = $results | Where-Object Name -like '*big*'
        $big.Status | Should -Be 'Healthy'
        $big.Data.Answers[0].Length | Should -Be 5000
        ($results | Where-Object Name -like '*nothing*').Data.ResponseCode | Should -Be 'NXDOMAIN'
    }

    It 'pipes Invoke-HealthCheck through Test-MetricThreshold into Export-RunbookReport' {
        $health = Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Summary
        $alerts = $health | Test-MetricThreshold -ConfigPath $SandboxConfig
        $alerts | Should -Not -BeNullOrEmpty
        $alerts[0].GetType().FullName | Should -Be 'OpsRunbook.Engine.Metrics.Alert'
        # The sandbox overrides Paintbox's Redis memory rule.
        ($alerts | Where-Object Metric -eq 'redis_memory_percent').Threshold | Should -Be 'warning > 75, critical > 90'
        $report = @($health; $alerts) | Export-RunbookReport -Format Markdown -NoCiIntegration
        $report.Content | Should -Match '### Health checks'
        $report.Content | Should -Match '### Thresholds'
        $report.Failed | Should -Be 0
    }

    It 'writes a JUnit file whose failures are the unhealthy checks' {
        $path = Join-Path $TestDrive 'health.xml'
        $results = @(Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Name simple) + @(Invoke-HealthCheck -Uri 'http://127.0.0.1:1/' -FailureThreshold 1 -TimeoutSec 2)
        $results | Export-RunbookReport -Format JUnit -Path $path -NoCiIntegration | Out-Null
        [xml] $xml = Get-Content -Raw $path
        $xml.testsuites.tests | Should -Be '2'
        $xml.testsuites.failures | Should -Be '1'
    }

    It 'publishes to GitHub Actions when the runner variables are set, and fails with -FailOn' {
        $summary = Join-Path $TestDrive 'summary.md'
        $env:GITHUB_ACTIONS = 'true'
        $env:GITHUB_STEP_SUMMARY = $summary
        try {
            $down = Invoke-HealthCheck -Uri 'http://127.0.0.1:1/' -FailureThreshold 1 -TimeoutSec 2
            { $down | Export-RunbookReport -FailOn Unhealthy -ErrorAction Stop } | Should -Throw '*-FailOn Unhealthy*'
            Get-Content -Raw $summary | Should -Match '## OpsRunbook report'
        }
        finally {
            Remove-Item env:GITHUB_ACTIONS, env:GITHUB_STEP_SUMMARY -ErrorAction SilentlyContinue
        }
    }

    It 'supports -WhatIf on Export-RunbookReport and writes nothing' {
        $path = Join-Path $TestDrive 'whatif.md'
        Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Name simple | Export-RunbookReport -Path $path -WhatIf -NoCiIntegration | Out-Null
        Test-Path $path | Should -BeFalse
    }
}

Describe 'Get-ServiceMetric' -Skip:(-not $HaveServers) {
    It 'reads the sandbox metrics endpoint' {
        $samples = Get-ServiceMetric sandbox -ConfigPath $SandboxConfig
        ($samples | Where-Object Name -eq 'http_requests_total').Value | Should -Be 42
        ($samples | Where-Object Name -eq 'process_uptime_seconds').Type | Should -Be 'Gauge'
    }

    It 'filters by name and reports an unreachable endpoint as an error, not a stop' {
        $samples = Get-ServiceMetric -Uri "$($Settings.OPSRUNBOOK_APP_URL)/api/metrics", 'http://127.0.0.1:1/metrics' -Name 'http_requests_*' -ErrorVariable scrapeErrors -ErrorAction SilentlyContinue
        $samples.Name | Sort-Object -Unique | Should -Be 'http_requests_total'
        $scrapeErrors.Count | Should -Be 1
        $scrapeErrors[0].FullyQualifiedErrorId | Should -Match 'OpsRunbook.MetricScrapeFailed'
    }
}

Describe 'Get-HostResource and Test-MetricThreshold' {
    It 'refuses deserialized results with an error that says why, never silently nothing' {
        $file = Join-Path $TestDrive 'results.xml'
        Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -FailureThreshold 1 -TimeoutSec 1 | Export-Clixml -Path $file
        $alerts = Import-Clixml -Path $file | Test-MetricThreshold -ErrorVariable problems -ErrorAction SilentlyContinue
        $alerts | Should -BeNullOrEmpty
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.NotComparable*'
        $problems[0].Exception.Message | Should -BeLike '*Deserialized.OpsRunbook.Engine.Health.HealthCheckResult*inside the job*'
    }

    It 'measures this machine' {
        $h = Get-HostResource -SampleInterval 200ms
        $h.CpuPercent | Should -BeGreaterOrEqual 0
        $h.MemoryPercent | Should -BeGreaterThan 0
        $h.Disks.Count | Should -BeGreaterThan 0
    }

    It 'applies a built-in runbook profile and extra rules' {
        $alerts = Get-HostResource -SampleInterval 100ms | Test-MetricThreshold -Profile formula-pm -Threshold @{ memory = @{ warning = 0.001 } }
        ($alerts | Where-Object Metric -eq 'memory_percent').Severity | Should -Be 'Warning'
        ($alerts | Where-Object Metric -eq 'disk_percent') | Should -Not -BeNullOrEmpty
    }

    It 'rejects a malformed threshold table with what to write' {
        { Get-HostResource | Test-MetricThreshold -Threshold @{ cpu = 70 } -ErrorAction Stop } | Should -Throw '*@{ warning = 70; critical = 85 }*'
    }
}

Describe 'Wait-HealthCheck' -Skip:(-not $HaveServers) {
    It 'returns one report when everything is already healthy' {
        $rounds = Wait-HealthCheck sandbox -ConfigPath $SandboxConfig -Name simple, deep -Timeout 30s -Interval 1s
        @($rounds).Count | Should -Be 1
        $rounds.Round | Should -Be 1
        $rounds.Status | Should -Be 'Healthy'
    }

    It 'ends with a terminating error naming what still fails' {
        { Wait-HealthCheck -Uri 'http://127.0.0.1:1/' -Timeout 2s -Interval 500ms -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw '*not Healthy after 2s*still failing*'
    }
}

Describe 'Test-MetricThreshold -For: what lasted, not one bad sample' {
    BeforeAll {
        # The sample log's error rate per 5 minutes: 1-3% before the 10:00 deployment, 5-7% after it until 10:25.
        $script:Samples = Measure-LogRecord -Path (Join-Path $RepoRoot 'examples' 'logs' 'app.log') -Window 5m |
            Where-Object Name -eq 'error_rate_percent'
    }

    It 'is critical only when every window of the last 15 minutes was past 5%' {
        $upTo = { param($time) $Samples | Where-Object Timestamp -le ([datetimeoffset]$time) }
        $critical = & $upTo '2026-11-30T10:20:00Z' | Test-MetricThreshold -Profile paintbox -For 15m
        ($critical.Severity, $critical.Samples, $critical.For) | Should -Be @('Critical', 4, [timespan]'00:15:00')
        $critical.Threshold | Should -Be 'warning > 1, critical > 5, for 15m'
        (& $upTo '2026-11-30T10:25:00Z' | Test-MetricThreshold -Profile paintbox -For 15m).Severity | Should -Be 'Warning' -Because '10:25 was 4.66%'
        (& $upTo '2026-11-30T09:55:00Z' | Test-MetricThreshold -Profile paintbox -For 15m).Severity | Should -Be 'Normal' -Because '09:55 was 0.77%'
        # Without -For each window is its own alert: the bad ones are there, one by one.
        @(& $upTo '2026-11-30T10:20:00Z' | Test-MetricThreshold -Profile paintbox -MinimumSeverity Critical).Count | Should -Be 5
    }

    It 'says when the samples cover less than the window' {
        $short = $Samples | Select-Object -First 2 | Test-MetricThreshold -Profile paintbox -For 1h
        $short.Severity | Should -Be 'Normal'
        $short.Threshold | Should -BeLike '*for 1h (samples cover 5m only)'
        { $Samples | Test-MetricThreshold -For 0 -ErrorAction Stop } | Should -Throw
    }
}

Describe 'Get-HostUpdate' {
    It 'lists the updates apt would install, the security ones, and the reboot state, changing nothing' {
        if (-not (Get-Command apt-get -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'apt-get is Debian''s and Ubuntu''s'; return }
        $before = (Get-ChildItem /var/lib/dpkg/status).LastWriteTimeUtc
        $report = Get-HostUpdate
        $report.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Metrics.HostUpdateReport'
        $inst = @(& apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>$null | Where-Object { $_ -like 'Inst *' })
        $report.Pending | Should -Be $inst.Count
        $report.Security | Should -Be @($report.Packages | Where-Object IsSecurity).Count
        $report.RebootRequired | Should -Be (Test-Path /var/run/reboot-required)
        (Get-ChildItem /var/lib/dpkg/status).LastWriteTimeUtc | Should -Be $before -Because 'a simulation installs nothing'
        ($report | Out-String) | Should -BeLike '*ComputerName*Pending*Security*RebootRequired*ListsUpdatedAt*'
        $row = ($report | Export-RunbookReport -NoCiIntegration)
        if ($report.Security -gt 0) { $row.Warnings | Should -Be 1 } else { $row.Passed | Should -Be 1 }
    }
}

Describe 'Test-DnsPropagation' -Skip:(-not $HaveServers) {
    It 'counts the resolvers that answer the expected records, and says which do not' {
        $dns = "127.0.0.1:$($Settings.OPSRUNBOOK_DNS_PORT)"
        $ok = Test-DnsPropagation -Name app.opsrunbook.test -Expected 127.0.0.1 -Resolver $dns
        ($ok.Status, $ok.Agreeing, $ok.Total, $ok.Propagated) | Should -Be @('Healthy', 1, 1, $true)
        $ok.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Health.DnsPropagationResult'
        $moved = Test-DnsPropagation -Name app.opsrunbook.test -Expected 127.0.0.99 -Resolver $dns
        $moved.Status | Should -Be 'Unhealthy'
        $moved.Reason | Should -BeLike "0 of 1 resolvers answer 127.0.0.99 for app.opsrunbook.test A; not yet: ${dns}: NOERROR 127.0.0.1"
        (Test-DnsPropagation -Name opsrunbook.test -Type MX -Expected '10 mail.opsrunbook.test' -Resolver $dns).Propagated | Should -BeTrue
        ($ok | Out-String) | Should -BeLike '*Status*Name*Type*Agreeing*Total*Reason*Healthy*app.opsrunbook.test*'
    }

    It 'waits, bounded, and warns when the resolvers never agree' {
        $dns = "127.0.0.1:$($Settings.OPSRUNBOOK_DNS_PORT)"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $r = Test-DnsPropagation -Name app.opsrunbook.test -Expected 127.0.0.99 -Resolver $dns -Wait -Timeout 2s -Interval 500ms -WarningVariable warned -WarningAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
        $r.Rounds | Should -BeGreaterThan 1
        $warned[0] | Should -BeLike 'not propagated after*'
        { Test-DnsPropagation -Name x -Expected 1.2.3.4 -Resolver dns.example -ErrorAction Stop } | Should -Throw "*'dns.example' is not a resolver*"
    }
}
