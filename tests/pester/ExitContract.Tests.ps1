#Requires -Modules Pester
# The exit contract schedulers act on (issue 17): 0 all good, 2 failed checks, 3 warnings only, 1 the tool failed —
# from a plain `pwsh -File`, `pwsh -Command`, and the exact wrappers GitHub's `shell: pwsh` (actions/runner
# ScriptHandlerHelpers: $ErrorActionPreference = 'stop' before, `exit $LASTEXITCODE` after, run as pwsh -command ". '{0}'")
# and Azure's `pwsh:` step (PowerShellV2 powershell.ts: a BOM, $ErrorActionPreference = 'Stop', the script, then exit
# $LASTEXITCODE; run as pwsh -NoLogo -NoProfile -NonInteractive -Command ". 'file'") put around a script. The results
# come from the sample log's error rate, graded offline against thresholds that make them pass, warn or fail.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Log = Join-Path $RepoRoot 'examples' 'logs' 'app.log'
    $script:Manifest = Join-Path $ModuleDir 'OpsRunbook.psd1'
    $script:Thresholds = @{
        pass = "-Threshold @{ error_rate_percent = @{ warning = 90; critical = 95 } }"
        warn = "-Threshold @{ error_rate_percent = @{ warning = 1; critical = 50 } }"
        fail = "-Profile paintbox"
    }

    # A script as a user writes it: stop on errors, results through the gate, a line that shows whether it went on.
    function New-GateScript([string] $Name, [string] $Body) {
        $path = Join-Path $TestDrive "$Name.ps1"
        Set-Content -Path $path -Value @"
`$ErrorActionPreference = 'Stop'
Import-Module '$Manifest'
try {
    $Body
    'reached the end'
}
finally { 'finally ran' }
"@
        $path
    }
    function Get-GateBody([string] $Outcome, [string] $FailOn) {
        switch ($Outcome) {
            'config' { "Invoke-HealthCheck no-such-environment -ConfigPath '$SandboxConfig' | Export-RunbookReport -NoCiIntegration -FailOn $FailOn | Out-Null" }
            'unjudged' { "'not a result' | Export-RunbookReport -NoCiIntegration -FailOn $FailOn | Out-Null" }
            default { "Measure-LogRecord -Path '$Log' -Window 1h | Test-MetricThreshold $($Thresholds[$Outcome]) | Export-RunbookReport -NoCiIntegration -FailOn $FailOn | Out-Null" }
        }
    }
    # Runs $Script in one of the four forms; returns the exit code and everything printed.
    function Invoke-Form([string] $Form, [string] $Script) {
        $output = switch ($Form) {
            'File' { pwsh -NoProfile -File $Script 2>&1 }
            'Command' { pwsh -NoProfile -Command ". '$Script'" 2>&1 }
            'GitHub' {
                $wrapped = Join-Path $TestDrive "gha-$([guid]::NewGuid()).ps1"
                Set-Content -Path $wrapped -Value ("`$ErrorActionPreference = 'stop'`n" + (Get-Content -Raw $Script) + "`nif ((Test-Path -LiteralPath variable:\LASTEXITCODE)) { exit `$LASTEXITCODE }")
                pwsh -command ". '$wrapped'" 2>&1
            }
            'Azure' {
                $wrapped = Join-Path $TestDrive "azp-$([guid]::NewGuid()).ps1"
                $contents = @("`$ErrorActionPreference = 'Stop'", ". '$Script'", 'if (!(Test-Path -LiteralPath variable:\LASTEXITCODE)) {',
                    "    Write-Host '##vso[task.debug]`$LASTEXITCODE is not set.'", '} else {', "    Write-Host ('##vso[task.debug]`$LASTEXITCODE: {0}' -f `$LASTEXITCODE)",
                    '    exit $LASTEXITCODE', '}') -join "`n"
                [IO.File]::WriteAllText($wrapped, [char]0xFEFF + $contents, [Text.UTF8Encoding]::new($false))
                pwsh -NoLogo -NoProfile -NonInteractive -Command ". '$wrapped'" 2>&1
            }
        }
        [pscustomobject]@{ Code = $LASTEXITCODE; Text = ($output | Out-String) }
    }
}

