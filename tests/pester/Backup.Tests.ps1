#Requires -Version 7.4
# Backups (issue 5), end to end in pwsh against the servers of tests/servers.sh.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Destination = Join-Path $TestDrive 'backups'
}

Describe 'Backup pipeline' -Skip:(-not $HaveServers) {
    It 'backs up, proves the backup by restoring it, and reports' {
        $report = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination $Destination |
            Test-DatabaseBackup -ConfigPath $SandboxConfig -RestoreCheck |
            Export-RunbookReport -Format Markdown -NoCiIntegration
        $report.Failed | Should -Be 0
        $report.Content | Should -Match '### Backup verification'
    }

    It 'lists the backup with its verification' {
        $backup = Get-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $Destination | Select-Object -First 1
        $backup.Status | Should -Be 'Succeeded'
        $backup.VerifiedAt | Should -Not -BeNullOrEmpty
        $backup.Manifest.Tables.Count | Should -BeGreaterThan 0
    }

    It 'backs up to the configured S3 destination' {
        $backup = Backup-Database sandbox -ConfigPath $SandboxConfig
        $backup.BackupUri | Should -BeLike 's3://opsrunbook-backups/sandbox/*'
        $backup.Status | Should -Be 'Succeeded'
    }

    It 'previews a restore with -WhatIf and creates nothing' {
        $target = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $backup = Get-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $Destination | Select-Object -First 1
        $backup | Restore-Database -ConfigPath $SandboxConfig -TargetDatabase $target -WhatIf | Should -BeNullOrEmpty
        $env:PGPASSWORD = $Settings.OPSRUNBOOK_PG_PASSWORD
        try {
            (& psql -h 127.0.0.1 -p $Settings.OPSRUNBOOK_PG_PORT -U opsrunbook -d opsrunbook -Atc "SELECT count(*) FROM pg_database WHERE datname = '$target'") | Should -Be '0'
        }
        finally {
            Remove-Item env:PGPASSWORD
        }
    }

    It 'restores into a new database and refuses to overwrite it without -Force' {
        $target = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $backup = Get-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $Destination | Select-Object -First 1
        ($backup | Restore-Database -ConfigPath $SandboxConfig -TargetDatabase $target -Confirm:$false).Status | Should -Be 'Succeeded'
        { $backup | Restore-Database -ConfigPath $SandboxConfig -TargetDatabase $target -Confirm:$false -ErrorAction Stop } | Should -Throw '*exists*-Force*'
        ($backup | Restore-Database -ConfigPath $SandboxConfig -TargetDatabase $target -Force).Replaced | Should -BeTrue
        $env:PGPASSWORD = $Settings.OPSRUNBOOK_PG_PASSWORD
        try {
            & psql -h 127.0.0.1 -p $Settings.OPSRUNBOOK_PG_PORT -U opsrunbook -d opsrunbook -qc "DROP DATABASE $target WITH (FORCE)" | Out-Null
        }
        finally {
            Remove-Item env:PGPASSWORD
        }
    }

    It 'returns a failed backup as data, with a non-terminating error that names the destination' {
        $blocked = Join-Path $TestDrive 'blocked'
        Set-Content -Path $blocked -Value 'a file where the backup directory should be'
        $failed = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination $blocked -ErrorVariable backupErrors -ErrorAction SilentlyContinue
        $failed.Status | Should -Be 'Failed'
        $failed.ManifestUri | Should -BeNullOrEmpty
        $failed.Error | Should -BeLike "writing $blocked*"
        $backupErrors.Count | Should -Be 1
        $backupErrors[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.BackupFailed*'
        (Get-Item $blocked).PSIsContainer | Should -BeFalse
    }

    It 'reports a backup whose dump is gone as not found, not as a checksum mismatch' {
        $folder = Join-Path $TestDrive 'gone'
        $backup = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination $folder
        Remove-Item -LiteralPath $backup.BackupUri
        $result = $backup | Test-DatabaseBackup -ConfigPath $SandboxConfig -ErrorVariable problems -ErrorAction SilentlyContinue
        $result.Status | Should -Be 'Missing'
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.BackupNotFound*'
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $problems[0].Exception.Message | Should -BeLike '*is gone, though its manifest is there*'
        # Listing says so too: a manifest alone is no backup.
        (Get-DatabaseBackup -Destination $folder | Where-Object BackupUri -eq $backup.BackupUri).Status | Should -Be 'Missing'
        $null = Test-DatabaseBackup -BackupUri (Join-Path $folder 'never-made.dump') -ErrorVariable nothing -ErrorAction SilentlyContinue
        $nothing[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.BackupNotFound*'
    }

    It 'stops at a backup whose test just failed, unless told to go on' {
        $folder = Join-Path $TestDrive 'flipped'
        $backup = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination $folder
        $bytes = [IO.File]::ReadAllBytes($backup.BackupUri)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0xFF
        [IO.File]::WriteAllBytes($backup.BackupUri, $bytes)
        $target = 'pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $out = $backup | Test-DatabaseBackup -ConfigPath $SandboxConfig -ErrorAction SilentlyContinue |
            Restore-Database sandbox -ConfigPath $SandboxConfig -TargetDatabase $target -WhatIf -ErrorVariable problems -ErrorAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        $problems.FullyQualifiedErrorId | Should -Contain 'OpsRunbook.BackupVerificationFailed,OpsRunbook.PowerShell.Cmdlets.RestoreDatabaseCommand'
        (Get-DatabaseBackup -Destination $folder | Where-Object BackupUri -eq $backup.BackupUri).Verified | Should -BeNullOrEmpty
        $null = Restore-Database sandbox -ConfigPath $SandboxConfig -BackupUri $backup.BackupUri -TargetDatabase $target -IgnoreFailedVerification -WhatIf -ErrorVariable overridden -ErrorAction SilentlyContinue
        $overridden | Where-Object FullyQualifiedErrorId -like 'OpsRunbook.BackupVerificationFailed*' | Should -BeNullOrEmpty
    }

    It 'names the database, not the destination, when the database refuses the login' {
        $wrong = 'Wrong-' + [guid]::NewGuid().ToString('N')
        $env:PESTER_WRONG_DB = "postgres://opsrunbook:$wrong@127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)/opsrunbook"
        try {
            $folder = Join-Path $TestDrive 'refused'
            $err = { Backup-Database -Connection env:PESTER_WRONG_DB -Destination $folder -ErrorAction Stop } | Should -Throw -PassThru
            $err.Exception.Message | Should -BeLike "*127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)/opsrunbook*password authentication failed*"
            $err.Exception.Message | Should -Not -BeLike "*$folder*"
            $err.Exception.Message | Should -Not -BeLike "*$wrong*"
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        }
        finally { Remove-Item env:PESTER_WRONG_DB }
    }

    It 'keeps the newest verified backup through retention' {
        $removed = Remove-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $Destination -OlderThan 1ms -Force
        $left = Get-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $Destination
        @($left).Count | Should -Be 1
        $left.VerifiedAt | Should -Not -BeNullOrEmpty
    }

    It 'fails a backup to a stalled S3 endpoint within its request limit, naming the endpoint' {
        # A listener that never accepts: connections open (the kernel's backlog), nothing ever answers. Before, a backup
        # waited 5 minutes per request, times the SDK's and our retries.
        $listener = [System.Net.Sockets.TcpListener]::new([ipaddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $config = Join-Path $TestDrive 'stalled.json'
            @{ environments = @{ stalled = @{
                database = @{ connection = 'env:OPSRUNBOOK_DATABASE_URL' }
                backup = @{ destination = 's3://stalled-bucket/backups/' }
                aws = @{ region = 'us-east-1'; s3Endpoint = "http://127.0.0.1:$port"; requestTimeout = '2s'
                         accessKeyId = 'env:OPSRUNBOOK_S3_ACCESS_KEY'; secretAccessKey = 'env:OPSRUNBOOK_S3_ACCESS_KEY' }
            } } ; system = 'stalled' } | ConvertTo-Json -Depth 8 | Set-Content -Path $config
            $result = Backup-Database stalled -ConfigPath $config -ErrorAction SilentlyContinue
            $result.Status | Should -Be 'Failed'
            $result.Error | Should -BeLike "storing s3://stalled-bucket/backups/* failed: S3 at http://127.0.0.1:$port did not answer * within 2s*"
        }
        finally { $listener.Stop() }
    }

    It 'takes pg_dump along when the session dies by SIG<_>, leaves no password file, and the next backup cleans up' -ForEach 'TERM', 'KILL' -Skip:(-not $IsLinux) {
        # A cancelled CI job, docker stop or systemd sends SIGTERM; an OOM kill or kill -9 sends SIGKILL. pg_dump is made
        # to wait on a table lock, so it is surely running when its session dies.
        $folder = Join-Path $TestDrive "killed-$_"
        $psql = Join-Path $Settings.OPSRUNBOOK_PG_BIN 'psql'
        $env:PGHOST = '127.0.0.1'; $env:PGPORT = $Settings.OPSRUNBOOK_PG_PORT; $env:PGUSER = $Settings.OPSRUNBOOK_PG_USER
        $env:PGPASSWORD = $Settings.OPSRUNBOOK_PG_PASSWORD; $env:PGDATABASE = $Settings.OPSRUNBOOK_PG_DATABASE; $env:PGAPPNAME = "pester-locker-$_"
        # Start-Process joins its arguments with spaces: the statement goes in quotes, the script encoded.
        $locker = Start-Process -FilePath $psql -ArgumentList '-c', '"BEGIN; LOCK TABLE shop.orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);"' -PassThru -RedirectStandardOutput (Join-Path $TestDrive "lock-$_.out") -RedirectStandardError (Join-Path $TestDrive "lock-$_.err")
        try {
            $locked = 0
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while ($locked -lt 1 -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 100
                $locked = [int](& $psql -tAc "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted AND relation = 'shop.orders'::regclass")
            }
            $locked | Should -Be 1 -Because 'the lock that holds pg_dump is taken'
            Remove-Item env:PGPASSWORD
            $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; Backup-Database -Connection env:OPSRUNBOOK_DATABASE_URL -Destination '$folder'"
            $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
            $session = Start-Process -FilePath (Get-Command pwsh).Source -ArgumentList '-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded -PassThru -RedirectStandardOutput (Join-Path $TestDrive "session-$_.out") -RedirectStandardError (Join-Path $TestDrive "session-$_.err")
            # The pwsh on PATH may be the dotnet tool's launcher: the session is whichever process is pg_dump's parent.
            $ppid = { param($id) ((Get-Content "/proc/$id/stat" -ErrorAction SilentlyContinue) -replace '^.*\) \S+ (\d+) .*$', '$1') }
            $dump = $null
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not $dump -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 200
                # The dump itself, not the quick pg_dump --version that comes first.
                $dump = Get-Process -Name pg_dump -ErrorAction SilentlyContinue | Where-Object { $_.CommandLine -like '*--snapshot=*' } | Where-Object {
                    $parent = & $ppid $_.Id
                    $parent -eq $session.Id -or (& $ppid $parent) -eq $session.Id
                } | Select-Object -First 1
            }
            $dump | Should -Not -BeNullOrEmpty -Because 'pg_dump waits on the lock'
            $host_ = & $ppid $dump.Id
            # The password file pg_dump reads is a descriptor of its session: never a name in /tmp.
            ((Get-Content -Raw "/proc/$($dump.Id)/environ") -split "`0" | Where-Object { $_ -like 'PGPASSFILE=*' }) | Should -BeLike "PGPASSFILE=/proc/$host_/fd/*"
            & kill "-$_" $host_
            $gone = $false
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not $gone -and [DateTime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 200
                $gone = -not (Test-Path "/proc/$($dump.Id)") -or (Get-Content "/proc/$($dump.Id)/stat") -match '^\d+ \(\S+\) Z '
            }
            $gone | Should -BeTrue -Because "pg_dump must not outlive a session killed by SIG$_"
            # SIGKILL leaves the partial dump (nothing runs after it); SIGTERM may or may not get to remove it on the way out.
            $partials = @(Get-ChildItem -Recurse -File $folder -Filter *.partial).Count
            if ($_ -eq 'KILL') { $partials | Should -Be 1 } else { $partials | Should -BeLessOrEqual 1 }
        }
        finally {
            # The server would hold the lock until pg_sleep ends: end the locker's session there, not only its client.
            $env:PGPASSWORD = $Settings.OPSRUNBOOK_PG_PASSWORD; $env:PGAPPNAME = 'pester-unlocker'
            & $psql -tAc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pester-locker-$_'" | Out-Null
            Stop-Process -Id $locker.Id -ErrorAction SilentlyContinue
            if ($session -and -not $session.HasExited) { Stop-Process -Id $session.Id -ErrorAction SilentlyContinue }
            Remove-Item env:PGHOST, env:PGPORT, env:PGUSER, env:PGDATABASE, env:PGPASSWORD, env:PGAPPNAME -ErrorAction SilentlyContinue
        }
        # The next backup to that destination removes what the killed one left, and succeeds.
        $locker.WaitForExit(10000) | Out-Null
        $next = Backup-Database -Connection env:OPSRUNBOOK_DATABASE_URL -Destination $folder
        $next.Status | Should -Be 'Succeeded'
        @(Get-ChildItem -Recurse -File $folder -Filter *.partial) | Should -BeNullOrEmpty
    }

    It 'copies a bucket prefix and says how far it is' {
        # The sandbox's S3 backups (the test above made at least one) are the objects to copy.
        $target = "s3://opsrunbook-backups/copies-$([guid]::NewGuid().ToString('N').Substring(0, 8))/{date}/"
        $output = Backup-StorageBucket -Source s3://opsrunbook-backups/sandbox/ -Destination $target -Environment sandbox -ConfigPath $SandboxConfig -Verbose 4>&1
        $result = $output | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $verbose = $output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
        $result.Failed | Should -Be 0
        $result.Copied | Should -BeGreaterThan 0
        $verbose | Where-Object { $_ -like 'Copy: * objects (* MiB) in s3://opsrunbook-backups/sandbox/*' } | Should -Not -BeNullOrEmpty
        @($verbose | Where-Object { $_ -like 'Copy:*' }).Count | Should -Be 1 -Because 'one verbose line per phase, not per object'
    }

    It 'removes the last backup of a database only by name, and says so' {
        $folder = Join-Path $TestDrive 'by-name'
        $backup = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination $folder
        # A rule keeps it ...
        Remove-DatabaseBackup sandbox -ConfigPath $SandboxConfig -Destination $folder -OlderThan 1ms -Force | Should -BeNullOrEmpty
        # ... -WhatIf by name removes nothing ...
        $backup | Remove-DatabaseBackup -ConfigPath $SandboxConfig -WhatIf | Should -BeNullOrEmpty
        @(Get-DatabaseBackup -Destination $folder).Count | Should -Be 1
        # ... and naming it removes it, with a warning that nothing is left.
        $removed = Get-DatabaseBackup -Destination $folder | Remove-DatabaseBackup -ConfigPath $SandboxConfig -Force -WarningVariable warned -WarningAction SilentlyContinue
        $removed.BackupUri | Should -Be $backup.BackupUri
        $warned | Should -BeLike '*no whole backup left*'
        @(Get-DatabaseBackup -Destination $folder) | Should -BeNullOrEmpty
        @(Get-ChildItem -Recurse -File $folder) | Should -BeNullOrEmpty
        $null = Remove-DatabaseBackup -BackupUri $backup.BackupUri -Force -ErrorVariable missing -ErrorAction SilentlyContinue
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.BackupNotFound*'
    }
}
