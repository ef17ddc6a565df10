#Requires -Version 7.4
# PostgreSQL and Redis operations (issue 4), end to end in pwsh against the servers of tests/servers.sh.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Db = @{ Environment = 'sandbox'; ConfigPath = $SandboxConfig }
}

Describe 'PostgreSQL pipelines' -Skip:(-not $HaveServers) {
    It 'finds a long-running query and -WhatIf terminates nothing' {
        # The password travels in PGPASSWORD, never on a command line.
        $job = Start-ThreadJob -ScriptBlock {
            param($port, $password)
            $env:PGPASSWORD = $password
            & psql -h 127.0.0.1 -p $port -U opsrunbook -d opsrunbook -c 'SELECT pg_sleep(20)' 2>&1 | Out-Null
        } -ArgumentList $Settings.OPSRUNBOOK_PG_PORT, $Settings.OPSRUNBOOK_PG_PASSWORD
        try {
            $found = $null
            foreach ($i in 1..50) {
                $found = Get-DatabaseActivity @Db -MinDuration 300ms | Where-Object Query -like '*pg_sleep(20)*'
                if ($found) { break }
                Start-Sleep -Milliseconds 200
            }
            $found | Should -Not -BeNullOrEmpty
            $found | Stop-DatabaseQuery -Terminate -WhatIf -ConfigPath $SandboxConfig | Should -BeNullOrEmpty
            (Get-DatabaseActivity @Db | Where-Object Pid -eq $found.Pid) | Should -Not -BeNullOrEmpty
            $result = $found | Stop-DatabaseQuery -Terminate -Force -ConfigPath $SandboxConfig
            $result.Outcome | Should -Be 'Stopped'
        }
        finally {
            $job | Stop-Job -PassThru | Remove-Job -Force
        }
    }

    It 'reports sizes, connections, replication and the audit' {
        (Get-DatabaseTableSize @Db -Top 5) | ForEach-Object { $_.TotalBytes | Should -BeGreaterOrEqual 0 }
        (Get-DatabaseConnectionUsage @Db).Severity | Should -Be 'Normal'
        (Get-DatabaseReplication @Db).Role | Should -Be 'primary'
        (Get-DatabaseReplication @Db -Replica).ReceiverStatus | Should -Be 'streaming'
        $audit = Get-DatabaseRoleAudit @Db
        ($audit | Where-Object { $_.PSTypeNames -contains 'OpsRunbook.Engine.Database.DatabaseRoleAudit' }).Role | Should -Contain 'opsrunbook'
        ($audit | Where-Object { $_.PSTypeNames -contains 'OpsRunbook.Engine.Database.DatabasePublicSchemaAudit' }).PublicCanCreate | Should -BeFalse
    }

    It 'previews maintenance with -WhatIf and runs it with -Confirm:$false' {
        Invoke-DatabaseMaintenance @Db -Analyze -WhatIf | Should -BeNullOrEmpty
        $result = Invoke-DatabaseMaintenance @Db -Analyze -Confirm:$false
        $result.Outcome | Should -Be 'Succeeded'
        $result.Operation | Should -Be 'ANALYZE'
    }

    It 'says which privilege is missing instead of showing blanks' {
        $role = 'pester_nomon_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $password = [guid]::NewGuid().ToString('N')
        $psql = Join-Path $Settings.OPSRUNBOOK_PG_BIN 'psql'
        $admin = @('-h', $Settings.OPSRUNBOOK_PG_SOCKET, '-p', $Settings.OPSRUNBOOK_PG_PORT, '-U', 'postgres', '-d', 'opsrunbook', '-q', '-v', 'ON_ERROR_STOP=1')
        # The password travels on stdin, and the server does not log the statement.
        "SET log_statement = 'none'; CREATE ROLE $role LOGIN PASSWORD '$password';" | & $psql @admin | Out-Null
        try {
            $env:PESTER_NOMON_URL = "postgres://${role}:$password@127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)/opsrunbook"
            $activity = @(Get-DatabaseActivity -Connection env:PESTER_NOMON_URL -WarningVariable warnings -WarningAction SilentlyContinue)
            $warnings.Count | Should -Be 1
            "$($warnings[0])" | Should -Match 'results are incomplete: .*pg_read_all_stats.*GRANT pg_monitor'
            @($activity | Where-Object MissingPrivilege).Count | Should -BeGreaterThan 0
            $replication = Get-DatabaseReplication -Connection env:PESTER_NOMON_URL -WarningVariable replicationWarnings -WarningAction SilentlyContinue
            $replication.Severity | Should -Be 'Unknown'
            $replicationWarnings.Count | Should -Be 1
        }
        finally {
            Remove-Item env:PESTER_NOMON_URL -ErrorAction SilentlyContinue
            "DROP ROLE IF EXISTS $role;" | & $psql @admin | Out-Null
        }
    }

    It 'never prints a password that pg_stat_statements kept' {
        $role = 'pester_canary_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $canary = 'Canary-' + [guid]::NewGuid().ToString('N')
        $psql = Join-Path $Settings.OPSRUNBOOK_PG_BIN 'psql'
        $admin = @('-h', $Settings.OPSRUNBOOK_PG_SOCKET, '-p', $Settings.OPSRUNBOOK_PG_PORT, '-U', 'postgres', '-d', 'opsrunbook', '-q', '-v', 'ON_ERROR_STOP=1')
        "SET log_statement = 'none'; CREATE ROLE $role LOGIN PASSWORD '$canary'; DROP ROLE $role;" | & $psql @admin | Out-Null
        $slow = Get-DatabaseSlowQuery @Db -Top 1000 -Full
        $text = ($slow | Format-List * | Out-String -Width 400) + ($slow | ConvertTo-Json -Depth 3)
        $text | Should -Not -Match $canary
        ($slow | Where-Object Query -like "CREATE ROLE $role LOGIN PASSWORD '***'*") | Should -Not -BeNullOrEmpty
    }

    It 'says how to enable pg_stat_statements where it is missing' {
        $url = $Settings.OPSRUNBOOK_DATABASE_URL -replace '/opsrunbook$', '/postgres'
        { Get-DatabaseSlowQuery -Connection $url -ErrorAction Stop } | Should -Throw '*CREATE EXTENSION pg_stat_statements*'
    }

    It 'refuses a wrong password without showing it' {
        $wrong = 'wrong-' + [guid]::NewGuid().ToString('N')
        $url = "postgres://opsrunbook:$wrong@127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)/opsrunbook"
        $err = { Get-DatabaseActivity -Connection $url -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -Match 'password authentication failed'
        $err.Exception.Message | Should -Not -Match $wrong
    }
}

Describe 'Redis' -Skip:(-not $HaveServers) {
    It 'says which ACL permission a Redis user lacks, not to check its password' {
        $user = 'pester_ro_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $password = [guid]::NewGuid().ToString('N')
        $hash = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($password))).ToLowerInvariant()
        # The admin password through REDISCLI_AUTH and the new one as its SHA-256: no clear password on a command line.
        $env:REDISCLI_AUTH = $Settings.OPSRUNBOOK_REDIS_PASSWORD
        $cli = @('-p', $Settings.OPSRUNBOOK_REDIS_PORT, '--user', $Settings.OPSRUNBOOK_REDIS_USER, '--no-auth-warning')
        & redis-cli @cli ACL SETUSER $user on "#$hash" '~*' '+ping' '+auth' '+hello' '+select' | Out-Null
        try {
            $env:PESTER_RO_URL = "redis://${user}:$password@127.0.0.1:$($Settings.OPSRUNBOOK_REDIS_PORT)/0"
            $err = { Get-RedisInfo -Connection env:PESTER_RO_URL -ErrorAction Stop } | Should -Throw -PassThru
            $err.Exception.Message | Should -BeLike "*may not run 'info': ACL SETUSER <that user> +info"
            $err.Exception.Message | Should -Not -BeLike '*check the user and password*'
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        }
        finally {
            & redis-cli @cli ACL DELUSER $user | Out-Null
            Remove-Item env:PESTER_RO_URL, env:REDISCLI_AUTH -ErrorAction SilentlyContinue
        }
    }

    It 'reads INFO typed' {
        $info = Get-RedisInfo @Db
        $info.Role | Should -Be 'master'
        $info.EvictionPolicy | Should -Be 'allkeys-lru'
        $info.MemorySeverity | Should -Be 'Normal'
    }

    It 'counts but does not flush with -WhatIf' {
        $url = $Settings.OPSRUNBOOK_REDIS_URL -replace '/0$', '/9'
        # The password travels in REDISCLI_AUTH, never on a command line.
        $env:REDISCLI_AUTH = $Settings.OPSRUNBOOK_REDIS_PASSWORD
        try {
            $cli = @('--user', 'opsrunbook', '-p', $Settings.OPSRUNBOOK_REDIS_PORT, '-n', '9')
            & redis-cli @cli SET opsrunbook:pester:key 1 2>&1 | Out-Null
            Clear-RedisDatabase -Connection $url -WhatIf | Should -BeNullOrEmpty
            (& redis-cli @cli DBSIZE 2>$null) | Should -Be '1'
            $result = Clear-RedisDatabase -Connection $url -Force
            $result.KeysRemoved | Should -Be 1
        }
        finally {
            Remove-Item env:REDISCLI_AUTH -ErrorAction SilentlyContinue
        }
    }

    It 'lists clients and the slow log' {
        Get-RedisClient @Db | Should -Not -BeNullOrEmpty
        { Get-RedisSlowLog @Db -Count 5 } | Should -Not -Throw
    }
}
