#Requires -Modules Pester
# Enable-/Disable-MaintenanceMode (issue 18, runbook 000's `make maintenance-on`) in the real pwsh against the sandbox:
# the flag pushed through the fake Fly.io like any secret, the window recorded beside the incidents (a folder, and
# s3:// on s3rver), and Send-RunbookAlert paging nobody while it is on.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Fake = $Settings.OPSRUNBOOK_NOTIFY_URL
    # A copy of the sandbox's runbook.json in this file's own folder: windows are recorded beside it.
    $script:Cfg = Join-Path $TestDrive 'runbook.json'
    Copy-Item $SandboxConfig $Cfg
    $script:Failing = { Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -TimeoutSec 1 -Environment sandbox -ConfigPath $Cfg }
    function Get-Alerts { @((Invoke-RestMethod "$Fake/_fake/alerts").PSObject.Properties) }
}

Describe 'Maintenance mode' -Skip:(-not $env:OPSRUNBOOK_SERVERS_ENV) {
    BeforeEach { Invoke-RestMethod -Method Post "$Fake/_fake/reset" | Out-Null }

    It 'changes nothing with -WhatIf' {
        $output = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Enable-MaintenanceMode sandbox -ConfigPath '$Cfg' -Reason test -WhatIf" 2>&1 | Out-String
        $output | Should -BeLike '*What if:*Set MAINTENANCE_MODE=true and redeploy, record a maintenance window in*'
        Test-Path (Join-Path $TestDrive '.opsrunbook') | Should -BeFalse
    }

    It 'sets the flag, records the window, silences alerts until it ends, and pages again after' {
        $all = Enable-MaintenanceMode sandbox -ConfigPath $Cfg -Reason 'Database migration' -Duration 2h -Force -Verbose 4>&1
        $window = $all | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Deploy.MaintenanceWindow' }
        # The platform token appears in nothing it printed, the redeploy's verbose steps included.
        $Settings.OPSRUNBOOK_FLY_TOKEN | Should -Not -BeNullOrEmpty
        ($all | Out-String -Width 300) + ($window | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$($Settings.OPSRUNBOOK_FLY_TOKEN)*"
        $window.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Deploy.MaintenanceWindow'
        ($window.Active, $window.Reason, $window.Variable) | Should -Be @($true, 'Database migration', 'MAINTENANCE_MODE')
        $window.Until - $window.StartedAt | Should -Be ([timespan]::FromHours(2))
        $window.Deployment.Action | Should -Not -BeNullOrEmpty
        $window.Location | Should -Be (Join-Path $TestDrive '.opsrunbook' 'incidents' 'maintenance')
        ($window | Out-String -Width 200) | Should -BeLike '*Environment*Active*StartedAt*Until*Reason*sandbox*True*Database migration*'

        $out = & $Failing | Send-RunbookAlert sandbox -ConfigPath $Cfg -WarningVariable warned -WarningAction SilentlyContinue
        $out | Should -BeNullOrEmpty
        "$warned" | Should -BeLike '*1 alert(s) not sent: sandbox is in maintenance since * until * (Database migration); -IgnoreMaintenance pages anyway*'
        Get-Alerts | Should -HaveCount 0
        (& $Failing | Send-RunbookAlert sandbox -ConfigPath $Cfg -IgnoreMaintenance).Status | Should -Be 'Accepted'
        Get-Alerts | Should -HaveCount 1

        $ended = Disable-MaintenanceMode sandbox -ConfigPath $Cfg -Force
        ($ended.Active, ($ended.EndedAt -gt $ended.StartedAt)) | Should -Be @($false, $true)
        $json = Join-Path $TestDrive 'maintenance.json'
        $ended | Export-RunbookReport -Format Json -Path $json
        (Get-Content $json -Raw | ConvertFrom-Json).items[0].kind | Should -Be 'Maintenance'
        Invoke-RestMethod -Method Post "$Fake/_fake/reset" | Out-Null
        (& $Failing | Send-RunbookAlert sandbox -ConfigPath $Cfg).Status | Should -Be 'Accepted'
    }

    It 'keeps windows in S3 beside incidents there, seen by another process' {
        $config = Get-Content -Raw $Cfg | ConvertFrom-Json -AsHashtable
        $prefix = "incidents-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $config.environments.sandbox.incidents = @{ path = "s3://$($Settings.OPSRUNBOOK_S3_BUCKET)/$prefix/" }
        $s3cfg = Join-Path $TestDrive 's3-maintenance.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content $s3cfg
        $window = Enable-MaintenanceMode sandbox -ConfigPath $s3cfg -NoPlatform -Reason 'Region move' -Force
        ($window.Location, $window.Variable, $window.Deployment) | Should -Be @("s3://$($Settings.OPSRUNBOOK_S3_BUCKET)/$prefix/maintenance/", $null, $null)
        $other = pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleDir/OpsRunbook.psd1'; Invoke-HealthCheck -Uri 'tcp://127.0.0.1:1' -TimeoutSec 1 -Environment sandbox -ConfigPath '$s3cfg' | Send-RunbookAlert sandbox -ConfigPath '$s3cfg'" 2>&1 | Out-String
        $other | Should -BeLike '*not sent: sandbox is in maintenance*(Region move)*'
        Get-Alerts | Should -HaveCount 0
        (Disable-MaintenanceMode sandbox -ConfigPath $s3cfg -NoPlatform -Force).Active | Should -BeFalse
    }

    It 'warns when ending a window that is not open, and refuses a platform change without "deploy"' {
        Disable-MaintenanceMode sandbox -ConfigPath $Cfg -NoPlatform -Force -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
        "$warned" | Should -BeLike '*sandbox is not in maintenance (no open window in*'
        $config = Get-Content -Raw $Cfg | ConvertFrom-Json -AsHashtable
        $config.environments.sandbox.Remove('deploy')
        $nodeploy = Join-Path $TestDrive 'no-deploy.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content $nodeploy
        { Enable-MaintenanceMode sandbox -ConfigPath $nodeploy -Force } | Should -Throw '*has no "deploy" section*use -NoPlatform to record the window only*'
    }
}
