#Requires -Version 7.4
# Logs (issue 16): ConvertFrom-LogLine in the real pwsh, on piped text and on files (gzip too).

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'ConvertFrom-LogLine' {
    It 'reads piped lines, each format in its own way' {
        $r = '{"level":"error","msg":"db timeout","took_ms":5012}', 'at=info method=GET path=/ status=200', '2024-03-12 10:15:30,123 WARNING queue is full' | ConvertFrom-LogLine
        $r.Format | Should -Be @('Json', 'Logfmt', 'Plain')
        $r.Level | Should -Be @('ERROR', 'INFO', 'WARN')
        $r[0].Fields['took_ms'] | Should -Be '5012'
        ($r | Where-Object Level -eq ERROR).Message | Should -Be 'db timeout'
    }

    It 'reads files by wildcard, gzip included, and names each record''s source' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'logs')
        Set-Content (Join-Path $dir 'web.log') -Value 'web-1  | 2024-03-12T10:15:30.5Z {"level":"error","msg":"boom"}', 'web-1  | 2024-03-12T10:15:31Z {"level":"info","msg":"ok"}'
        $gz = Join-Path $dir 'old.log.gz'
        $stream = [IO.Compression.GZipStream]::new([IO.File]::Create($gz), [IO.Compression.CompressionLevel]::Fastest)
        $writer = [IO.StreamWriter]::new($stream); $writer.WriteLine('[pod/app-1/app] 2024-03-12T09:00:00Z ERROR disk full'); $writer.Dispose()
        $r = ConvertFrom-LogLine -Path (Join-Path $dir '*')
        $r.Count | Should -Be 3
        ($r | Where-Object Format -eq Compose).Service | Should -Be @('web', 'web')
        ($r | Where-Object Format -eq Kubectl).Pod | Should -Be 'app-1'
        ($r | Where-Object Pod -eq 'app-1').Source | Should -Be $gz
        { ConvertFrom-LogLine -Path (Join-Path $dir 'missing.log') -ErrorAction Stop } | Should -Throw '*missing.log*'
    }

    It 'masks secrets a line carries' {
        $line = '2024-03-12 10:15:30 ERROR connect to postgres://app:hunter2@db:5432/app failed; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig'
        $text = $line | ConvertFrom-LogLine | Format-List * | Out-String
        $text | Should -Not -Match 'hunter2'
        $text | Should -Not -Match 'eyJhbGciOiJIUzI1NiJ9'
        $text | Should -Match 'postgres://app:\*\*\*@db'
    }

    It 'reads in the format it is told, and what does not fit it in its own' {
        $r = 'at=error msg="x y"', 'plain words' | ConvertFrom-LogLine -Format Logfmt
        $r[0].Message | Should -Be 'x y'
        $r[1].Format | Should -Be 'Plain'
    }
}

