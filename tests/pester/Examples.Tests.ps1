#Requires -Version 7.4
# Every example script in examples/ is run the way its help shows it, in a fresh pwsh, against the sandbox: each
# .EXAMPLE of each script is read with Get-Help (so a new example is tested by default) and run in a folder whose
# runbook.json holds the sandbox under the names the examples use (production, staging, sandbox).
# What cannot run here is rewritten, and the rewrite is listed below: public URLs point at the sandbox app, and a
# deploy command of a real platform (fly deploy) becomes a no-op that succeeds.
# Invoke-PesterSuite.ps1 runs this file last: the examples rotate secrets, back up and roll back the sandbox.

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    $script:Cases = foreach ($file in Get-ChildItem -Path (Join-Path $repo 'examples') -Filter *.ps1 | Sort-Object Name) {
        foreach ($example in (Get-Help $file.FullName -Full).Examples.Example) {
            $code = ($example.Code | Out-String).Trim()
            if ($code) { @{ Script = $file.Name; Code = $code } }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Work = New-ExampleWorkspace (Join-Path $TestDrive 'examples-run')
    $script:Rewrites = [ordered]@{
        'https://paintbox.fly.dev' = $Settings.OPSRUNBOOK_APP_URL
        "-DeployCommand 'fly deploy'" = "-DeployCommand 'exit 0'"
        './examples/' = (Join-Path $RepoRoot 'examples') + [IO.Path]::DirectorySeparatorChar
        '-Release v41' = '-Release 1'   # a release the sandbox has (the fake Fly.io serves releases 1 to 3)
        '-FlyApp cardmint-db' = '-FlyApp sandbox-db'   # the fake Fly.io's Postgres cluster app
    }
    # The state an example is written for: an emergency rollback starts from a bad release (the sandbox's release 3).
    $script:Setup = @{
        'emergency-rollback.ps1' = {
            if ((Get-DeploymentRelease sandbox -ConfigPath $SandboxConfig | Where-Object Current).Version -ne 3) {
                Start-Rollback sandbox -ConfigPath $SandboxConfig -Release 3 -NoHealthCheck -Force | Out-Null
            }
        }
    }
    # Exit codes that are the example doing its job (the exit contract: 2 a check failed, 3 warnings only): the
    # sandbox's postgres superuser can log in, a finding that needs action, so the monthly audit exits 2 as a
    # scheduled job should. The daily check ends with its report's code: the sandbox's metrics may warn.
    # -IncludeHost measures the machine the test runs on, whose load no test may depend on: its verdict may be any.
    # The weekly job reports this machine's pending security updates (a warning, 3) when it has any.
    $script:ExpectedExit = @{ 'monthly-security-audit.ps1' = @(2); 'daily-health-check.ps1' = @(0, 3); 'weekly-maintenance.ps1' = @(0, 3) }
    $script:HostDependent = '-IncludeHost' 
    # Watches and monitors run for minutes by default (15 in production): bounded here, so each example takes seconds.
    $script:Bounds = @{
        'monitor-after-deploy.ps1' = [ordered]@{ MonitorFor = '00:00:10'; Interval = '00:00:05' }
        'deploy-and-watch.ps1'     = [ordered]@{ Duration = '10s'; Interval = '5s' }
    }
    $script:Pwsh = (Get-Command pwsh -CommandType Application | Select-Object -First 1).Source
}

Describe 'Examples as a user pastes them' -Skip:(-not $env:OPSRUNBOOK_SERVERS_ENV) {
    It '<Script>: <Code>' -ForEach $Cases {
        $line = $Code
        foreach ($from in $Rewrites.Keys) { $line = $line.Replace($from, $Rewrites[$from]) }
        foreach ($bound in ($Bounds[$Script] ?? @{}).GetEnumerator()) {
            $pattern = "-$($bound.Key) \S+"
            $line = if ($line -match $pattern) { $line -replace $pattern, "-$($bound.Key) $($bound.Value)" } else { "$line -$($bound.Key) $($bound.Value)" }
        }
        # The examples import the built module themselves (their -ModulePath default); the environment comes from the
        # servers' settings, exported by TestSetup.ps1 as a shell that sourced servers.env would have them.
        if ($Setup[$Script]) { & $Setup[$Script] }
        $output = & $Pwsh -NoProfile -NonInteractive -WorkingDirectory $Work -Command "$line`nexit `$LASTEXITCODE" 2>&1 | Out-String
        $expected = if ($line.Contains($HostDependent)) { @(0, 2, 3) } else { $ExpectedExit[$Script] ?? @(0) }
        $expected | Should -Contain $LASTEXITCODE -Because "the example printed:`n$output"
        $output | Should -Not -Match 'Exception|at <ScriptBlock>'
    }
}
