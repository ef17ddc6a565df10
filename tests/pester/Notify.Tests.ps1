#Requires -Version 7.4
# Notifications and alerts (issue 15), end to end in pwsh against the sandbox's fake Slack, Teams, PagerDuty and
# Standard Webhooks receiver (tests/OpsRunbook.Engine.Tests/Fakes/FakeNotify.cs, run by FakeCloud), which enforce the
# services' contracts and limits and answer 429, errors and slow responses on demand.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Fake = $Settings.OPSRUNBOOK_NOTIFY_URL
    function Reset-Fake { Invoke-RestMethod -Method Post "$Fake/_fake/reset" | Out-Null }
    # Invoke-RestMethod writes a JSON array as one object: assign it first, so the pipeline enumerates it.
    function Get-Delivered([string] $Service) { $all = Invoke-RestMethod "$Fake/_fake/delivered"; @($all | Where-Object { -not $Service -or $_.service -eq $Service }) }
    function Get-FakeLog { $all = Invoke-RestMethod "$Fake/_fake/log"; @($all) }
    function Select-Result { process { if ($_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Notify.NotificationResult') { $_ } } }
    # The secrets of the sandbox's notify targets: none may appear in anything the module prints.
    $script:SecretParts = @('xoxsecretwebhookpart0123', 'teamssecretsig0123', $Settings.OPSRUNBOOK_PAGERDUTY_ROUTING_KEY, $Settings.OPSRUNBOOK_WEBHOOK_SECRET)
    function Assert-NoSecret([string] $Text) { foreach ($s in $SecretParts) { $Text | Should -Not -BeLike "*$s*" } }
    $script:Body = { param($text) "$($Settings.OPSRUNBOOK_APP_URL)/api/echo?body=$([uri]::EscapeDataString($text))" }
    # Two scheduled runs at once: the same pipeline in two pwsh processes; what each printed.
    function Invoke-Overlapping([string] $Pipeline) {
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; $Pipeline"
        $jobs = 1..2 | ForEach-Object { Start-Job -ScriptBlock { param($s) pwsh -NoProfile -NonInteractive -Command $s } -ArgumentList $script }
        $jobs | Wait-Job -Timeout 120 | Receive-Job
        $jobs | Remove-Job -Force
    }
}

Describe 'Send-RunbookNotification' -Skip:(-not $HaveServers) {
    BeforeEach { Reset-Fake }

    It 'posts one message per environment to every chat and webhook target and returns what became of each' {
        $out = Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig | Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Verbose 4>&1
        $results = $out | Select-Result
        ($results | Sort-Object Channel).Channel | Should -Be @('Slack', 'Teams', 'Webhook')
        ($results | Where-Object Channel -eq Slack).Status | Should -Be 'Sent'
        ($results | Where-Object Channel -eq Teams).Status | Should -Be 'Accepted'
        ($results | Where-Object Channel -eq Webhook).Status | Should -Be 'Sent'
        $results.Target | Should -BeLike '*/***'
        $slack = @(Get-Delivered slack)
        $slack.Count | Should -Be 1
        ($slack[0].body.blocks | ConvertTo-Json -Depth 8) | Should -Match 'simple'
        @(Get-Delivered webhook).Count | Should -Be 1   # the receiver verified the Standard Webhooks signature
        @(Get-Delivered pagerduty-change).Count | Should -Be 0   # a health report is not a change
        Assert-NoSecret ($out | Out-String)
    }

    It 'prints the exact payload with -WhatIf, addresses and keys masked, and sends nothing' {
        # What-if lines go to the host, so the command runs in a pwsh of its own whose output is read.
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; Send-RunbookNotification sandbox -ConfigPath '$SandboxConfig' -Template IncidentAlert -Field @{ Severity = 'P1'; Impact = 'Checkout 503' } -Channel Slack, PagerDuty -WhatIf"
        $text = pwsh -NoProfile -NonInteractive -Command $script 2>&1 | Out-String
        $text | Should -Match 'What if: Sending to Slack http://127\.0\.0\.1:\d+/\*\*\*'
        $text | Should -Match '"routing_key": "\*\*\*"'
        $text | Should -Match '🚨 INCIDENT ALERT'
        Assert-NoSecret $text
        @(Get-FakeLog).Count | Should -Be 0
    }

    It 'fills the runbook''s incident templates' {
        $r = Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Template IncidentResolved -Field @{ Duration = '42 minutes'; RootCause = 'a bad deploy'; Resolution = 'rolled back to v41' } -Channel Teams
        $r.Status | Should -Be 'Accepted'
        $card = (Get-Delivered teams)[0].body.attachments[0].content
        $card.type | Should -Be 'AdaptiveCard'
        ($card.body | Where-Object type -eq FactSet).facts.title | Should -Be @('Duration', 'Root Cause', 'Resolution', 'Follow-up')
        ($card.body | Where-Object type -eq FactSet).facts.value | Should -Be @('42 minutes', 'a bad deploy', 'rolled back to v41', 'TBD')
    }

    It 'cuts what is over a service''s limits with a visible marker, and the services (which enforce them) take it' {
        $long = ('Checkout returns 503 for EU customers; ' * 600)   # ~24,000 characters
        $results = Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Title ('T' * 400) -Text $long -Channel Slack, Teams, Webhook
        ($results | Sort-Object Channel).Status | Should -Be @('Sent', 'Accepted', 'Sent')
        $slack = (Get-Delivered slack)[0].body
        ($slack.blocks | Where-Object type -eq header).text.text.Length | Should -BeLessOrEqual 150
        $section = ($slack.blocks | Where-Object type -eq section)[0].text.text
        $section.Length | Should -BeLessOrEqual 3000
        $section | Should -BeLike '*… (truncated)'
        ((Get-Delivered teams)[0].body | ConvertTo-Json -Depth 20 -Compress).Length | Should -BeLessOrEqual (28 * 1024)
        (Get-Delivered webhook)[0].body.data.text.Length | Should -Be $long.Length   # a webhook takes it all
    }

    It 'waits out a 429 and sends once; a refused message is a result and a warning, not an exception' {
        Invoke-RestMethod -Method Post "$Fake/_fake/throttle?service=slack&count=1&retryAfter=1" | Out-Null
        $r = Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Title 'throttled once' -Channel Slack
        $r.Status | Should -Be 'Sent'
        $r.Attempts | Should -Be 2
        $r.Waited.TotalSeconds | Should -BeGreaterOrEqual 1
        Invoke-RestMethod -Method Post "$Fake/_fake/fail?service=slack&status=404&count=1&body=no_service" | Out-Null
        $r = Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Title 'revoked' -Channel Slack -WarningVariable warned -WarningAction SilentlyContinue -ErrorAction Stop
        $r.Status | Should -Be 'Rejected'
        $r.Reason | Should -BeLike '*no_service*make a new one*'
        $warned.Count | Should -Be 1
        Assert-NoSecret ($r | Format-List * | Out-String)
    }

    It 'does not post twice to Slack when the answer is lost after the message went out' {
        Invoke-RestMethod -Method Post "$Fake/_fake/stall?service=slack&ms=20000" | Out-Null
        try {
            # 15 s is the longest a send waits for an answer; the fake answers after 20.
            $r = Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Title 'lost answer' -Channel Slack -WarningAction SilentlyContinue
        }
        finally { Invoke-RestMethod -Method Post "$Fake/_fake/stall?service=slack&ms=0" | Out-Null }
        $r.Status | Should -Be 'Failed'
        $r.Attempts | Should -Be 1
        $r.Reason | Should -BeLike '*may have arrived*not sent again*'
    }

    It 'sends only transitions with -OnChange: one message when a check fails, none while it stays failed, one when it recovers' {
        $state = Join-Path $TestDrive 'notify-state.json'
        $url = & $Body 'ok'
        $send = { param($condition) Invoke-HealthCheck -Uri $url -Condition $condition | Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Channel Slack -OnChange -StatePath $state }
        (& $send '[BODY] == nope').Status | Should -Be 'Sent'
        & $send '[BODY] == nope' | Should -BeNullOrEmpty
        $recovered = & $send '[BODY] == ok'
        $recovered.Status | Should -Be 'Sent'
        & $send '[BODY] == ok' | Should -BeNullOrEmpty
        $messages = @(Get-Delivered slack)
        $messages.Count | Should -Be 2
        $messages[1].body.text | Should -Match 'Healthy'
        ($messages[1].body.blocks | ConvertTo-Json -Depth 8) | Should -Match 'recovered'
    }

    It 'sends one message when two scheduled runs overlap on the same state' {
        $state = Join-Path $TestDrive 'overlap-state.json'
        $url = & $Body 'broken'
        $out = Invoke-Overlapping "Invoke-HealthCheck -Uri '$url' -Condition '[BODY] == ok' | Send-RunbookNotification sandbox -ConfigPath '$SandboxConfig' -Channel Slack -OnChange -StatePath '$state' | ForEach-Object Status"
        @($out | Where-Object { $_ -eq 'Sent' }).Count | Should -Be 1 -Because ($out -join "`n")
        @(Get-Delivered slack).Count | Should -Be 1
    }

    It 'keeps -OnChange state in S3 with a conditional lease: two machines'' overlapping runs send one, -WhatIf writes nothing' {
        # The environment's S3 endpoint is a store with conditional writes (the fake; s3rver has none).
        $config = Get-Content -Raw $SandboxConfig | ConvertFrom-Json -AsHashtable
        $config.Remove('$schema')
        $config.environments.sandbox.aws.s3Endpoint = $Settings.OPSRUNBOOK_CONDITIONAL_S3_ENDPOINT
        $cfg = Join-Path $TestDrive 'conditional-s3.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content $cfg
        $state = "s3://ops-state/notify-$([guid]::NewGuid().ToString('N').Substring(0, 8)).json"
        $url = & $Body 's3-state'
        Invoke-HealthCheck -Uri $url -Condition '[BODY] == ok' | Send-RunbookNotification sandbox -ConfigPath $cfg -Channel Slack -OnChange -StatePath $state -WhatIf | Out-Null
        @(Get-Delivered slack).Count | Should -Be 0
        { Invoke-RestMethod "$($Settings.OPSRUNBOOK_CONDITIONAL_S3_ENDPOINT)/$($state.Substring(5))" } | Should -Throw   # -WhatIf wrote no state
        $out = Invoke-Overlapping "Invoke-HealthCheck -Uri '$url' -Condition '[BODY] == ok' | Send-RunbookNotification sandbox -ConfigPath '$cfg' -Channel Slack -OnChange -StatePath '$state' | ForEach-Object Status"
        @($out | Where-Object { $_ -eq 'Sent' }).Count | Should -Be 1 -Because ($out -join "`n")
        @(Get-Delivered slack).Count | Should -Be 1
    }

    It 'sends results from another runbook.json to -Uri from a folder without one' {
        $results = Invoke-HealthCheck sandbox -ConfigPath $SandboxConfig -Name simple
        Push-Location $TestDrive
        try { $r = $results | Send-RunbookNotification -Uri env:OPSRUNBOOK_SLACK_WEBHOOK_URL -Channel Slack -WarningVariable warned }
        finally { Pop-Location }
        $r.Status | Should -Be 'Sent'
        $warned | Should -BeNullOrEmpty
    }

    It 'reads results that crossed a job boundary' {
        $results = Start-Job -ScriptBlock { param($m, $c) Import-Module $m; Invoke-HealthCheck sandbox -ConfigPath $c -Name simple } -ArgumentList (Join-Path $ModuleDir 'OpsRunbook.psd1'), $SandboxConfig | Wait-Job | Receive-Job
        $results[0].PSObject.TypeNames[0] | Should -BeLike 'Deserialized.*'
        $r = $results | Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -Channel Webhook
        $r.Status | Should -Be 'Sent'
        $r.Items | Should -Be 1
        (Get-Delivered webhook)[0].body.data.items[0].subject | Should -Be 'simple'
    }

    It 'says what to add when an environment has no notify target, and what is wrong with an unknown input' {
        $cfg = Join-Path $TestDrive 'plain.json'
        '{ "system": "s", "environments": { "p": { } } }' | Set-Content $cfg
        { Send-RunbookNotification p -ConfigPath $cfg -Title x -ErrorAction Stop } | Should -Throw '*no notify target*"notify"*'
        { Send-RunbookNotification sandbox -ConfigPath $SandboxConfig -ErrorAction Stop } | Should -Throw '*nothing to send*'
    }
}

Describe 'Send-RunbookAlert' -Skip:(-not $HaveServers) {
    BeforeEach { Reset-Fake }

    It 'triggers one alert per broken thing under a stable key, updates it, and resolves it when it recovers' {
        $state = Join-Path $TestDrive 'alert-state.json'
        $url = & $Body 'ok'
        $run = { param($condition) Invoke-HealthCheck -Uri $url -Condition $condition | Send-RunbookAlert sandbox -ConfigPath $SandboxConfig -OnChange -StatePath $state -Priority P1 }
        $t = & $run '[BODY] == nope'
        $t.Status | Should -Be 'Accepted'
        $t.Key | Should -Be "opsrunbook/sandbox/sandbox/health checks/$($url.ToLowerInvariant())"
        $alerts = Invoke-RestMethod "$Fake/_fake/alerts"
        $alert = $alerts.PSObject.Properties.Value | Select-Object -First 1
        $alert.payload.severity | Should -Be 'error'
        $alert.payload.summary | Should -BeLike 'Unhealthy: *'
        & $run '[BODY] == nope' | Should -BeNullOrEmpty
        $resolved = & $run '[BODY] == ok'
        $resolved.Title | Should -BeLike 'resolve *'
        @((Invoke-RestMethod "$Fake/_fake/alerts").PSObject.Properties).Count | Should -Be 0
    }

    It 'pages without state and resolves by hand, never showing the routing key' {
        $url = & $Body 'down'
        $out = Invoke-HealthCheck -Uri $url -Condition '[BODY] == ok' -Environment sandbox -ConfigPath $SandboxConfig | Send-RunbookAlert sandbox -ConfigPath $SandboxConfig -Verbose 4>&1
        ($out | Select-Result).Status | Should -Be 'Accepted'
        Assert-NoSecret ($out | Out-String)
        $r = Invoke-HealthCheck -Uri $url -Condition '[BODY] == ok' -Environment sandbox -ConfigPath $SandboxConfig | Send-RunbookAlert sandbox -ConfigPath $SandboxConfig -Action Resolve
        $r.Status | Should -Be 'Accepted'
        @((Invoke-RestMethod "$Fake/_fake/alerts").PSObject.Properties).Count | Should -Be 0
    }

    It 'is refused by PagerDuty once for a bad routing key, without retrying' {
        $env:PESTER_BAD_KEY = 'not-a-32-character-key'
        try { $r = Invoke-HealthCheck -Uri (& $Body 'x') -Condition '[BODY] == ok' | Send-RunbookAlert sandbox -ConfigPath $SandboxConfig -RoutingKey env:PESTER_BAD_KEY -WarningAction SilentlyContinue }
        finally { Remove-Item env:PESTER_BAD_KEY }
        $r.Status | Should -Be 'Rejected'
        $r.Attempts | Should -Be 1
        $r.Reason | Should -BeLike '*routing_key*'
        $r.Reason | Should -Not -BeLike '*not-a-32-character-key*'
    }
}
