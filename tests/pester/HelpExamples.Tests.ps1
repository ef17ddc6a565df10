#Requires -Version 7.4
# Every EXAMPLE in every cmdlet's help, and every command of the README's PowerShell blocks (the "PS>" lines, or the
# whole block where it has none), runs as written (so a new example is tested by default) against the sandbox, from a
# folder whose runbook.json holds the sandbox as production, staging and sandbox.
# - An example that names a cmdlet which changes something runs with $WhatIfPreference = $true: it reads, plans and
#   says what it would do against the real servers and fakes, and changes nothing (the -WhatIf tests prove "nothing").
# - Names that only exist in a user's world are rewritten to the sandbox's (listed in $Rewrites below).
# All examples run in one fresh pwsh (the module imported once, as a user's session would); each example's errors are
# collected on their own. Invoke-PesterSuite.ps1 runs this file in the last group, with Examples.Tests.ps1.

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    Import-Module (Join-Path $repo 'out' 'OpsRunbook' 'OpsRunbook.psd1') -Force
    $script:Cases = @(foreach ($command in Get-Command -Module OpsRunbook | Sort-Object Name) {
        $n = 0
        foreach ($example in (Get-Help $command.Name -Full).Examples.Example) {
            $n++
            @{ Id = "$($command.Name)#$n"; Cmdlet = $command.Name; Code = ($example.Code | Out-String).Trim() }
        }
    })
    Remove-Module OpsRunbook
    $block = 0
    foreach ($match in [regex]::Matches((Get-Content -Raw -Path (Join-Path $repo 'README.md')), '(?ms)^```powershell\r?\n(.*?)^```')) {
        $block++
        $lines = $match.Groups[1].Value -split '\r?\n'
        $commands = @($lines | Where-Object { $_ -like 'PS> *' } | ForEach-Object { $_.Substring(4) })
        if ($commands.Count -eq 0) { $commands = @(($lines | Where-Object { $_.Trim() }) -join "`n") }
        $n = 0
        foreach ($command in $commands) { $n++; $script:Cases += @{ Id = "README block $block#$n"; Cmdlet = 'README'; Code = $command.Trim() } }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $work = New-ExampleWorkspace (Join-Path $TestDrive 'help-examples')
    # Backups the examples can name: one in ./backups, one in the sandbox bucket.
    $local = Backup-Database sandbox -ConfigPath $SandboxConfig -Destination (Join-Path $work 'backups')
    $s3 = Backup-Database sandbox -ConfigPath $SandboxConfig
    $app = $Settings.OPSRUNBOOK_APP_URL
    $dns = "127.0.0.1:$($Settings.OPSRUNBOOK_DNS_PORT)"
    $rewrites = [ordered]@{
        # DNS: the sandbox's dnsmasq stands in for the public resolvers (tests reach loopback only); longest first.
        'Test-DnsPropagation -Name app.paintbox.com -Expected 203.0.113.10 -Resolver 1.1.1.1, 8.8.8.8' = "Test-DnsPropagation -Name app.opsrunbook.test -Expected 127.0.0.1 -Resolver $dns, $dns"
        'Test-DnsPropagation -Name app.paintbox.com -Expected 203.0.113.10' = "Test-DnsPropagation -Name app.opsrunbook.test -Expected 127.0.0.1 -Resolver $dns"
        "Test-DnsPropagation -Name paintbox.com -Type MX -Expected '10 mx1.paintbox.com', '20 mx2.paintbox.com'" = "Test-DnsPropagation -Name opsrunbook.test -Type MX -Expected '10 mail.opsrunbook.test' -Resolver $dns"
        # The sandbox's TLS server with a test certificate stands in for a public site (before the general URL rewrite).
        'Get-EndpointCertificate https://paintbox.fly.dev' = "Get-EndpointCertificate $($Settings.OPSRUNBOOK_TLS_DAYS60) -CaCertificatePath $($Settings.OPSRUNBOOK_TLS_CA)"
        's3://paintbox-backups/database/paintbox/production/app/20261122T020000.000Z-9c1e4f2a.dump' = $s3.BackupUri
        './backups/app.dump'          = $local.BackupUri
        's3://paintbox-backups/'      = 's3://opsrunbook-backups/'
        's3://paintbox-dr/'           = 's3://opsrunbook-backups/dr/'
        's3://formula-pm-storage/'    = 's3://opsrunbook-backups/sandbox/'
        's3://formula-pm-backup/'     = 's3://opsrunbook-backups/copies/'
        'https://paintbox.fly.dev'    = $app
        'http://localhost:9100/metrics' = "$app/api/metrics"
        'env:DATABASE_URL'            = 'env:OPSRUNBOOK_DATABASE_URL'
        'env:REDIS_URL'               = 'env:OPSRUNBOOK_REDIS_URL'
        'env:SLACK_WEBHOOK_URL'       = 'env:OPSRUNBOOK_SLACK_WEBHOOK_URL'
        'env:PAGERDUTY_ROUTING_KEY'   = 'env:OPSRUNBOOK_PAGERDUTY_ROUTING_KEY'
        './ops/runbook.json'          = './runbook.json'
        './shop/runbook.json'         = './runbook.json'
        './billing/runbook.json'      = $SandboxConfig   # a second file, as a second system's would be
        '-Release v41'                = '-Release 1'
        'Version -eq 41'              = 'Version -eq 1'
        'public.events'               = 'shop.orders'
        '-NamePrefix prod/'           = '-NamePrefix sandbox/'
        '| Set-Clipboard'             = '| Out-Null'   # no clipboard on a headless test machine
        '-Duration 5m -Interval 10s'  = '-Duration 10s -Interval 5s'
        'Watch-Deployment production -AutoRollback -Force' = 'Watch-Deployment production -AutoRollback -Force -Duration 10s -Interval 5s'
        './build.ps1'                 = (Join-Path $RepoRoot 'build.ps1')
        '-FlyApp cardmint-db'         = '-FlyApp sandbox-db'   # the fake Fly API's Postgres cluster app beside sandbox-app
        './alembic'                   = (Join-Path $RepoRoot 'examples' 'migrations' 'alembic')   # the sandbox shop's alembic project
        './out/OpsRunbook/'           = (Join-Path $RepoRoot 'out' 'OpsRunbook') + [IO.Path]::DirectorySeparatorChar
        '/var/backups/db/'            = (Join-Path $work 'var-backups') + [IO.Path]::DirectorySeparatorChar
        # Without an environment an s3:// destination means AWS itself; the sandbox's S3 endpoint comes with one.
        'Get-DatabaseBackup -Destination s3://' = 'Get-DatabaseBackup -Environment production -Destination s3://'
    }
    # The state an example is written for: a rollback starts from a bad release (the sandbox's release 3 running).
    $setup = @{
        'Start-Rollback' = "if ((Get-DeploymentRelease sandbox | Where-Object Current).Version -ne 3) { Start-Rollback sandbox -Release 3 -NoHealthCheck -Force | Out-Null }"
        # pgbench's tables in the sandbox database (its replica gets them too), for the load test's runs on them.
        'Invoke-DatabaseLoadTest production' = "try { Invoke-DatabaseLoadTest production -Initialize -Clients 1 -Threads 1 -Duration 1s -WarningAction SilentlyContinue | Out-Null } catch { }"
        # An incident to act on: the examples pick the newest one.
        'Get-Incident production' = "if (-not (Get-Incident production)) { New-Incident production -Title 'Checkout returns 503' -Severity P1 | Out-Null }"
    }
    $cases = foreach ($case in $Cases) {
        $code = $case.Code
        foreach ($from in $rewrites.Keys) { $code = $code.Replace($from, $rewrites[$from]) }
        @{ Id = $case.Id; Code = $code; Setup = ($setup.Keys | Where-Object { $code -match [regex]::Escape($_) } | ForEach-Object { $setup[$_] }) -join "`n" }
    }
    $casesPath = Join-Path $TestDrive 'help-examples.json'
    $resultPath = Join-Path $TestDrive 'help-examples.results.json'
    ConvertTo-Json -InputObject @($cases) -Depth 4 | Set-Content -Path $casesPath
    $runner = @'
param($Manifest, $CasesPath, $ResultPath)
Import-Module $Manifest -ErrorAction Stop
$mutating = @(Get-Command -Module OpsRunbook | Where-Object { $_.Parameters.ContainsKey('WhatIf') }).Name
$start = (Get-Location).Path
$results = foreach ($case in Get-Content -Raw -Path $CasesPath | ConvertFrom-Json) {
    Set-Location $start
    $whatIf = [bool]($mutating | Where-Object { $case.Code -match "(^|[\s|;(])$([regex]::Escape($_))\b" })
    if ($case.Setup) { & ([scriptblock]::Create($case.Setup)) }
    $Error.Clear()
    $WhatIfPreference = $whatIf
    $output = try { & ([scriptblock]::Create($case.Code)) *>&1 | Out-String -Width 160 } catch { $_ | Out-String -Width 160 }
    $WhatIfPreference = $false
    [pscustomobject]@{
        Id     = $case.Id
        WhatIf = $whatIf
        Errors = @($Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" })
        Output = $output
    }
}
ConvertTo-Json -InputObject @($results) -Depth 4 | Set-Content -Path $ResultPath
'@
    $runnerPath = Join-Path $TestDrive 'run-help-examples.ps1'
    Set-Content -Path $runnerPath -Value $runner
    $pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
    # Invoke-VulnerabilityScan's examples: project folders, and trivy and npm that print the scanners' recorded reports
    # (no scanner is installed here, and npm audit's endpoint is not served).
    $data = Join-Path $RepoRoot 'tests' 'OpsRunbook.Engine.Tests' 'Security' 'Data'
    $scanners = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'scanners') -Force
    Set-Content -Path (Join-Path $scanners 'trivy') -Value "#!/bin/sh`ncat '$data/trivy-debian-buster.json'`n"
    Set-Content -Path (Join-Path $scanners 'npm') -Value "#!/bin/sh`ncat '$data/npm-audit.json'`nexit 1`n"
    chmod +x (Join-Path $scanners 'trivy') (Join-Path $scanners 'npm')
    foreach ($project in 'app', 'web') { New-Item -ItemType Directory -Path (Join-Path $work $project) -Force | Out-Null }
    Set-Content -Path (Join-Path $work 'web' 'package.json') -Value '{ "name": "web" }'
    $path = $env:PATH
    $env:PATH = "$scanners$([IO.Path]::PathSeparator)$path"
    # The container-storage examples ask the engine docker would use: the sandbox's fake Docker engine.
    $env:DOCKER_HOST = $Settings.OPSRUNBOOK_DOCKER_HOST
    try { $script:RunnerOutput = & $pwsh -NoProfile -NonInteractive -WorkingDirectory $work -File $runnerPath (Join-Path $ModuleDir 'OpsRunbook.psd1') $casesPath $resultPath 2>&1 | Out-String }
    finally { $env:PATH = $path; Remove-Item Env:DOCKER_HOST -ErrorAction SilentlyContinue }
    $script:Results = @{}
    if (Test-Path $resultPath) {
        foreach ($r in Get-Content -Raw -Path $resultPath | ConvertFrom-Json) { $Results[$r.Id] = $r }
    }
}

Describe 'Cmdlet help and README examples as a user pastes them' -Skip:(-not $env:OPSRUNBOOK_SERVERS_ENV) {
    It '<Id>: <Code>' -ForEach $Cases {
        $result = $Results[$Id]
        $result | Should -Not -BeNullOrEmpty -Because "the example runner printed:`n$RunnerOutput"
        $result.Errors | Should -BeNullOrEmpty -Because "the example ($(if ($result.WhatIf) { 'with -WhatIf' } else { 'as written' })) printed:`n$($result.Output)"
    }
}