Describe 'The exit contract in every way a script is run' {
    It '<Form>: <Outcome> under -FailOn <FailOn> ends with <Code>' -ForEach @(
        foreach ($form in 'File', 'GitHub') {
            @{ Form = $form; Outcome = 'pass'; FailOn = 'Unhealthy'; Code = 0 }
            @{ Form = $form; Outcome = 'fail'; FailOn = 'Unhealthy'; Code = 2 }
            @{ Form = $form; Outcome = 'warn'; FailOn = 'Degraded'; Code = 3 }
            @{ Form = $form; Outcome = 'warn'; FailOn = 'Unhealthy'; Code = 0 }
            @{ Form = $form; Outcome = 'config'; FailOn = 'Unhealthy'; Code = 1 }
            @{ Form = $form; Outcome = 'unjudged'; FailOn = 'Unhealthy'; Code = 1 }
        }
        foreach ($form in 'Command', 'Azure') {
            @{ Form = $form; Outcome = 'fail'; FailOn = 'Unhealthy'; Code = 2 }
            @{ Form = $form; Outcome = 'warn'; FailOn = 'Degraded'; Code = 3 }
            @{ Form = $form; Outcome = 'config'; FailOn = 'Unhealthy'; Code = 1 }
        }
    ) {
        $script = New-GateScript "$Form-$Outcome-$FailOn" (Get-GateBody $Outcome $FailOn)
        $run = Invoke-Form $Form $script
        $run.Code | Should -Be $Code -Because $run.Text
        # A failed gate ends the script where it stands (its finally blocks still run); a passed one lets it go on.
        $run.Text | Should -BeLike '*finally ran*'
        if ($Code -eq 0) { $run.Text | Should -BeLike '*reached the end*' }
        else { $run.Text | Should -Not -BeLike '*reached the end*' }
        if ($Code -in 2, 3) { $run.Text | Should -BeLike "*Export-RunbookReport:*(-FailOn $FailOn)*(exit code $Code)*" }
    }
}

Describe 'A gate at a prompt and in a job' {
    It 'stops the pipeline with an error and leaves the shell open, $LASTEXITCODE set' {
        # Commands read from stdin are a session like a prompt: nothing exits.
        $commands = "Import-Module '$Manifest'", (Get-GateBody 'fail' 'Unhealthy'), '"still open, code $LASTEXITCODE"'
        $output = $commands | pwsh -NoProfile -Command - 2>&1 | Out-String
        $output | Should -BeLike '*still open, code 2*'
        $output | Should -BeLike '*results are failing (-FailOn Unhealthy)*'
    }

    It 'fails a Start-Job (a server-mode pwsh) with the error rather than ending its process' {
        $job = Start-Job -ScriptBlock ([scriptblock]::Create("Import-Module '$Manifest'; " + (Get-GateBody 'fail' 'Unhealthy')))
        $null = $job | Wait-Job -Timeout 120
        $job.State | Should -Be 'Failed'
        $job.ChildJobs[0].JobStateInfo.Reason.Message | Should -BeLike '*results are failing (-FailOn Unhealthy)*'
        $job | Remove-Job -Force
    }

    It 'says with -WhatIf what the gate would do, and the script goes on' {
        $script = New-GateScript 'whatif' ((Get-GateBody 'fail' 'Unhealthy') -replace '\| Out-Null$', '-WhatIf | Out-Null')
        $run = Invoke-Form 'File' $script
        $run.Code | Should -Be 0 -Because $run.Text
        $run.Text | Should -BeLike '*What if: Performing the operation "End with exit code 2: 1 of 2 results are failing*'
        $run.Text | Should -BeLike '*reached the end*'
    }

    It 'is an error inside this process when -ErrorAction is given, the report''s ExitCode and $LASTEXITCODE set' {
        $results = Measure-LogRecord -Path $Log -Window 1h | Test-MetricThreshold -Threshold @{ error_rate_percent = @{ warning = 1; critical = 50 } }
        { $results | Export-RunbookReport -NoCiIntegration -FailOn Degraded -ErrorAction Stop } | Should -Throw '*-FailOn Degraded*'
        $LASTEXITCODE | Should -Be 3
        $report = $results | Export-RunbookReport -NoCiIntegration -FailOn Unhealthy
        $report.ExitCode | Should -Be 'Success'
        $LASTEXITCODE | Should -Be 0
        ($results | Export-RunbookReport -NoCiIntegration).ExitCode | Should -Be 'WarningsOnly'
    }
}

