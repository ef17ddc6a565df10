#Requires -Modules Pester
# Find-StaleFile and Remove-StaleFile (issue 18) in the real pwsh, on real files: runbook 001's weekly cleanup of logs
# and backups, a link out of the root, a log still held open by a real process, -WhatIf, the account and its report.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    function New-OldFile([string]$Path, [int]$DaysOld, [int]$Bytes = 100) {
        New-Item -ItemType Directory -Force -Path (Split-Path $Path) | Out-Null
        [IO.File]::WriteAllBytes($Path, [byte[]]::new($Bytes))
        [IO.File]::SetLastWriteTimeUtc($Path, [datetime]::UtcNow.AddDays(-$DaysOld))
        (Resolve-Path $Path).ProviderPath
    }
}

Describe 'Find-StaleFile and Remove-StaleFile' {
    BeforeEach {
        $script:Logs = Join-Path $TestDrive "logs-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $script:Outside = Join-Path $TestDrive "outside-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        New-Item -ItemType Directory -Path $Logs, $Outside | Out-Null
    }

    It 'finds the old logs by name, never through a link out of the root, and shows them as a table' {
        $old = New-OldFile (Join-Path $Logs 'app.log') 40 2000
        $rotated = New-OldFile (Join-Path $Logs 'nginx' 'access.log.2.gz') 35
        New-OldFile (Join-Path $Logs 'today.log') 0 | Out-Null
        New-OldFile (Join-Path $Logs 'notes.txt') 90 | Out-Null
        $precious = New-OldFile (Join-Path $Outside 'etc' 'precious.log') 400
        New-Item -ItemType SymbolicLink -Path (Join-Path $Logs 'escape') -Target (Split-Path $precious) | Out-Null
        $found = Find-StaleFile $Logs -Include '*.log', '*.gz' -OlderThan 30d -Verbose 4>&1
        $files = $found | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $files.Path | Sort-Object | Should -Be (@($old, $rotated) | Sort-Object)
        $files[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Cleanup.StaleFile'
        ($found | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain "Passed by $((Resolve-Path $Logs).ProviderPath)/escape: a link (to $(Split-Path $precious)); links are not followed"
        $table = $files | Out-String -Width 200
        $table | Should -BeLike '*LastWriteTime*Age*Size*InUse*Path*'
        $table | Should -BeLike '*40d*0.0 MiB*False*app.log*'
        ($files | Measure-Object Length -Sum).Sum | Should -Be 2100
        # Relative paths and pipeline input resolve as in any cmdlet.
        Push-Location $Logs
        try { (Find-StaleFile . -Include '*.log' -OlderThan 30d -MaxDepth 0).Path | Should -Be $old } finally { Pop-Location }
        (Get-Item $Logs | Find-StaleFile -Include 'app.log' -OlderThan 30d).Path | Should -Be $old
    }

    It 'removes what the search finds after asking -WhatIf, keeps the newest backups, and accounts for every byte' {
        $backups = 0..4 | ForEach-Object { New-OldFile (Join-Path $Logs "db-$_.sql.gz") (40 + $_) 1000 }
        $before = Get-ChildItem $Logs | Measure-Object
        Remove-StaleFile $Logs -Include '*.sql.gz' -OlderThan 30d -KeepLatest 2 -WhatIf | Should -BeNullOrEmpty
        (Get-ChildItem $Logs | Measure-Object).Count | Should -Be $before.Count
        $result = Remove-StaleFile $Logs -Include '*.sql.gz' -OlderThan 30d -KeepLatest 2
        $result.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Cleanup.CleanupResult'
        ($result.Removed, $result.Skipped, $result.Failed, $result.ReclaimedBytes) | Should -Be @(3, 0, 0, 3000)
        (Get-ChildItem $Logs).FullName | Sort-Object | Should -Be ($backups[0..1] | Sort-Object)
        ($result | Out-String -Width 200) | Should -BeLike '*Kind*Removed*Reclaimed*Skipped*Failed*Target*Stale files*3*2.9 KiB*0*0*'
        $report = Join-Path $TestDrive 'cleanup.md'
        $result | Export-RunbookReport -Title 'Weekly cleanup' -Format Markdown -Path $report
        Get-Content $report -Raw | Should -BeLike '*Stale files*removed 3, reclaimed 2.9 KiB*'
    }

    It 'skips a log a process still writes, with the reason, and warns in the report' {
        $held = New-OldFile (Join-Path $Logs 'worker.log') 40 500
        $free = New-OldFile (Join-Path $Logs 'old-worker.log') 40 700
        $start = [System.Diagnostics.ProcessStartInfo]::new('bash')
        $start.ArgumentList.Add('-c')
        $start.ArgumentList.Add("exec 3>>'$held'; sleep 60")
        $writer = [System.Diagnostics.Process]::Start($start)
        try {
            $deadline = [datetime]::UtcNow.AddSeconds(10)
            while (-not (Find-StaleFile $Logs -Include 'worker.log' -OlderThan 30d).InUse -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            $found = Find-StaleFile $Logs -OlderThan 30d
            ($found | Where-Object Path -eq $held).OpenedBy | Should -Contain $writer.Id
            $result = $found | Remove-StaleFile -Verbose 4>&1
            $account = $result | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Cleanup.CleanupResult' }
            ($account.Removed, $account.Skipped, $account.ReclaimedBytes) | Should -Be @(1, 1, 700)
            ($result | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain "Skipped ${held}: held open by process $($writer.Id): deleting it would free nothing until they close it"
            Test-Path $held | Should -BeTrue
            Test-Path $free | Should -BeFalse
            $json = Join-Path $TestDrive 'held.json'
            $account | Export-RunbookReport -Format Json -Path $json
            (Get-Content $json -Raw | ConvertFrom-Json).items[0].outcome | Should -Be 'Warn'
        }
        finally { Stop-Process -Id $writer.Id -ErrorAction SilentlyContinue }
    }

    It 'says what to fix for a missing directory, a file, or a root it must not clean' {
        $err = $null
        Find-StaleFile (Join-Path $Logs 'nope') -OlderThan 1d -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.PathNotFound*'
        $err[0].Exception.Message | Should -BeLike '*does not exist*'
        $file = New-OldFile (Join-Path $Logs 'a.log') 40
        Find-StaleFile $file -OlderThan 1d -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].Exception.Message | Should -BeLike "*is a file; name the directory to clean (and -Include for the file names)*"
        { Remove-StaleFile / -OlderThan 365d -WhatIf } | Should -Throw "*does not clean '/'*"
        { Find-StaleFile $Logs -OlderThan soon } | Should -Throw '*duration*'
        Test-Path $file | Should -BeTrue
    }
}

Describe 'Get-ContainerStorage and Clear-ContainerStorage' -Skip:(-not $env:OPSRUNBOOK_SERVERS_ENV) {
    # The real docker CLI against the sandbox's fake Docker engine (built from the CLI's own API types).
    BeforeEach {
        $script:Engine = $Settings.OPSRUNBOOK_DOCKER_HOST
        Invoke-RestMethod -Method Post -Uri (($Engine -replace '^tcp://', 'http://') + '/_fake/seed') | Out-Null
    }

    It 'shows docker system df as objects and a table' {
        $usage = Get-ContainerStorage -DockerHost $Engine
        $usage.Type | Should -Be @('Images', 'Containers', 'Local Volumes', 'Build Cache')
        $usage[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Cleanup.ContainerStorageUsage'
        ($usage | Where-Object Type -eq 'Images').ReclaimableBytes | Should -Be 230000000
        $table = $usage | Out-String -Width 200
        $table | Should -BeLike '*Type*TotalCount*Active*Size*Reclaimable*ReclaimablePercent*Images*4*3*915.5 MiB*219.3 MiB*24%*'
        $env:DOCKER_HOST = $Engine
        try { (Get-ContainerStorage).Count | Should -Be 4 } finally { Remove-Item Env:DOCKER_HOST }
    }

    It 'prunes what docker system prune would, asks first with the reclaimable space, and accounts for it' {
        # -WhatIf's lines go to the host, so a child pwsh shows them.
        $whatIf = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Clear-ContainerStorage -DockerHost '$Engine' -WhatIf" 2>&1 | Out-String
        $whatIf | Should -BeLike '*Prune stopped containers (docker counts 4.8 MiB of Containers reclaimable)*'
        $whatIf | Should -BeLike '*Prune dangling images (docker counts 219.3 MiB of Images reclaimable)*'
        $whatIf | Should -Not -BeLike '*volumes*'
        (Get-ContainerStorage -DockerHost $Engine | Where-Object Type -eq Containers).TotalCount | Should -Be 3
        $result = Clear-ContainerStorage -DockerHost $Engine -Force
        $result.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Cleanup.CleanupResult'
        ($result.Kind, $result.Target, $result.Failed) | Should -Be @('Container storage', $Engine, 0)
        $result.ReclaimedBytes | Should -Be 305000000
        $result.Items.Name | Should -Contain 'network old_default'
        (Get-ContainerStorage -DockerHost $Engine | Where-Object Type -eq 'Local Volumes').TotalCount | Should -Be 3
        $report = Join-Path $TestDrive 'containers.md'
        $result | Export-RunbookReport -Format Markdown -Path $report
        Get-Content $report -Raw | Should -BeLike '*Container storage*removed*reclaimed 290.9 MiB*'
    }

    It 'takes anonymous volumes only when asked, never named ones' {
        $result = Clear-ContainerStorage -DockerHost $Engine -Include Volumes -Until 1d -Force -Verbose 4>&1
        ($result | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain 'Volumes cannot be filtered by age: -Until does not apply to them'
        $account = $result | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Cleanup.CleanupResult' }
        $account.Items.Name | Should -Be @("volume $('9' * 64)")
        (Get-ContainerStorage -DockerHost $Engine | Where-Object Type -eq 'Local Volumes').TotalCount | Should -Be 2
    }

    It 'says what is wrong when the engine does not answer or docker is missing' {
        { Get-ContainerStorage -DockerHost tcp://127.0.0.1:9 } | Should -Throw '*docker system df failed on tcp://127.0.0.1:9*'
        $err = { Clear-ContainerStorage -DockerHost tcp://127.0.0.1:9 -Force } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.DockerError*'
        { Get-ContainerStorage -Docker /nonexistent/docker } | Should -Throw '*name it with -Docker*'
    }
}