Describe 'Get-LogPattern' {
    BeforeAll {
        $logs = Join-Path $RepoRoot 'examples' 'logs'
        $plain = Join-Path $logs 'app.log'
        $json = Join-Path $logs 'app.jsonl'
        function CountsOf($patterns) { $h = @{}; foreach ($p in $patterns) { $h[$p.Pattern] = $p.Count }; $h }
    }

    It 'answers "errors by type" as grep ERROR | cut | sort | uniq -c does, by template' {
        $patterns = Get-LogPattern -Path $plain -Preset Error
        # Counted here without the module: the runbook's pipeline, in PowerShell.
        $expected = Select-String -Path $plain -Pattern ' ERROR ' -SimpleMatch | ForEach-Object { ($_.Line -split ' ')[4].TrimEnd(':') } | Group-Object -NoElement
        $byType = @{}; foreach ($p in $patterns) { $byType[($p.Pattern -split ' ')[1].TrimEnd(':')] = $p.Count }
        $byType.Count | Should -Be $expected.Count
        foreach ($g in $expected) { $byType[$g.Name] | Should -Be $g.Count -Because $g.Name }
        $patterns[0].Pattern | Should -BeLike "checkout TypeError: Cannot read properties of undefined (reading 'price')*<NUM>"
        $patterns[0].Example | Should -BeLike '2026-11-30 1*ERROR checkout TypeError*'
        $patterns[0].Levels['ERROR'] | Should -Be $patterns[0].Count
        ($patterns | Measure-Object Percent -Sum).Sum | Should -BeGreaterThan 99.9
        $patterns[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Logs.LogPattern'
    }

    It 'answers "failed logins by source" from JSON lines, and -GroupBy Field: reads a field' {
        $expected = Get-Content $json | ConvertFrom-Json | Where-Object msg -eq 'login failed' | Group-Object ip -NoElement
        $counts = CountsOf (Get-LogPattern -Path $json -Preset FailedLogin)
        $counts.Count | Should -Be $expected.Count
        foreach ($g in $expected) { $counts[$g.Name] | Should -Be $g.Count }
        $types = CountsOf (Get-LogPattern -Path $json -Preset Error -GroupBy Field:error_type)
        $types['TypeError'] | Should -Be (Get-Content $json | ConvertFrom-Json | Where-Object error_type -eq 'TypeError').Count
        (Get-LogPattern -Path $json -Preset FailedLogin -Top 3).Count | Should -Be 3
    }

    It 'gives the same answer from piped lines, piped records and records that crossed a process boundary' {
        $fromFile = CountsOf (Get-LogPattern -Path $plain -Preset Error)
        $fromLines = CountsOf (Get-Content $plain | Get-LogPattern -Preset Error)
        $records = Get-Content $plain -TotalCount 3000 | ConvertFrom-LogLine
        $fromRecords = CountsOf ($records | Get-LogPattern -Preset Error)
        $clixml = Join-Path $TestDrive 'records.xml'
        $records | Export-Clixml $clixml
        $fromImported = CountsOf (Import-Clixml $clixml | Get-LogPattern -Preset Error)
        foreach ($k in $fromFile.Keys) { $fromLines[$k] | Should -Be $fromFile[$k] }
        $fromRecords.Count | Should -BeGreaterThan 0
        foreach ($k in $fromRecords.Keys) { $fromImported[$k] | Should -Be $fromRecords[$k] }
    }

    It 'reads a time window, levels, a pattern and slow requests' {
        $after = Get-LogPattern -Path $plain -Preset Error -Since '2026-11-30T10:00:00Z'
        $before = Get-LogPattern -Path $plain -Preset Error -Until '2026-11-30T10:00:00Z'
        $before.Pattern | Should -Not -Contain $after[0].Pattern
        ($before | Measure-Object Count -Sum).Sum + ($after | Measure-Object Count -Sum).Sum | Should -Be (Get-LogPattern -Path $plain -Preset Error | Measure-Object Count -Sum).Sum
        (Get-LogPattern -Path $plain -Level warn -GroupBy Level).Pattern | Should -Be 'WARN'
        (Get-LogPattern -Path $plain -Filter 'redis-\d' | Measure-Object Count -Sum).Sum | Should -Be (Select-String -Path $plain -Pattern 'redis-\d').Count
        $slow = Get-LogPattern -Path $json -Preset SlowRequest -SlowerThan 2s
        $slow.Pattern | Should -Contain '/api/orders/<NUM>'
        ($slow | Measure-Object Count -Sum).Sum | Should -Be (Get-Content $json | ConvertFrom-Json | Where-Object response_time_ms -ge 2000).Count
    }

    It 'never shows a secret a line carries, in patterns, examples or -Verbose' {
        $log = Join-Path $TestDrive 'secrets.log'
        Set-Content $log -Value @(
            '2026-11-30 10:00:00 ERROR connect to postgres://app:hunter2@db:5432/app failed',
            '2026-11-30 10:00:01 ERROR call failed with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig',
            '2026-11-30 10:00:02 ERROR retry failed token=tok_live_5f3a9c client_secret=cs_9d8e7f')
        $text = Get-LogPattern -Path $log -Preset Error -Verbose 4>&1 | Format-List * | Out-String
        foreach ($secret in 'hunter2', 'eyJhbGciOiJIUzI1NiJ9', 'tok_live_5f3a9c', 'cs_9d8e7f') { $text | Should -Not -Match $secret }
        $text | Should -Match 'postgres://app:\*\*\*@db'
    }

    It 'says what to fix for a wrong grouping, a wrong pattern or a missing file, and reads the other files' {
        { Get-LogPattern -Path $plain -GroupBy Tempalte -ErrorAction Stop } | Should -Throw '*Template, Level, Service, Instance, Client, Route or Field:<name>*'
        { Get-LogPattern -Path $plain -Filter '(' -ErrorAction Stop } | Should -Throw "*-Filter '(' is not a regular expression*"
        { Get-LogPattern -Path $plain -Since yesterday -ErrorAction Stop } | Should -Throw '*how long ago, for example 15m, 1h or 7d*'
        $r = Get-LogPattern -Path (Join-Path $TestDrive 'missing.log'), $plain -Preset Error -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.InvalidArgument*'
        $r.Count | Should -BeGreaterThan 0
    }

    It 'completes -GroupBy and shows a table by default' {
        (TabExpansion2 -inputScript 'Get-LogPattern -GroupBy Fi' -cursorColumn 26).CompletionMatches.CompletionText | Should -Be 'Field:'
        $table = Get-LogPattern -Path $plain -Preset Error -Top 1 | Out-String -Width 200
        $table | Should -Match 'Count\s+Percent\s+LevelSummary\s+LastSeen\s+Pattern'
        $table | Should -Match 'ERROR \d+'
    }
}

Describe 'Compare-LogPattern' {
    BeforeAll { $plain = Join-Path $RepoRoot 'examples' 'logs' 'app.log' }

    It 'says what changed in the errors since the deploy, from live and from imported patterns' {
        $before = Get-LogPattern -Path $plain -Preset Error -Until '2026-11-30T10:00:00Z'
        $after = Get-LogPattern -Path $plain -Preset Error -Since '2026-11-30T10:00:00Z'
        $changes = Compare-LogPattern -Baseline $before -Current $after
        $new = @($changes | Where-Object Change -eq New)
        $new.Count | Should -Be 1
        $new[0].Pattern | Should -BeLike '*TypeError*'
        $new[0].CurrentCount | Should -Be $after[0].Count
        $all = Compare-LogPattern $before $after -IncludeUnchanged
        $all.Count | Should -Be 4
        $xml = Join-Path $TestDrive 'before.xml'
        $before | Export-Clixml $xml
        (Compare-LogPattern -Baseline (Import-Clixml $xml) -Current $after -IncludeUnchanged).Change | Should -Be $all.Change
    }

    It 'finds spikes and drops by rate, and matches templates generalised differently' {
        $t0 = [datetimeoffset]'2026-11-30T09:00:00Z'
        $base = @(0..59 | ForEach-Object { '{0:yyyy-MM-ddTHH:mm:ssZ} ERROR user alice logged out' -f $t0.AddMinutes($_) }) +
            @(0..59 | ForEach-Object { '{0:yyyy-MM-ddTHH:mm:ssZ} ERROR queue {1} stalled' -f $t0.AddMinutes($_), $_ })
        $now = @(0..59 | ForEach-Object { '{0:yyyy-MM-ddTHH:mm:ssZ} ERROR user bob{1} logged out' -f $t0.AddHours(1).AddSeconds($_ * 10), $_ }) +
            @(0..1 | ForEach-Object { '{0:yyyy-MM-ddTHH:mm:ssZ} ERROR queue {1} stalled' -f $t0.AddHours(1).AddMinutes($_ * 5), $_ })
        $changes = Compare-LogPattern ($base | Get-LogPattern) ($now | Get-LogPattern) -IncludeUnchanged
        # 60 an hour before, 60 in ten minutes now: six times the rate.
        ($changes | Where-Object Change -eq Spike).Pattern | Should -Be 'user <*> logged out'
        ($changes | Where-Object Change -eq Spike).Ratio | Should -BeGreaterThan 5
        ($changes | Where-Object Change -eq Drop).Pattern | Should -Be 'queue <NUM> stalled'
        { Compare-LogPattern -Baseline 'text' -Current ($now | Get-LogPattern) -ErrorAction Stop } | Should -Throw '*compares the LogPattern objects of Get-LogPattern*'
        # Nothing before (no errors until the deploy): everything now is new; nothing now: everything is gone.
        (Compare-LogPattern -Baseline @() -Current ($now | Get-LogPattern)).Change | Sort-Object -Unique | Should -Be 'New'
        (Compare-LogPattern -Baseline ($base | Get-LogPattern) -Current @()).Change | Sort-Object -Unique | Should -Be 'Gone'
    }
}

Describe 'Measure-LogRecord' {
    BeforeAll { $plain = Join-Path $RepoRoot 'examples' 'logs' 'app.log' }

    It 'counts records per window and level, with the error rate the runbooks'' thresholds read' {
        $samples = Measure-LogRecord -Path $plain -Window 10m
        $rates = @($samples | Where-Object Name -eq error_rate_percent)
        $rates.Count | Should -BeGreaterOrEqual 9
        # The 10:00-10:10 window, counted here without the module.
        $window = Get-Content $plain | Where-Object { $_ -like '2026-11-30 10:0*' }
        $errors = @($window | Where-Object { $_ -like '* ERROR *' }).Count
        $at = $rates | Where-Object { $_.Timestamp -eq [datetimeoffset]'2026-11-30T10:00:00Z' }
        $at.Value | Should -Be ([math]::Round(100.0 * $errors / $window.Count, 3))
        ($samples | Where-Object { $_.Name -eq 'log_records' -and $_.Labels['level'] -eq 'ERROR' -and $_.Timestamp -eq $at.Timestamp }).Value | Should -Be $errors
        $checked = $samples | Test-MetricThreshold -Profile paintbox
        ($checked | Where-Object Severity -eq Critical).Count | Should -BeGreaterThan 0
        ($checked | Where-Object Severity -eq Critical).Value | ForEach-Object { $_ | Should -BeGreaterThan 5 }
    }

    It 'groups by another field, takes piped records and says what to fix' {
        $byService = Get-Content $plain -TotalCount 500 | ConvertFrom-LogLine | Measure-LogRecord -Window 1h -GroupBy Service
        $byService.Labels.Keys | Sort-Object -Unique | Should -Be @('service', 'window')
        $byService.Name | Sort-Object -Unique | Should -Be 'log_records'
        { Measure-LogRecord -Path $plain -GroupBy Template -ErrorAction Stop } | Should -Throw '*templates are Get-LogPattern*'
        { Measure-LogRecord -Path $plain -Window 10 -ErrorAction Stop } | Should -Throw '*has no unit*'
    }
}

Describe 'Get-DeploymentLog' -Skip:(-not $HaveServers) {
    # The sandbox's fake Fly.io holds the app's last ten minutes of logs (tests/OpsRunbook.FakeCloud): 60 records from
    # two machines, JSON lines on one and plain lines on the other, errors every 15th and 16th record.
    It 'reads the app''s logs through Fly''s polling API, the app''s own level and fields included' {
        $all = Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -WarningVariable warned
        $all.Count | Should -Be 60
        $warned | Should -BeNullOrEmpty
        ($all | Select-Object -ExpandProperty Instance -Unique | Sort-Object) | Should -Be @('148e21ea7d0e89', '3d8d9e6b2e1d28')
        ($all | Where-Object Region -eq iad).Count | Should -Be 30
        $json = $all | Where-Object { $_.Fields['error_type'] -eq 'DatabaseTimeout' }
        $json.Count | Should -Be 4
        $json[0].Level | Should -Be 'ERROR'
        $all[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Logs.LogRecord'
        $all[0].Timestamp | Should -BeLessThan $all[-1].Timestamp
    }

    It 'filters by level, machine, pattern and tail, and warns when the window reaches past Fly''s buffer' {
        $errors = Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Since 1h -Level error -WarningVariable warned -WarningAction SilentlyContinue
        $errors.Count | Should -Be 8
        $warned[0] | Should -BeLike '*short log buffer*not complete*'
        (Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Instance 3d8d9e6b2e1d28).Count | Should -Be 30
        (Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Filter 'login failed').Count | Should -Be 4
        $tail = Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Tail 3
        $tail.Count | Should -Be 3
        $tail[-1].Message | Should -BeLike 'GET /api/products/59 200*'
        $patterns = Get-DeploymentLog sandbox -ConfigPath $SandboxConfig | Get-LogPattern -Preset Error
        $patterns.Count | Should -Be 2
        ($patterns | Measure-Object Count -Sum).Sum | Should -Be 8
    }

    It 'follows until -Until, stops on Ctrl+C, and says what to fix' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        (Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Follow -Until (Get-Date).AddSeconds(2)).Count | Should -Be 60
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        # Ctrl+C: the pipeline is stopped while the cmdlet waits for new records.
        $ps = [powershell]::Create()
        [void]$ps.AddScript("Import-Module '$(Join-Path $ModuleDir 'OpsRunbook.psd1')'; Get-DeploymentLog sandbox -ConfigPath '$SandboxConfig' -Follow")
        $handle = $ps.BeginInvoke()
        Start-Sleep -Seconds 3
        $stopped = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $stopped.Elapsed.TotalSeconds | Should -BeLessThan 10
        $handle.IsCompleted | Should -BeTrue
        $ps.Dispose()
        { Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Follow -Tail 5 -ErrorAction Stop } | Should -Throw '*with -Follow use -Since*'
        { Get-DeploymentLog sandbox -ConfigPath $SandboxConfig -Http -ErrorAction Stop } | Should -Throw "*-Http reads Railway's request logs*"
    }
}

Describe 'Get-DeploymentLog with Railway and Kubernetes' -Skip:(-not $HaveServers) {
    # The sandbox's fake Railway GraphQL API (a SUCCESS deployment's last ten minutes: 40 lines, errors every tenth, and
    # as many request logs) and fake Kubernetes API server (Deployment shop/app: two pods, an app container and a proxy
    # sidecar), both in tests/OpsRunbook.FakeCloud; Kubernetes through the real kubectl.
    BeforeAll {
        $config = Join-Path $TestDrive 'runbook.json'
        Set-Content -Path $config -Value (@{
            system = 'shop'
            environments = @{
                railway = @{ deploy = @{ provider = 'railway'; project = 'proj-1'; service = 'svc-1'; environment = 'env-1'; token = 'env:OPSRUNBOOK_RAILWAY_TOKEN'; api = '${OPSRUNBOOK_RAILWAY_API}' } }
                kube = @{ deploy = @{ provider = 'kubernetes'; deployment = 'app'; namespace = 'shop'; server = '${OPSRUNBOOK_KUBE_SERVER}' } }
            }
        } | ConvertTo-Json -Depth 5)
        $kubectl = Get-Command kubectl -ErrorAction SilentlyContinue
    }

    It 'reads the newest successful deployment''s logs from Railway, and its request logs with -Http' {
        $all = Get-DeploymentLog railway -ConfigPath $config -Verbose 4>&1
        $verbose = $all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $records = @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $records.Count | Should -Be 40
        $records[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Logs.LogRecord'
        $errors = @(Get-DeploymentLog railway -ConfigPath $config -Level error)
        $errors.Count | Should -Be 4
        $errors[0].Fields['service'] | Should -Be 'orders'
        (Get-DeploymentLog railway -ConfigPath $config -Tail 5)[-1].Message | Should -Be 'GET /api/orders/39 200'
        # @(): a LogPattern has a Count of its own.
        $patterns = @(Get-DeploymentLog railway -ConfigPath $config | Get-LogPattern -Preset Error)
        $patterns.Count | Should -Be 1
        $patterns[0].Pattern | Should -Be 'DatabaseTimeout: query on orders timed out after <NUM> ms'
        (Get-DeploymentLog railway -ConfigPath $config | Get-LogPattern -Preset FailedLogin | Measure-Object Count -Sum).Sum | Should -Be 4
        $slow = Get-DeploymentLog railway -ConfigPath $config -Http | Get-LogPattern -Preset SlowRequest
        ($slow | Measure-Object Count -Sum).Sum | Should -Be 4
        # The project token authenticates every request and is never shown.
        ($records + $verbose | Out-String) | Should -Not -BeLike "*$env:OPSRUNBOOK_RAILWAY_TOKEN*"
    }

    It 'reads every container of the Deployment''s pods through kubectl' {
        if (-not $kubectl) {
            if ($env:OPSRUNBOOK_REQUIRE_SERVERS) { throw 'kubectl is not installed; CI needs it (apt-get install kubectl)' }
            Set-ItResult -Skipped -Because 'kubectl is not installed'
            return
        }
        $records = @(Get-DeploymentLog kube -ConfigPath $config)
        $records.Count | Should -Be 50
        ($records | Select-Object -ExpandProperty Container -Unique | Sort-Object) | Should -Be @('app', 'proxy')
        @($records | Select-Object -ExpandProperty Pod -Unique).Count | Should -Be 2
        ($records | Where-Object Container -eq proxy).Count | Should -Be 10
        $patterns = @($records | Get-LogPattern -Preset Error)
        $patterns.Count | Should -Be 1
        $patterns[0].Count | Should -Be 8
        $patterns[0].Pattern | Should -Be 'ConnectionRefused: connect to redis-<NUM>:<NUM> refused attempt <NUM>'
        @(Get-DeploymentLog kube -ConfigPath $config -Since 1m).Count | Should -BeLessThan 50
    }
}

Describe 'Get-DeploymentLog with Docker Compose' {
    BeforeAll {
        # A docker that answers `compose ... logs` as Compose v2 does with --timestamps --no-color, and records its argv.
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'compose')
        $docker = Join-Path $dir 'docker'
        Set-Content $docker -Value @(
            '#!/usr/bin/env bash'
            'printf ''%s\n'' "$*" >> "$(dirname "$0")/argv.log"'
            'case " $* " in *" logs "*)'
            '  printf ''%s\n'' ''web-1  | 2026-11-30T10:00:00.100000000Z {"level":"info","msg":"listening"}'' ''web-2  | 2026-11-30T10:00:01.000000000Z {"level":"error","msg":"connect to postgres://app:hunter2@db/app failed"}'' ''worker-1  | 2026-11-30T10:00:02.000000000Z level=warn msg="queue slow"'' ;;'
            'esac')
        chmod +x $docker
        Set-Content (Join-Path $dir 'docker-compose.yml') -Value 'services: {}'
        $config = Join-Path $dir 'runbook.json'
        Set-Content $config -Value (@{ system = 'shop'; environments = @{ shop = @{ deploy = @{ provider = 'compose'; service = 'web'; project = 'shop'; docker = $docker } } } } | ConvertTo-Json -Depth 5)
    }

    It 'reads every service''s lines through docker compose logs, as an argument list, secrets masked' {
        $records = Get-DeploymentLog shop -ConfigPath $config -Since '2026-11-30T09:00:00Z'
        $records.Count | Should -Be 3
        $records.Service | Should -Be @('web', 'web', 'worker')
        $records[1].Level | Should -Be 'ERROR'
        $records[1].Instance | Should -Be 'web-2'
        ($records | Format-List * | Out-String) | Should -Not -Match 'hunter2'
        @(Get-Content (Join-Path $dir 'argv.log'))[-1] | Should -BeLike '*logs --timestamps --no-color --since 2026-11-30T09:00:00Z'
        (Get-DeploymentLog shop -ConfigPath $config -Service worker -Level warn).Message | Should -Be 'queue slow'
        @(Get-Content (Join-Path $dir 'argv.log'))[-1] | Should -BeLike '*logs --timestamps --no-color worker'
    }
}
