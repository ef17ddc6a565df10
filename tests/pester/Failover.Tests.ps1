#Requires -Modules Pester
# Test-DatabaseFailover (issue 18, runbook 003's monthly failover drill) in the real pwsh, on a PostgreSQL primary +
# replica of this file's own (tests/pg-pair.sh): -WhatIf changes nothing, the drill promotes and checks the
# environment, a second drill is refused with the reason; the pair is stopped after.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Pair = Start-PgPair
    $env:PAIR_PRIMARY_URL = $Pair.PAIR_PRIMARY_URL
    $env:PAIR_REPLICA_URL = $Pair.PAIR_REPLICA_URL
    $script:Config = Join-Path $TestDrive 'runbook.json'
    @{
        system       = 'drill'
        environments = @{
            drill = @{
                endpoints = @(@{ name = 'simple'; url = "$($Settings.OPSRUNBOOK_APP_URL)/api/simple-health"; timeout = '5s' })
                database  = @{ connection = 'env:PAIR_PRIMARY_URL'; replica = 'env:PAIR_REPLICA_URL'; timeout = '5s' }
                backup    = @{ destination = (Join-Path $TestDrive 'backups'); rto = '2m' }
            }
        }
    } | ConvertTo-Json -Depth 6 | Set-Content -Path $Config
    # A Fly Postgres cluster of a Describe's own: a pair (tests/pg-pair.sh) behind an address that follows the primary,
    # and a fake Fly API of its own (tests/OpsRunbook.FakeCloud) whose cluster app drill-db fails over for real when its
    # primary machine is killed. Environment "production" of the returned Config drills it.
    function Start-FlyCluster {
        function Get-FreePort { $l = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
        $pair = Start-PgPair
        $smPort, $flyPort, $proxyPort = (Get-FreePort), (Get-FreePort), (Get-FreePort)
        $token = 'fm2_' + [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(16))
        $dir = $pair.PAIR_DIR
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive "fly-$smPort")
        $seed = Join-Path $folder 'fly-seed.json'
        @{
            accessKey = 'X'; secretKey = 'X'; secrets = @{}
            fly = @{ port = $flyPort; app = 'drill-app'; token = $token }
            flyPostgres = @{
                app = 'drill-db'
                proxy = @{ port = $proxyPort; primaryPort = [int]$pair.PAIR_PRIMARY_PORT; replicaPort = [int]$pair.PAIR_REPLICA_PORT }
                onKill = "bash '$PairScript' kill-primary '$dir' && bash '$PairScript' promote-replica '$dir'"
            }
        } | ConvertTo-Json -Depth 5 | Set-Content -Path $seed
        $dll = @('Debug', 'Release') | ForEach-Object { Join-Path $RepoRoot 'tests' 'OpsRunbook.FakeCloud' 'bin' $_ 'net10.0' 'OpsRunbook.FakeCloud.dll' } | Where-Object { Test-Path $_ } | Select-Object -First 1
        $dll | Should -Not -BeNullOrEmpty -Because 'dotnet build builds tests/OpsRunbook.FakeCloud'
        $fake = Start-Process dotnet -ArgumentList $dll, $smPort, $seed -PassThru -RedirectStandardOutput (Join-Path $folder 'fakecloud.out') -RedirectStandardError (Join-Path $folder 'fakecloud.err')
        $deadline = (Get-Date).AddSeconds(30)
        while ((Get-Date) -lt $deadline) {
            try { [System.Net.Sockets.TcpClient]::new('127.0.0.1', $proxyPort).Dispose(); break } catch { Start-Sleep -Milliseconds 200 }
        }
        # The application's connection goes through the address that follows the primary.
        $env:FLYDRILL_URL = $pair.PAIR_PRIMARY_URL.Replace(":$($pair.PAIR_PRIMARY_PORT)/", ":$proxyPort/")
        $env:FLYDRILL_TOKEN = $token
        $config = Join-Path $folder 'runbook.json'
        @{
            system       = 'cardmint'
            environments = @{
                production = @{
                    endpoints = @(@{ name = 'simple'; url = "$($Settings.OPSRUNBOOK_APP_URL)/api/simple-health"; timeout = '5s' })
                    database  = @{ connection = 'env:FLYDRILL_URL'; timeout = '5s'; fly = @{ app = 'drill-db'; token = 'env:FLYDRILL_TOKEN'; machinesApi = "http://127.0.0.1:$flyPort/v1" } }
                    backup    = @{ destination = (Join-Path $folder 'backups'); rto = '30s' }
                }
            }
        } | ConvertTo-Json -Depth 6 | Set-Content -Path $config
        @{ Pair = $pair; FakeCloud = $fake; Token = $token; Config = $config; Folder = $folder.FullName
           Password = [regex]::Match($pair.PAIR_PRIMARY_URL, '^postgres://[^:]+:([^@]+)@').Groups[1].Value }
    }
    function Stop-FlyCluster([hashtable] $Cluster) {
        if ($Cluster.FakeCloud) { Stop-Process -Id $Cluster.FakeCloud.Id -ErrorAction SilentlyContinue }
        Stop-PgPair $Cluster.Pair
        Remove-Item Env:FLYDRILL_URL, Env:FLYDRILL_TOKEN -ErrorAction SilentlyContinue
    }
    function Test-InRecovery([string]$Url) { [bool]::Parse((psql $Url -Atc 'SELECT pg_is_in_recovery()').Trim().Replace('t', 'true').Replace('f', 'false')) }
}

