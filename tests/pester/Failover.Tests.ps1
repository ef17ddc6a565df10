#Requires -Modules Pester
# Test-DatabaseFailover (issue 18, runbook 003's monthly failover drill) in the real pwsh, on a PostgreSQL primary +
# replica of this file's own (tests/pg-pair.sh): -WhatIf changes nothing, the drill promotes and checks the
# environment, a second drill is refused with the reason; the pair is stopped after.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:PairScript = Join-Path $RepoRoot 'tests' 'pg-pair.sh'
    $pairEnv = (bash $PairScript start).Trim()
    $script:Pair = @{}
    foreach ($line in Get-Content $pairEnv) { if ($line -match "^export ([A-Z_]+)='(.*)'$") { $Pair[$Matches[1]] = $Matches[2] } }
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
    function Test-InRecovery([string]$Url) { [bool]::Parse((psql $Url -Atc 'SELECT pg_is_in_recovery()').Trim().Replace('t', 'true').Replace('f', 'false')) }
}

AfterAll {
    if ($Pair.PAIR_DIR) { bash $PairScript stop $Pair.PAIR_DIR }
    Remove-Item Env:PAIR_PRIMARY_URL, Env:PAIR_REPLICA_URL -ErrorAction SilentlyContinue
}

Describe 'Test-DatabaseFailover' {
    It 'says what the drill would do with -WhatIf and changes nothing' {
        # -WhatIf's lines go to the host, so a child pwsh shows them.
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Test-DatabaseFailover drill -ConfigPath '$Config' -WhatIf" 2>&1 | Out-String
        $output | Should -BeLike '*What if:*Failover drill: Fence 127.0.0.1:*Promote 127.0.0.1:*'
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
