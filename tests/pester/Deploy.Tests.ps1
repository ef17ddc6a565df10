#Requires -Version 7.4
# Deployments (issue 7), end to end in pwsh against the sandbox of tests/servers.sh: the fake Fly.io API
# ($env:OPSRUNBOOK_FLY_API, app sandbox-app: machines on release 3; release 2 failed; release 1 good).

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Deployments in the sandbox' -Skip:(-not $HaveServers) {
    It 'lists the machines with their health' {
        $instances = Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig
        $instances.Count | Should -Be 2
        $instances.Health | Should -Be @('Healthy', 'Healthy')
        $instances.Environment | Should -Be @('sandbox', 'sandbox')
    }

    It 'lists releases newest first with the running one marked' {
        $releases = Get-DeploymentRelease sandbox -ConfigPath $SandboxConfig
        $releases.Version | Should -Be @(3, 2, 1)
        ($releases | Where-Object IsCurrent).Version | Should -Be 3
    }

    It 'plans a rollback from unhealthy health results under -WhatIf and changes nothing' {
        $before = (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Image
        # A check that fails, labelled with the sandbox environment.
        Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -Environment sandbox -ConfigPath $SandboxConfig |
            Where-Object Status -EQ Unhealthy |
            Start-Rollback -ConfigPath $SandboxConfig -WhatIf |
            Should -BeNullOrEmpty
        (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Image | Should -Be $before
    }

    It 'plans one rollback for a summary piped with its entries' {
        # What a user pastes: the -Summary report and the failing results both name the sandbox. -WhatIf's lines go to
        # the host, so a child pwsh shows them.
        $script = @"
Import-Module '$ModuleDir/OpsRunbook.psd1'
Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:2' -Environment sandbox -FailureThreshold 1 -TimeoutSec 1 -Summary |
    Where-Object Status -eq Unhealthy | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf
"@
        $output = pwsh -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        ([regex]::Matches($output, 'What if: .*Roll back')).Count | Should -Be 1 -Because $output
    }

    It 'reads results and releases that crossed an Export-Clixml boundary, and refuses what it does not know' {
        # Before: a deserialized result bound only its Environment, so 3 healthy results made 3 rollback plans, and a
        # deserialized release was ignored for "previous good". -WhatIf's lines go to the host: a child pwsh shows them.
        $dir = Join-Path $TestDrive 'clixml'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $script = @"
Import-Module '$ModuleDir/OpsRunbook.psd1'
`$healthy = Invoke-HealthCheck -Uri 'tcp://127.0.0.1:$($Settings.OPSRUNBOOK_PG_PORT)' -Environment sandbox -TimeoutSec 5
`$healthy, `$healthy, `$healthy | Export-Clixml '$dir/healthy.xml'
Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1', 'tcp://127.0.0.1:2' -Environment sandbox -FailureThreshold 1 -TimeoutSec 1 -Summary | Export-Clixml '$dir/unhealthy.xml'
Get-DeploymentRelease sandbox -ConfigPath '$SandboxConfig' | Export-Clixml '$dir/releases.xml'
'--- healthy'
Import-Clixml '$dir/healthy.xml' | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf
'--- unhealthy'
Import-Clixml '$dir/unhealthy.xml' | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf
'--- release 1'
Import-Clixml '$dir/releases.xml' | Where-Object Version -eq 1 | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf
'--- release 3'
try { Import-Clixml '$dir/releases.xml' | Where-Object Version -eq 3 | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf -ErrorAction Stop } catch { 'ERROR ' + `$_.Exception.Message }
'--- other'
[pscustomobject]@{ Environment = 'sandbox'; Name = 'x' } | Start-Rollback -ConfigPath '$SandboxConfig' -WhatIf -ErrorVariable problems -ErrorAction SilentlyContinue
'ID ' + `$problems[0].FullyQualifiedErrorId
"@
        $output = pwsh -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $parts = $output -split '--- '
        $parts[1] | Should -Not -Match 'What if' -Because $output
        ([regex]::Matches($parts[2], 'What if: .*Roll back')).Count | Should -Be 1 -Because $output
        $parts[3] | Should -Match 'What if: .*Roll back from v3 .* to v1 ' -Because $output
        $parts[4] | Should -Match 'ERROR .*v3.*running' -Because $output
        $parts[5] | Should -Not -Match 'What if' -Because $output
        $parts[5] | Should -Match 'ID OpsRunbook.RollbackInputUnrecognized' -Because $output
    }

    It 'refuses a release that does not exist, naming where to look' {
        { Start-Rollback sandbox -ConfigPath $SandboxConfig -Release v99 -Force -ErrorAction Stop } | Should -Throw '*Get-DeploymentRelease*'
    }

    It 'watches a healthy environment to a Healthy verdict' {
        $output = @(Watch-Deployment sandbox -ConfigPath $SandboxConfig -Duration 3s -Interval 1s)
        $verdict = $output[-1]
        $verdict.Verdict | Should -Be 'Healthy'
        $verdict.Rounds | Should -BeGreaterThan 1
        ($output | Where-Object { $_.PSObject.Properties['ConsecutiveFailures'] }).Count | Should -Be $verdict.Rounds
    }

    It 'never rolls back under -WhatIf, even with -AutoRollback' {
        $verdict = Watch-Deployment sandbox -ConfigPath $SandboxConfig -Duration 2s -Interval 1s -AutoRollback -WhatIf | Select-Object -Last 1
        $verdict.Rollback | Should -BeNullOrEmpty
        (Get-DeploymentRelease sandbox -ConfigPath $SandboxConfig | Where-Object IsCurrent).Version | Should -Be 3
    }

    It 'stops, starts and restarts the machines; -WhatIf touches nothing' {
        Stop-Deployment sandbox -ConfigPath $SandboxConfig -WhatIf | Should -BeNullOrEmpty
        (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Health | Should -Be @('Healthy', 'Healthy')
        (Stop-Deployment sandbox -ConfigPath $SandboxConfig -Force).Instances | Should -Be 2
        (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Health | Should -Be @('Stopped', 'Stopped')
        (Start-Deployment sandbox -ConfigPath $SandboxConfig -Force).Status | Should -Be 'Succeeded'
        (Restart-Deployment sandbox -ConfigPath $SandboxConfig -Force).Instances | Should -Be 2
        (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Health | Should -Be @('Healthy', 'Healthy')
    }

    It 'scales the machines up in a region and back, with -WhatIf changing nothing' {
        Set-DeploymentScale sandbox -ConfigPath $SandboxConfig -Count 3 -Region lhr -WhatIf | Should -BeNullOrEmpty
        (Get-DeploymentStatus sandbox -ConfigPath $SandboxConfig).Count | Should -Be 2
        (Set-DeploymentScale sandbox -ConfigPath $SandboxConfig -Count 3 -Region lhr -Force).Instances | Should -Be 4
        (Set-DeploymentScale sandbox -ConfigPath $SandboxConfig -Count 1 -Region lhr -Force).Instances | Should -Be 2
    }

    It 'pushes a rotated secret to the platform, and -WhatIf pushes nothing' {
        Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret database -Force |
            Set-DeploymentSecret -ConfigPath $SandboxConfig -WhatIf | Should -BeNullOrEmpty
        $pushed = Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret database -Force |
            Set-DeploymentSecret -ConfigPath $SandboxConfig -Force
        $pushed.Status | Should -Be 'Succeeded'
        $pushed.Action | Should -Be 'SetSecret'
        ($pushed | Out-String) | Should -Not -Match 'postgres://sandbox_app:[^*]'
    }

    It 'rolls back to the previous good release and waits for the health checks' {
        $result = Start-Rollback sandbox -ConfigPath $SandboxConfig -Force -Timeout 2m
        $result.Status | Should -Be 'Succeeded'
        $result.From.Version | Should -Be 3
        $result.To.Version | Should -Be 1
        $result.InstancesUpdated | Should -BeGreaterOrEqual 2
        (Get-DeploymentRelease sandbox -ConfigPath $SandboxConfig | Where-Object IsCurrent).Version | Should -Be 1
    }
}