Describe 'Reports for a job''s artifacts and the runners'' own files' {
    It 'writes Markdown, JSON and JUnit in one call with -OutputDirectory' {
        $dir = Join-Path $TestDrive 'artifacts' 'health'
        $report = Measure-LogRecord -Path $Log -Window 1h | Test-MetricThreshold -Profile paintbox | Export-RunbookReport -OutputDirectory $dir -NoCiIntegration
        $report.Files | Split-Path -Leaf | Sort-Object | Should -Be @('opsrunbook-report.json', 'opsrunbook-report.junit.xml', 'opsrunbook-report.md')
        $report.Path | Should -Be (Join-Path $dir 'opsrunbook-report.md')
        (Get-Content -Raw (Join-Path $dir 'opsrunbook-report.json') | ConvertFrom-Json).summary.failed | Should -Be 1
        ([xml](Get-Content -Raw (Join-Path $dir 'opsrunbook-report.junit.xml'))).testsuites.failures | Should -Be '1'
        Get-Content -Raw (Join-Path $dir 'opsrunbook-report.md') | Should -BeLike '*1 failing, 1 warning*'
        { Export-RunbookReport -InputObject $report -OutputDirectory $dir -Path (Join-Path $dir 'x.md') } | Should -Throw '*Parameter set cannot be resolved*'
    }

    It 'gives GitHub a summary, capped annotations, a notice for warnings that pass, and step outputs' {
        $summary = Join-Path $TestDrive 'step_summary.md'
        $outputs = Join-Path $TestDrive 'github_output'
        Set-Content $summary -Value '' -NoNewline; Set-Content $outputs -Value '' -NoNewline
        $script = New-GateScript 'github-warn' (Get-GateBody 'warn' 'Unhealthy').Replace('-NoCiIntegration ', '')
        $env:GITHUB_ACTIONS = 'true'; $env:GITHUB_STEP_SUMMARY = $summary; $env:GITHUB_OUTPUT = $outputs
        try { $run = Invoke-Form 'GitHub' $script }
        finally { Remove-Item env:GITHUB_ACTIONS, env:GITHUB_STEP_SUMMARY, env:GITHUB_OUTPUT }
        $run.Code | Should -Be 0 -Because $run.Text
        $run.Text | Should -BeLike '*::warning title=Thresholds%3A error_rate_percent*'
        $run.Text | Should -BeLike '*::notice title=OpsRunbook report::2 warning results, none failing*'
        Get-Content -Raw $summary | Should -BeLike '## OpsRunbook report*0 failing, 2 warning*'
        $lines = Get-Content $outputs
        $lines[0..4] | Should -Be @('status=warnings', 'failed=0', 'warnings=2', 'passed=0', 'exit-code=0')
    }

    It 'shows GitHub at most 10 error annotations and says how many more the summary holds' {
        $uris = (1..12 | ForEach-Object { "'tcp://127.0.0.1:$_'" }) -join ', '
        $script = New-GateScript 'github-caps' "Invoke-HealthCheck -Uri $uris -FailureThreshold 1 -TimeoutSec 1 | Export-RunbookReport -FailOn Unhealthy | Out-Null"
        $env:GITHUB_ACTIONS = 'true'
        try { $run = Invoke-Form 'GitHub' $script }
        finally { Remove-Item env:GITHUB_ACTIONS }
        $run.Code | Should -Be 2 -Because $run.Text
        @($run.Text -split "`n" | Where-Object { $_ -like '::error *' }).Count | Should -Be 10
        $run.Text | Should -BeLike '*::notice title=OpsRunbook report::2 more failing and 0 more warning results than the annotations show are in the step summary*'
    }

    It 'gives Azure a summary, logissue lines, output variables and "succeeded with issues"' {
        $script = New-GateScript 'azure-warn' (Get-GateBody 'warn' 'Unhealthy').Replace('-NoCiIntegration ', '')
        $env:TF_BUILD = 'True'; $env:AGENT_TEMPDIRECTORY = $TestDrive
        try { $run = Invoke-Form 'Azure' $script }
        finally { Remove-Item env:TF_BUILD, env:AGENT_TEMPDIRECTORY }
        $run.Code | Should -Be 0 -Because $run.Text
        $run.Text | Should -BeLike '*##vso`[task.uploadsummary`]*'
        $run.Text | Should -BeLike '*##vso`[task.logissue type=warning`]Thresholds: error_rate_percent*'
        $run.Text | Should -BeLike '*##vso`[task.setvariable variable=opsrunbook.status;isOutput=true`]warnings*'
        $run.Text | Should -BeLike '*##vso`[task.complete result=SucceededWithIssues;`]2 warning results, none failing*'
    }
}
