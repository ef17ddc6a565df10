#Requires -Version 7.4
# End-to-end tests of the built module in a real PowerShell 7, against the servers of tests/servers.sh
# ($env:OPSRUNBOOK_SERVERS_ENV names their settings file; tests/run.sh sets it).

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Module import' {
    It 'exports exactly the cmdlets named in the manifest' {
        $manifest = Import-PowerShellDataFile (Join-Path $ModuleDir 'OpsRunbook.psd1')
        $exported = (Get-Command -Module OpsRunbook).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'does no I/O and opens no connection on import' {
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; [System.AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -join ','"
        $loaded = pwsh -NoProfile -NonInteractive -Command $script
        $loaded | Should -Not -Match 'Npgsql'
    }

    It 'imports again after Remove-Module' {
        Remove-Module OpsRunbook
        Import-Module (Join-Path $ModuleDir 'OpsRunbook.psd1') -Force
        Get-Command Invoke-HealthCheck -Module OpsRunbook | Should -Not -BeNullOrEmpty
    }

    It 'works when another <Assembly> was loaded into the session <When>' -ForEach @(
        # Other modules' versions, carried by the runspace test project: Npgsql 9 (the module uses 10) and AWSSDK.Core 4.0.102
        # (the module uses 4.1; AWS keeps the assembly version at 4.0.0.0, so the file versions tell them apart).
        foreach ($when in 'first', 'after it') {
            @{ Assembly = 'Npgsql'; When = $when; Expected = 'Healthy 9,10'
               Check = "Invoke-HealthCheck -Uri `$env:OPSRUNBOOK_DATABASE_URL -FailureThreshold 1"
               Version = '$_.GetName().Version.Major' }
            @{ Assembly = 'AWSSDK.Core'; When = $when; Expected = 'Healthy 4.0,4.1'
               Check = "Invoke-HealthCheck sandbox -ConfigPath '$((Resolve-Path (Join-Path $PSScriptRoot '..' '..' 'examples' 'runbook.sandbox.jsonc')).Path)' -Name backups -FailureThreshold 1"
               Version = '([Diagnostics.FileVersionInfo]::GetVersionInfo($_.Location).FileVersion -split "\.")[0..1] -join "."' }
        }
    ) {
        $dll = Get-ChildItem -Path (Join-Path $RepoRoot 'tests' 'OpsRunbook.Runspace.Tests' 'bin') -Recurse -Filter "$Assembly.dll" | Select-Object -First 1
        $dll | Should -Not -BeNullOrEmpty -Because "the runspace test project (which carries another $Assembly) is built with the solution"
        $load = "Add-Type -Path '$($dll.FullName)'"
        $import = "Import-Module '$ModuleDir/OpsRunbook.psd1'"
        $first, $second = if ($When -eq 'first') { $load, $import } else { $import, $load }
        $script = @"
$first
$second
`$status = ($Check).Status.ToString()
`$versions = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq '$Assembly' } | ForEach-Object { $Version }
`$status + ' ' + ((`$versions | Sort-Object) -join ',')
"@
        pwsh -NoProfile -NonInteractive -Command $script | Should -Be $Expected
    }

    It 'works in eight thread jobs at once' {
        $jobs = 1..8 | ForEach-Object {
            Start-ThreadJob -ThrottleLimit 8 -ScriptBlock {
                param($module, $url)
                Import-Module $module -ErrorAction Stop
                (Invoke-HealthCheck -Uri $url -FailureThreshold 1).Status.ToString()
            } -ArgumentList "$ModuleDir/OpsRunbook.psd1", $Settings.OPSRUNBOOK_DATABASE_URL
        }
        $statuses = $jobs | Wait-Job -Timeout 120 | Receive-Job
        $jobs | Remove-Job -Force
        $statuses | Should -Be (@('Healthy') * 8)
    }

    It 'has full help for every cmdlet' {
        foreach ($command in Get-Command -Module OpsRunbook) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            $help.Examples.Example.Count | Should -BeGreaterThan 0
            foreach ($parameter in $help.Parameters.Parameter) {
                ($parameter.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$($command.Name) -$($parameter.Name) needs a description"
            }
        }
    }
}

