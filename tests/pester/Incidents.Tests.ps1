#Requires -Version 7.4
# Incidents (issue 15), end to end in pwsh: the journal in a folder of a runbook.json copied from the sandbox, the
# notifications through the sandbox's fake Slack, Teams, PagerDuty and webhook receiver.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Fake = $Settings.OPSRUNBOOK_NOTIFY_URL
    $script:Work = New-ExampleWorkspace (Join-Path $TestDrive 'incidents')
    $script:Cfg = Join-Path $Work 'runbook.json'
    $script:Journals = Join-Path $Work '.opsrunbook' 'incidents'
    $script:Down = "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=down"
    function Get-Delivered([string] $Service) { $all = Invoke-RestMethod "$Fake/_fake/delivered"; @($all | Where-Object { $_.service -eq $Service }) }
}

Describe 'Incidents from detection to the post-mortem' -Skip:(-not $HaveServers) {
    BeforeEach { Invoke-RestMethod -Method Post "$Fake/_fake/reset" | Out-Null }

    It 'runs the issue''s pipeline: declare from failing checks, add the mitigation, update, close, export' {
        $i = Invoke-HealthCheck -Uri $Down -Condition '[BODY] == ok' -Environment production -ConfigPath $Cfg |
            Where-Object Status -eq Unhealthy | New-Incident -ConfigPath $Cfg -Severity P1 -Notify
        $i.Id | Should -Match '^INC-\d{8}-\d{6}-[0-9a-f]{4}$'
        $i.Environment | Should -Be 'production'
        $i.Title | Should -BeLike '*Unhealthy in production'
        $i.Profile | Should -Be 'paintbox'   # the environment's thresholdProfile names runbook 000
        $i.ResponseDue | Should -Be ($i.DeclaredAt.AddMinutes(15))
        (Get-Delivered slack)[0].body.text | Should -BeLike '*INCIDENT ALERT*'
        @((Invoke-RestMethod "$Fake/_fake/alerts").PSObject.Properties.Name) | Should -Contain "opsrunbook/incident/$($i.Id.ToLowerInvariant())"

        # The mitigation on the timeline: a real rollback of the sandbox's fake Fly.io app to a release that is not the
        # running one (earlier tests may have left release 1 or 3 running), and back to the running one after.
        $running = (Get-DeploymentRelease production -ConfigPath $Cfg | Where-Object Current).Version
        $other = if ($running -eq 1) { 3 } else { 1 }
        try { Start-Rollback production -ConfigPath $Cfg -Release $other -NoHealthCheck -Force | Add-IncidentEvent $i -ConfigPath $Cfg | Out-Null }
        finally { Start-Rollback production -ConfigPath $Cfg -Release $running -NoHealthCheck -Force | Out-Null }
        Invoke-HealthCheck production -ConfigPath $Cfg -Name simple | Add-IncidentEvent $i -ConfigPath $Cfg -Note 'Rolled back; error rate falling' | Out-Null
        $u = Set-Incident $i -ConfigPath $Cfg -Status Monitoring -Text 'Rolled back to v41' -Notify
        $u.Status | Should -Be 'Monitoring'
        $u.RespondedAt | Should -Not -BeNullOrEmpty
        (Get-Delivered slack)[-1].body.text | Should -BeLike '*INCIDENT UPDATE*'

        $report = Join-Path $TestDrive 'INC.md'
        $doc = Close-Incident $i -ConfigPath $Cfg -Resolution 'Rolled back to v41' -RootCause 'A bad release' -Notify | Export-IncidentReport -ConfigPath $Cfg -Path $report
        $doc.Path | Should -Be $report
        $md = Get-Content -Raw $report
        $md | Should -Match '## Root Causes\s+A bad release'
        $md | Should -Match '## Resolution\s+Rolled back to v41'
        $md | Should -Match '\| Health checks: simple Healthy'
        $md | Should -Match '\| Rollbacks: production Succeeded'
        $md | Should -Match 'Notified Slack: Sent'
        $md | Should -Match '_To fill in._'
        @((Invoke-RestMethod "$Fake/_fake/alerts").PSObject.Properties).Count | Should -Be 0   # the page was resolved
        (Get-Incident production -ConfigPath $Cfg -Id $i.Id).Status | Should -Be 'Closed'
        Get-Incident production -ConfigPath $Cfg | Where-Object Id -eq $i.Id | Should -BeNullOrEmpty   # open ones only
    }

    It 'loses nothing when two processes add 20 events each at once' {
        $i = New-Incident production -ConfigPath $Cfg -Title 'Concurrent writers' -Severity P2
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; 1..20 | ForEach-Object { Add-IncidentEvent '$($i.Id)' -Environment production -ConfigPath '$Cfg' -Note (`$env:WRITER + ' ' + `$_) | Out-Null }"
        $jobs = 'a', 'b' | ForEach-Object { Start-Job -ScriptBlock { param($s, $w) $env:WRITER = $w; pwsh -NoProfile -NonInteractive -Command $s } -ArgumentList $script, $_ }
        $null = $jobs | Wait-Job -Timeout 180 | Receive-Job
        $jobs | Remove-Job -Force
        $timeline = (Get-Incident production -ConfigPath $Cfg -Id $i.Id).Timeline
        @($timeline | Where-Object { $_.Type -eq 'Note' -and $_.Text -like 'a *' }).Count | Should -Be 20
        @($timeline | Where-Object { $_.Type -eq 'Note' -and $_.Text -like 'b *' }).Count | Should -Be 20
    }

    It 'keeps journals in S3 as one object per event, and two writers there lose nothing either' {
        $config = Get-Content -Raw $Cfg | ConvertFrom-Json -AsHashtable
        $prefix = "incidents-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $config.environments.production.incidents = @{ path = "s3://$($Settings.OPSRUNBOOK_S3_BUCKET)/$prefix/"; profile = 'sentia' }
        $s3cfg = Join-Path $TestDrive 's3-incidents.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content $s3cfg
        $i = New-Incident production -ConfigPath $s3cfg -Title 'Journal in S3' -Severity P0
        $i.Profile | Should -Be 'sentia'
        $i.NextEscalation | Should -BeLike 'Engineering Lead at *'
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; 1..20 | ForEach-Object { Add-IncidentEvent '$($i.Id)' -Environment production -ConfigPath '$s3cfg' -Note (`$env:WRITER + ' ' + `$_) | Out-Null }"
        $jobs = 'a', 'b' | ForEach-Object { Start-Job -ScriptBlock { param($s, $w) $env:WRITER = $w; pwsh -NoProfile -NonInteractive -Command $s } -ArgumentList $script, $_ }
        $null = $jobs | Wait-Job -Timeout 300 | Receive-Job
        $jobs | Remove-Job -Force
        $back = Get-Incident production -ConfigPath $s3cfg -Id $i.Id
        @($back.Timeline | Where-Object Type -eq Note).Count | Should -Be 40
        (Get-Incident production -ConfigPath $s3cfg).Id | Should -Contain $i.Id
        (Close-Incident $i -ConfigPath $s3cfg -Resolution 'done').Status | Should -Be 'Closed'
    }

    It 'changes nothing with -WhatIf' {
        $before = @(Get-ChildItem $Journals -ErrorAction SilentlyContinue).Count
        New-Incident production -ConfigPath $Cfg -Title 'What if' -Severity P1 -Notify -WhatIf | Should -BeNullOrEmpty
        @(Get-ChildItem $Journals -ErrorAction SilentlyContinue).Count | Should -Be $before
        $i = New-Incident production -ConfigPath $Cfg -Title 'Real one' -Severity P3
        $n = $i.Timeline.Count
        Set-Incident $i -ConfigPath $Cfg -Status Identified -WhatIf | Out-Null
        Close-Incident $i -ConfigPath $Cfg -Resolution 'x' -WhatIf | Out-Null
        (Get-Incident production -ConfigPath $Cfg -Id $i.Id).Timeline.Count | Should -Be $n
        $log = Invoke-RestMethod "$Fake/_fake/log"
        @($log).Count | Should -Be 0
    }

    It 'keeps secrets out of the timeline and the report' {
        $env:PESTER_INCIDENT_TOKEN = 'tok-' + [guid]::NewGuid().ToString('N')
        try {
            $url = "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=`${PESTER_INCIDENT_TOKEN}"
            $i = Invoke-HealthCheck -Uri $url -Condition '[BODY] == ok' -Environment production -ConfigPath $Cfg | New-Incident -ConfigPath $Cfg -Severity P2
            $text = ($i.Timeline | ConvertTo-Json -Depth 4) + (Export-IncidentReport $i -ConfigPath $Cfg).Content + (Get-Content -Raw (Join-Path $Journals "$($i.Id).jsonl"))
            $text | Should -Not -Match $env:PESTER_INCIDENT_TOKEN
        }
        finally { Remove-Item env:PESTER_INCIDENT_TOKEN }
    }

    It 'says what is wrong with a level the profile lacks, an unknown incident and a missing title' {
        { New-Incident production -ConfigPath $Cfg -Title x -Severity P0 -ErrorAction Stop } | Should -Throw "*'paintbox' incident profile has no severity 'P0'*P1, P2, P3, P4*"
        { Get-Incident production -ConfigPath $Cfg -Id INC-20200101-000000-0000 -ErrorAction Stop } | Should -Throw '*no incident INC-20200101-000000-0000*'
        { New-Incident production -ConfigPath $Cfg -Severity P1 -ErrorAction Stop } | Should -Throw '*-Title*'
        { Set-Incident 'not-an-id' -Environment production -ConfigPath $Cfg -Status Mitigating -ErrorAction Stop } | Should -Throw '*INC-*'
    }

    It 'reads an incident that crossed a job boundary and completes severities from the profile' {
        $i = New-Incident production -ConfigPath $Cfg -Title 'From a job' -Severity P2
        $back = Start-Job -ScriptBlock { param($m, $c, $id) Import-Module $m; Get-Incident production -ConfigPath $c -Id $id } -ArgumentList (Join-Path $ModuleDir 'OpsRunbook.psd1'), $Cfg, $i.Id | Wait-Job | Receive-Job
        $back.PSObject.TypeNames[0] | Should -BeLike 'Deserialized.*'
        ($back | Set-Incident -ConfigPath $Cfg -Severity P1).Severity | Should -Be 'P1'
        $completions = (TabExpansion2 -inputScript "New-Incident production -ConfigPath '$Cfg' -Severity " -cursorColumn ("New-Incident production -ConfigPath '$Cfg' -Severity ".Length)).CompletionMatches.CompletionText
        $completions | Should -Be @('P1', 'P2', 'P3', 'P4')
    }
}