AfterAll {
    Stop-PgPair $Pair
    Remove-Item Env:PAIR_PRIMARY_URL, Env:PAIR_REPLICA_URL -ErrorAction SilentlyContinue
}

Describe 'Test-DatabaseFailover' {
    It 'says what the drill would do with -WhatIf and changes nothing' {
        # -WhatIf's lines go to the host, so a child pwsh shows them.
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Test-DatabaseFailover drill -ConfigPath '$Config' -WhatIf" 2>&1 | Out-String
        $output | Should -BeLike '*What if:*Failover drill (pg_promote): Fence 127.0.0.1:*Promote 127.0.0.1:*'
        $output | Should -Not -BeLike "*$($Pair.PAIR_PRIMARY_URL.Split('@')[0])*"   # the login's password is never shown
        Test-InRecovery $Pair.PAIR_REPLICA_URL | Should -BeTrue
    }

    It 'fences, promotes, measures and checks the environment, as a table and a report' {
        $all = Test-DatabaseFailover drill -ConfigPath $Config -Force -Verbose 4>&1
        $result = $all | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Database.FailoverDrillResult' }
        # The login's password (in both URLs) appears in nothing the drill printed, verbose steps included.
        $password = [regex]::Match($Pair.PAIR_PRIMARY_URL, '^postgres://[^:]+:([^@]+)@').Groups[1].Value
        $password | Should -Not -BeNullOrEmpty
        ($all | Out-String -Width 300) + ($result | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$password*"
        (($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n") | Should -BeLike '*Fence the primary*Promote the replica*New primary takes writes*'
        $result.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Database.FailoverDrillResult'
        ($result.Status, $result.DataLossBytes, $result.MetTarget, $result.RecoveryTargetSource) | Should -Be @('Healthy', 0, $true, "environment drill's rto")
        $result.RecoveryTarget | Should -Be ([timespan]::FromMinutes(2))
        $result.Steps.Step | Should -Be @('Fence the primary', 'Replica caught up', 'Promote the replica', 'New primary takes writes', 'Health checks')
        $result.HealthChecks.Name | Sort-Object | Should -Be @('database (promoted)', 'simple')
        $result.HealthChecks.Status | Sort-Object -Unique | Should -Be 'Healthy'
        Test-InRecovery $Pair.PAIR_REPLICA_URL | Should -BeFalse
        ($result | Out-String -Width 200) | Should -BeLike '*Status*RecoveryTime*RecoveryTarget*DataLossBytes*NewPrimary*Reason*Healthy*s*120 s*0*127.0.0.1:*'
        $report = Join-Path $TestDrive 'drill.md'
        $result | Export-RunbookReport -Title 'Monthly failover drill' -Format Markdown -Path $report
        Get-Content $report -Raw | Should -BeLike '*Failover drill*recovered in*no WAL lost*2 health checks healthy*'
    }

    It 'refuses a second drill on the promoted pair and says why' {
        $err = { Test-DatabaseFailover drill -ConfigPath $Config -Force } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.FailoverRefused*'
        $err.Exception.Message | Should -BeLike '*is not in recovery: it is not a replica (was it promoted already?)*'
    }
}

# On Fly (runbook 003's "flyctl machine kill [primary-machine-id] -a cardmint-db"): a pair of this Describe's own behind
# an address that follows the primary (Fly's port 5432), and a fake Fly API of its own (tests/OpsRunbook.FakeCloud) whose
# cluster app fails over for real when its primary machine is killed: the pair's primary dies, its replica is promoted,
# the address moves, the role checks follow, as repmgr does.
Describe 'Test-DatabaseFailover on Fly' {
    BeforeAll {
        $script:Fly = Start-FlyCluster
        $script:FlyPair, $script:FlyToken, $script:FlyConfig, $script:FlyPassword = $Fly.Pair, $Fly.Token, $Fly.Config, $Fly.Password
    }

    AfterAll { Stop-FlyCluster $Fly }

    It 'names the machine it would kill and the replica that would be promoted with -WhatIf, and changes nothing' {
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Test-DatabaseFailover production -ConfigPath '$FlyConfig' -WhatIf -Verbose" 2>&1 | Out-String
        $output | Should -BeLike '*What if:*Failover drill (fly machine kill): Kill machine 5683d920b1558e (iad) of drill-db*repmgr promotes one of: e2865013a63d86*'
        $output | Should -BeLike '*Replica lag before the drill: * bytes of WAL*'
        $output | Should -Not -BeLike "*$FlyToken*"
        $output | Should -Not -BeLike "*$FlyPassword*"
        Test-InRecovery $FlyPair.PAIR_REPLICA_URL | Should -BeTrue
        Test-InRecovery $env:FLYDRILL_URL | Should -BeFalse
    }

    It 'says which setting holds a token Fly refuses, without showing it' {
        $env:FLYDRILL_TOKEN = 'fm2_not-the-token-4c1b'
        try {
            $err = { Test-DatabaseFailover production -ConfigPath $FlyConfig -WhatIf } | Should -Throw -PassThru
        }
        finally { $env:FLYDRILL_TOKEN = $FlyToken }
        $err.Exception.Message | Should -BeLike "*token was refused (401): set a token for app 'drill-db' in `"database`".`"fly`".`"token`"*"
        $err.Exception.Message | Should -Not -BeLike '*not-the-token*'
    }

    It 'kills the primary machine, waits for the promoted replica to take writes, and reports it' {
        $all = Test-DatabaseFailover production -ConfigPath $FlyConfig -Force -Verbose 4>&1
        $result = $all | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Database.FailoverDrillResult' }
        ($all | Out-String -Width 300) + ($result | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$FlyPassword*"
        ($all | Out-String -Width 300) + ($result | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$FlyToken*"
        (($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message -join "`n") | Should -BeLike '*Kill the primary machine*New primary takes writes*A replica was promoted: timeline 1 -> 2*Fly names the new primary*'
        $result.Status | Should -Be 'Healthy' -Because $result.Reason
        $result.Steps.Step | Should -Be @('Kill the primary machine', 'New primary takes writes', 'A replica was promoted', 'Fly names the new primary', 'Health checks')
        ($result.OldPrimary, $result.NewPrimary, $result.DataLossBytes, $result.RecoveryTargetSource) | Should -Be @('machine 5683d920b1558e (iad)', 'machine e2865013a63d86 (iad)', 0, "environment production's rto")
        $result.HealthChecks.Name | Sort-Object | Should -Be @('database', 'simple')
        $result.HealthChecks.Status | Sort-Object -Unique | Should -Be 'Healthy'
        $result.NextSteps[0] | Should -BeLike '*fly machine start 5683d920b1558e -a drill-db*'
        # The application's address takes writes on the promoted server; the old primary is gone.
        Test-InRecovery $env:FLYDRILL_URL | Should -BeFalse
        (psql $env:FLYDRILL_URL -qAtc 'INSERT INTO orders (total_cents) VALUES (5) RETURNING id') | Should -Be '101'
        { psql $FlyPair.PAIR_PRIMARY_URL -Atc 'SELECT 1' 2>&1; if ($LASTEXITCODE) { throw 'down' } } | Should -Throw
        ($result | Out-String -Width 200) | Should -BeLike '*Healthy*machine e2865013a63d86 (iad)*'
    }

    It 'refuses a second drill: no replica is left in the primary region' {
        $err = { Test-DatabaseFailover production -ConfigPath $FlyConfig -Force } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.FailoverRefused*'
        $err.Exception.Message | Should -BeLike '*no started replica of drill-db in the primary region iad (roles: 5683d920b1558e error (stopped), e2865013a63d86 primary (started), 91852e1c7d3e08 replica (started))*'
    }
}

# examples/monthly-failover-drill.ps1 with -Apply, as a scheduled job runs it: the window recorded, the drill on a Fly
# cluster of its own, the report written, the window closed, the job's exit code the report's.
Describe 'The monthly failover drill example, for real' {
    BeforeAll { $script:Cluster = Start-FlyCluster }
    AfterAll { Stop-FlyCluster $Cluster }

    It 'drills, documents and closes the window' {
        $report = Join-Path $Cluster.Folder 'drill.md'
        $example = Join-Path $RepoRoot 'examples' 'monthly-failover-drill.ps1'
        $output = pwsh -NoProfile -NonInteractive -WorkingDirectory $Cluster.Folder -Command "& '$example' -Environment production -ConfigPath '$($Cluster.Config)' -Apply -ReportPath '$report'; exit `$LASTEXITCODE" 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Not -BeLike "*$($Cluster.Password)*"
        $output | Should -Not -BeLike "*$($Cluster.Token)*"
        $output | Should -BeLike '*Maintenance window on production*Status*Healthy*NewPrimary*machine e2865013a63d86 (iad)*Report:*(Healthy: recovered in*'
        Get-Content $report -Raw | Should -BeLike '*production failover drill*Failover drill*machine 5683d920b1558e (iad) -&gt; machine e2865013a63d86 (iad)*recovered in*no WAL lost*'
        Test-InRecovery $Cluster.Pair.PAIR_REPLICA_URL | Should -BeFalse
        # The window was recorded beside the incidents and is closed again.
        $windows = Get-ChildItem -Recurse -File (Join-Path $Cluster.Folder '.opsrunbook' 'incidents' 'maintenance')
        $windows.Count | Should -Be 2
    }
}