Describe 'Invoke-HealthCheck' -Skip:(-not $HaveServers) {
    It 'reports every sandbox target Healthy' {
        $results = Invoke-HealthCheck -Environment sandbox -ConfigPath $SandboxConfig
        $results.Count | Should -BeGreaterOrEqual 8
        $results | Where-Object Status -ne 'Healthy' | ForEach-Object { "$($_.Name): $($_.Reason)" } | Should -BeNullOrEmpty
        $results[0].GetType().FullName | Should -Be 'OpsRunbook.Engine.Health.HealthCheckResult'
    }

    It 'adds one HealthReport with -Summary, whose status is the worst entry' {
        $out = Invoke-HealthCheck -Environment sandbox -ConfigPath $SandboxConfig -Summary
        $report = $out[-1]
        $report.GetType().Name | Should -Be 'HealthReport'
        $report.Status | Should -Be 'Healthy'
        $report.Entries.Count | Should -Be ($out.Count - 1)
    }

    It 'filters targets by name' {
        (Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Name 'database*').Name | Sort-Object | Should -Be @('database', 'database-replica')
    }

    It 'reports a down target as Unhealthy data, not an error' {
        $result = Invoke-HealthCheck -Uri 'http://127.0.0.1:1/' -TimeoutSec 3 -ErrorVariable errors
        $errors | Should -BeNullOrEmpty
        $result.Status | Should -Be 'Unhealthy'
        $result.Reason | Should -Match 'refused'
    }

    It 'reports a wrong password without showing it' {
        $wrong = 'wrong-' + [guid]::NewGuid().ToString('N')
        $url = "postgres://opsrunbook:$wrong@127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)/opsrunbook"
        $result = Invoke-HealthCheck -Uri $url -Verbose 4>&1
        $record = $result | Where-Object { $_.PSTypeNames -contains 'OpsRunbook.Engine.Health.HealthCheckResult' }
        $record.Status | Should -Be 'Unhealthy'
        ($result | Out-String) | Should -Not -Match $wrong
    }

    It 'checks a URL with conditions' {
        $result = Invoke-HealthCheck -Uri "$($Settings.OPSRUNBOOK_APP_URL)/api/health" -Condition '[STATUS] == 200', '[BODY].status == ok'
        $result.Status | Should -Be 'Healthy'
        $result.Conditions.Success | Should -Not -Contain $false
    }

    It 'answers Gatus conditions as Gatus does, from a real response' {
        # Go integer notation, len() of an array, [IP] of the host, and a missing path reading (INVALID).
        $body = [uri]::EscapeDataString('{"n":"0x1F","tags":["a","b"],"version":"1.4.2"}')
        $url = "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=$body"
        $ok = Invoke-HealthCheck -Uri $url -Condition '[BODY].n == 31', 'len([BODY].tags) == 2', '[IP] == 127.0.0.1', '[BODY].version == pat(1.4.*)', '[status] < 300'
        $ok.Status | Should -Be 'Healthy' -Because $ok.Reason
        $bad = Invoke-HealthCheck -Uri $url -Condition '[BODY].missing == x', '[RESPONSE_TIME] > 1h'
        $bad.Status | Should -Be 'Unhealthy'
        $bad.Reason | Should -BeLike '*`[BODY`].missing (INVALID) == x*'
        $bad.Reason | Should -Match '\[RESPONSE_TIME\] \(\d+(ms)?\) > 1h'
    }

    It 'rejects === in runbook.json with file, line and column instead of paging on a healthy service' {
        $bad = Join-Path $TestDrive 'triple.json'
        Set-Content -Path $bad -Value @"
{ "system": "x", "environments": { "e": { "endpoints": [
    { "name": "api", "url": "$($Settings.OPSRUNBOOK_APP_URL)/api/health",
      "expect": [ "[STATUS] === 200" ] } ] } } }
"@
        $err = { Invoke-HealthCheck e -ConfigPath $bad -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike "*triple.json:3:*column 10*'===' is not an operator*"
    }

    It 'rejects a malformed condition with its column' {
        { Invoke-HealthCheck -Uri "$($Settings.OPSRUNBOOK_APP_URL)/" -Condition '[STATUS] = 200' -ErrorAction Stop } | Should -Throw '*column 10*'
    }

    It 're-checks results piped back in' {
        $again = Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Name simple | Invoke-HealthCheck
        $again.Name | Should -Be 'simple'
        $again.Environment | Should -Be 'sandbox'
    }

    It 're-checks each target of a summary and its entries once' {
        $first = Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Summary
        $again = @($first | Invoke-HealthCheck)
        $again.Count | Should -Be ($first.Count - 1)
        @($again.Name | Sort-Object -Unique).Count | Should -Be $again.Count
    }

    It 're-checks exactly the failing targets piped in, -Uri ones included' {
        $failing = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1', "$($Settings.OPSRUNBOOK_APP_URL)/api/health" -FailureThreshold 1 -TimeoutSec 1 |
            Where-Object Status -ne Healthy
        $again = @($failing | Invoke-HealthCheck -FailureThreshold 1 -TimeoutSec 1)
        $again.Count | Should -Be 1
        $again[0].Name | Should -Be 'tcp://127.0.0.1:1'
    }

    It 'checks environments piped by name, with -Name' {
        $results = @('sandbox' | Invoke-HealthCheck -ConfigPath $SandboxConfig -Name simple, deep)
        $results.Name | Sort-Object | Should -Be @('deep', 'simple')
    }

    It 'refuses input it cannot check with one error, not one per object' {
        $results = @(1..50 | ForEach-Object { [pscustomobject]@{ Id = $_ } } | Invoke-HealthCheck -ErrorVariable problems -ErrorAction SilentlyContinue)
        $results.Count | Should -Be 0
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.UnsupportedInput*'
    }

    It 'checks targets piped from Get-RunbookEnvironment' {
        (Get-RunbookEnvironment sandbox -ConfigPath $SandboxConfig | Invoke-HealthCheck).Count | Should -BeGreaterOrEqual 8
    }
}

Describe 'Error vocabulary' -Skip:(-not $HaveServers) {
    # One table (Module/ErrorTable.cs) gives every Engine failure its id and category; these are what scripts match on.
    It 'names <Name> with its id and category, the endpoint, and never the password' -ForEach @(
        @{ Name = 'a refused PostgreSQL'; Id = 'OpsRunbook.DatabaseError'; Category = 'ConnectionError'; Run = { Get-DatabaseActivity -Connection 'postgres://app:Pester-S3cret-Pw@127.0.0.1:1/app' -ErrorAction Stop } }
        @{ Name = 'a refused Redis'; Id = 'OpsRunbook.RedisError'; Category = 'ConnectionError'; Run = { Get-RedisInfo -Connection 'redis://:Pester-S3cret-Pw@127.0.0.1:1' -ErrorAction Stop } }
    ) {
        $err = $Run | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        "$($err.CategoryInfo.Category)" | Should -Be $Category
        $err.Exception.Message | Should -Match '127\.0\.0\.1:1\b'
        # (PowerShell's own position message quotes the command line as typed; what the module says must not.)
        $err.Exception.ToString() + "$($err.TargetObject)" + "$($err.ErrorDetails)" | Should -Not -Match 'Pester-S3cret-Pw'
        $err.Exception.Message | Should -Not -Match 'abortConnect'
    }

    It 'says a manifest that is not one is InvalidData, naming the file' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bad-manifest') -Force
        Set-Content -Path (Join-Path $folder 'app.dump') -Value 'PGDMP'
        Set-Content -Path (Join-Path $folder 'app.dump.manifest.json') -Value '{ not json'
        $err = { Restore-Database -BackupUri (Join-Path $folder 'app.dump') -Connection "env:PESTER_UNUSED_DB" -WhatIf -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.InvalidManifest,*'
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidData'
        $err.Exception.Message | Should -BeLike '*app.dump.manifest.json*'
    }
}

Describe 'Get-RunbookEnvironment' {
    It 'shows environments with secrets as references' {
        $info = Get-RunbookEnvironment -ConfigPath $SandboxConfig
        $info.Environment | Should -Be 'sandbox'
        $info.Database | Should -Be 'env:OPSRUNBOOK_DATABASE_URL'
    }

    It 'finds the environment of a piped health-check result' {
        # The Engine's types live in the module's own load context, so a result comes from a cmdlet, as a user's would.
        $result = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -Environment sandbox -TimeoutSec 1 -FailureThreshold 1
        ($result | Get-RunbookEnvironment -ConfigPath $SandboxConfig).Environment | Should -Be 'sandbox'
    }

    It 'fails for an unknown environment listing the known ones' {
        { Get-RunbookEnvironment production -ConfigPath $SandboxConfig -ErrorAction Stop } | Should -Throw '*Known environments: sandbox*'
    }

    It 'fails for a malformed file with its line and field' {
        $bad = Join-Path $TestDrive 'runbook.json'
        Set-Content -Path $bad -Value "{`n  `"system`": `"x`",`n  `"environments`": { `"a`": { `"endpoints`": [ { `"name`": `"n`", `"url`": `"http://h/`", `"timout`": `"5s`" } ] } }`n}"
        { Get-RunbookEnvironment -ConfigPath $bad -ErrorAction Stop } | Should -Throw '*:3:*timout*'
    }

    It 'never shows a plain-text password' {
        $file = Join-Path $TestDrive 'plain.json'
        Set-Content -Path $file -Value '{ "allowPlaintextSecrets": true, "system": "x", "environments": { "a": { "database": { "connection": "postgres://u:Hunter2Secret@h/db" } } } }'
        (Get-RunbookEnvironment -ConfigPath $file | Format-List * | Out-String) | Should -Not -Match 'Hunter2Secret'
    }
}

Describe 'vault: references' -Skip:(-not $HaveServers) {
    BeforeAll {
        $script:VaultConfig = Join-Path $TestDrive 'vault.json'
        Set-Content -Path $VaultConfig -Value '{ "system": "x", "environments": { "v": { "redis": { "connection": "vault:ops/redis-url" } } } }'
    }

    AfterEach {
        Remove-Module Microsoft.PowerShell.SecretManagement -Force -ErrorAction SilentlyContinue
    }

    It 'resolves through SecretManagement Get-Secret' {
        # A stand-in with SecretManagement's name and Get-Secret signature, so the test needs no registered vault.
        $url = $Settings.OPSRUNBOOK_REDIS_URL
        New-Module -Name Microsoft.PowerShell.SecretManagement -ArgumentList $url -ScriptBlock {
            param($Url)
            function Get-Secret {
                param([string] $Name, [string] $Vault, [switch] $AsPlainText)
                if ($Vault -eq 'ops' -and $Name -eq 'redis-url' -and $AsPlainText) { return $Url }
                throw "no secret $Vault/$Name"
            }
            Export-ModuleMember -Function Get-Secret
        } | Import-Module
        $result = @(Invoke-HealthCheck v -ConfigPath $VaultConfig)
        $result.Count | Should -Be 1 -Because 'the secret itself must never reach the output'
        $result[0].Status | Should -Be 'Healthy'
        ($result | Format-List * | Out-String) | Should -Not -Match $Settings.OPSRUNBOOK_REDIS_PASSWORD
    }

    It 'says how to install SecretManagement when it is missing' {
        if (Get-Module -ListAvailable Microsoft.PowerShell.SecretManagement) {
            Set-ItResult -Skipped -Because 'the real SecretManagement module is installed here'
            return
        }
        { Invoke-HealthCheck v -ConfigPath $VaultConfig -ErrorAction Stop } | Should -Throw '*Install-Module Microsoft.PowerShell.SecretManagement*'
    }
}

Describe '-WhatIf conventions' {
    It 'every mutating cmdlet supports -WhatIf and -Confirm' {
        $mutating = 'Add', 'Clear', 'Copy', 'Move', 'New', 'Remove', 'Rename', 'Reset', 'Set', 'Backup', 'Restore', 'Update', 'Start', 'Stop', 'Restart', 'Resume', 'Suspend', 'Disable', 'Enable', 'Deploy', 'Grant', 'Revoke', 'Send'
        # New-RandomSecret only computes a value in the session: it creates nothing anywhere.
        foreach ($command in Get-Command -Module OpsRunbook | Where-Object Verb -in $mutating | Where-Object Name -ne 'New-RandomSecret') {
            $command.Parameters.Keys | Should -Contain 'WhatIf'
            $command.Parameters.Keys | Should -Contain 'Confirm'
        }
    }

    It 'read-only cmdlets do not pretend to support -WhatIf' {
        foreach ($name in 'Invoke-HealthCheck', 'Get-RunbookEnvironment') {
            (Get-Command $name).Parameters.Keys | Should -Not -Contain 'WhatIf'
        }
    }
}

Describe 'Durations as typed at the prompt' {
    BeforeAll {
        # The parameter's own transformation, given what PowerShell made of the text in argument mode.
        function script:Get-Argument { param([Parameter(Position = 0)] $Value) $Value }
        $script:Convert = {
            param([string] $Text)
            $attribute = (Get-Command Wait-HealthCheck).Parameters['Timeout'].Attributes | Where-Object { $_.GetType().Name -eq 'DurationTransformationAttribute' }
            $argument = & ([scriptblock]::Create("Get-Argument $Text"))
            $attribute.Transform($ExecutionContext, $argument)
        }
    }

    It 'reads <Text> as written' -ForEach @(
        @{ Text = '30s'; Seconds = 30 }            # [int16] 30 to PowerShell
        @{ Text = '30d'; Seconds = 30 * 86400 }    # [decimal] 30
        @{ Text = '1.5d'; Seconds = 1.5 * 86400 }
        @{ Text = '500ms'; Seconds = 0.5 }
        @{ Text = '10m'; Seconds = 600 }
        @{ Text = '4h'; Seconds = 14400 }
        @{ Text = "'00:10:00'"; Seconds = 600 }
        @{ Text = '([timespan]::FromMinutes(2))'; Seconds = 120 }
    ) {
        (& $Convert $Text).TotalSeconds | Should -Be $Seconds
    }

    It 'refuses a number without a unit, showing how to write it: <Text>' -ForEach @(
        @{ Text = '30'; Hint = '30s' }, @{ Text = '30l'; Hint = '30s' }, @{ Text = '2.5'; Hint = '2.5s' }, @{ Text = "'30'"; Hint = '30s' }
    ) {
        { & $Convert $Text } | Should -Throw "*no unit*$Hint*"
    }

    It 'binds -Timeout 2s as two seconds in a real call' {
        $elapsed = Measure-Command {
            { Wait-HealthCheck -Uri 'tcp://127.0.0.1:1' -Timeout 2s -Interval 500ms -ErrorAction Stop } | Should -Throw '*after 2s*'
        }
        $elapsed.TotalSeconds | Should -BeLessThan 60
    }

    It 'refuses -OlderThan 30 on a cmdlet that deletes, before it touches anything' {
        $err = { Remove-DatabaseBackup -Destination (Join-Path $TestDrive 'none') -OlderThan 30 -WhatIf -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike '*no unit*30d*'
    }
}

Describe 'Help as Get-Help shows it' {
    It 'lists -WhatIf and -Confirm in the syntax and parameters of every cmdlet that has them' {
        $commands = @(Get-Command -Module OpsRunbook | Where-Object { $_.Parameters.ContainsKey('WhatIf') })
        $commands.Count | Should -BeGreaterOrEqual 18
        foreach ($command in $commands) {
            $help = Get-Help $command.Name -Full
            foreach ($syntax in $help.Syntax.SyntaxItem) {
                $syntax.Parameter.Name | Should -Contain 'WhatIf' -Because "$($command.Name)'s syntax"
                $syntax.Parameter.Name | Should -Contain 'Confirm' -Because "$($command.Name)'s syntax"
            }
            ($help.Syntax | Out-String -Width 1000) | Should -Match '\[-WhatIf\] \[-Confirm\]'

            $help.Parameters.Parameter.Name | Should -Contain 'WhatIf'
            $help.Parameters.Parameter.Name | Should -Contain 'Confirm'
        }
    }

    It 'states the default values the code has' {
        (Get-Help Wait-HealthCheck -Parameter Timeout).DefaultValue | Should -Be '10m'
        (Get-Help Invoke-HealthCheck -Parameter ThrottleLimit).DefaultValue | Should -Be '32'
        (Get-Help Invoke-HealthCheck -Parameter FailureThreshold).DefaultValue | Should -Be '3'
        (Get-Help Remove-DatabaseBackup -Parameter Force).DefaultValue | Should -Be 'False'
        (Get-Help Remove-DatabaseBackup -Parameter OlderThan).DefaultValue | Should -Be 'None'
    }

    It 'marks wildcard parameters' {
        (Get-Help Invoke-HealthCheck -Parameter Name).Globbing | Should -Be 'true'
    }
}

Describe 'Tab completion' {
    BeforeAll {
        function script:Complete([string] $Line) {
            (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText
        }
        $script:CompletionDir = Join-Path $TestDrive 'completion'
        New-Item -ItemType Directory -Path $CompletionDir | Out-Null
        Copy-Item $SandboxConfig (Join-Path $CompletionDir 'runbook.json')
    }

    It 'completes environment names from -ConfigPath' {
        Complete "Invoke-HealthCheck -ConfigPath '$SandboxConfig' -Environment sa" | Should -Be @('sandbox')
    }

    It 'completes environment names from runbook.json in the current location, not the process directory' {
        Push-Location $CompletionDir
        try {
            Complete 'Invoke-HealthCheck -Environment ' | Should -Be @('sandbox')
            Complete 'Get-RunbookEnvironment ' | Should -Be @('sandbox')
        }
        finally { Pop-Location }
    }

    It 'completes target names of the environment' {
        $names = Complete "Invoke-HealthCheck sandbox -ConfigPath '$SandboxConfig' -Name data"
        $names | Should -Be @('database', 'database-replica')
    }

    It 'completes secret names of the environment' {
        Complete "Invoke-SecretRotation -Environment sandbox -ConfigPath '$SandboxConfig' -Secret " | Should -Be @('database', 'jwt', 'redis')
        Complete "Get-SecretRotationStatus sandbox -ConfigPath '$SandboxConfig' -Secret r" | Should -Be @('redis')
    }

    It 'completes the releases of the environment, newest first' {
        $releases = @(Complete "Start-Rollback sandbox -ConfigPath '$SandboxConfig' -Release ")
        $releases | Should -Be @('3', '2', '1')
    }

    It 'completes the backups of the environment, newest first' {
        $backup = Backup-Database sandbox -ConfigPath $SandboxConfig
        $uris = @(Complete "Restore-Database -Environment sandbox -ConfigPath '$SandboxConfig' -BackupUri s3://")
        $uris[0] | Should -Be $backup.BackupUri
        @(Complete "Test-DatabaseBackup -Environment sandbox -ConfigPath '$SandboxConfig' -BackupUri ")[0] | Should -Be $backup.BackupUri
    }

    It 'offers nothing, and no error, without a configuration' {
        Push-Location $TestDrive
        try {
            $env:OPSRUNBOOK_CONFIG = $null
            Complete 'Invoke-HealthCheck -Environment x' | Should -BeNullOrEmpty
            $Error[0].Exception.Message | Should -Not -Match 'pipeline is already running'
        }
        finally { Pop-Location }
    }
}

Describe 'Default views' -Skip:(-not $HaveServers) {
    It 'shows results and their summary as one table, nothing cut at 120 characters' {
        $text = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:2' -FailureThreshold 1 -TimeoutSec 1 -Summary | Out-String -Width 120
        ([regex]::Matches($text, '(?m)^Status\s+Environment')).Count | Should -Be 1 -Because "one table:`n$text"
        $text | Should -Match '(?m)^Unhealthy\s+summary\s+Summary'
        $text | Should -Not -Match '…'
        $text | Should -Not -Match 'Entries\s+:'
    }

    It 'lets every column header be filtered and sorted on' {
        $sizes = Get-DatabaseTableSize sandbox -ConfigPath $SandboxConfig
        ($sizes | Sort-Object Total -Descending | Select-Object -First 1).Table | Should -Be 'orders'
        ($sizes | Where-Object Total -gt 0).Count | Should -BeGreaterOrEqual 2
        ($sizes | Out-String -Width 120) | Should -Match 'MiB'
        $hostResource = Get-HostResource
        $hostResource.OS | Should -Be $hostResource.OperatingSystem
    }

    It 'lists client connections only, unless asked for the server processes' {
        $activity = @(Get-DatabaseActivity sandbox -ConfigPath $SandboxConfig)
        $activity | Where-Object BackendType -ne 'client backend' | Should -BeNullOrEmpty
        @(Get-DatabaseActivity sandbox -ConfigPath $SandboxConfig -IncludeBackground | Where-Object BackendType -eq 'checkpointer').Count | Should -Be 1
    }
}

Describe 'Example scripts' {
    It 'has help Get-Help can read, with examples: <_>' -ForEach @(Get-ChildItem (Join-Path $PSScriptRoot '..' '..' 'examples') -Filter *.ps1 | ForEach-Object Name) {
        $help = Get-Help (Join-Path $RepoRoot 'examples' $_) -Full
        $help | Should -Not -BeOfType [string] -Because 'a #Requires line right above <# hides the comment-based help'
        $help.Synopsis | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }
}

Describe 'Report accounting' {
    It 'counts the failing checks, not the summary row' {
        $results = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:2' -FailureThreshold 1 -TimeoutSec 1 -Summary
        @($results).Count | Should -Be 3
        $report = $results | Export-RunbookReport -NoCiIntegration
        $report.Failed | Should -Be 2
        { $results | Export-RunbookReport -NoCiIntegration -FailOn Unhealthy -ErrorAction Stop } | Should -Throw '*2*'
    }

    It 'judges results that crossed a process boundary by their status, and fails a gate on input it cannot judge' {
        $results = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -FailureThreshold 1 -TimeoutSec 1 -Summary
        $file = Join-Path $TestDrive 'results.xml'
        $results | Export-Clixml -Path $file
        $report = Import-Clixml -Path $file | Export-RunbookReport -NoCiIntegration
        ($report.Failed, $report.Total) | Should -Be @(1, 2) -Because 'the summary is an aggregate, not a second failure'
        $report.Content | Should -BeLike '*### Health checks*tcp://127.0.0.1:1*'
        { Import-Clixml -Path $file | Export-RunbookReport -NoCiIntegration -FailOn Unhealthy -ErrorAction Stop } | Should -Throw '*1 of 2 results are failing*'
        $job = Start-Job { param($m) Import-Module $m; Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -FailureThreshold 1 -TimeoutSec 1 } -ArgumentList (Join-Path $ModuleDir 'OpsRunbook.psd1')
        ($job | Wait-Job | Receive-Job | Export-RunbookReport -NoCiIntegration).Failed | Should -Be 1
        $job | Remove-Job
        $err = { 'text', 42 | Export-RunbookReport -NoCiIntegration -FailOn Unhealthy -ErrorAction Stop } | Should -Throw -PassThru
        $err.Exception.Message | Should -BeLike '*cannot judge*System.String*'
    }

    It 'refuses 50 objects it cannot report with one error' {
        $null = 1..50 | Export-RunbookReport -NoCiIntegration -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems.Count | Should -Be 1
        $problems[0].Exception.Message | Should -BeLike '50 objects of type System.Int32 *'
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.NotReportable*'
    }
}
