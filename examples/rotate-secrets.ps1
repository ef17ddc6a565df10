#Requires -Version 7.4

<#
.SYNOPSIS
    Secret rotation of runbooks 000 and 004: the monthly rotation by policy, and the breach response (rotate everything now).
.DESCRIPTION
    Monthly (runbook 000, "Secret Rotation"): rotates every secret under the environment's "secrets" in runbook.json
    whose policy says it is due (database and Redis passwords every 30 days, JWT secrets every 90), then checks the
    environment and reports. Secrets that are not due are left alone.

    Breach (runbook 004, "Suspected Security Breach"): -Breach rotates every configured secret now, whatever its age,
    then checks and reports. Rotations that fail leave AWSCURRENT working; rerunning the script resumes them.

    Each rotation is create / set / test / finish: the new password is stored as AWSPENDING, set on the database or
    cache (PostgreSQL receives a SCRAM verifier, Redis a SHA-256 hash), tested by logging in, and only then made
    AWSCURRENT. Applications that read the secret at start need a restart or redeploy to pick the new value up
    (runbook 000: "fly secrets set" and "make restart"); with PostgresAlternatingUsers or RedisAcl the old login keeps
    working until then.

    The report (Markdown; in CI also the step summary) lists each rotation and the health checks after it; the script
    exits 2 when a rotation failed or a check is unhealthy.
.EXAMPLE
    ./examples/rotate-secrets.ps1 -Environment production
.EXAMPLE
    ./examples/rotate-secrets.ps1 -Environment production -Breach -ReportPath ./breach-rotation.md
.EXAMPLE
    ./examples/rotate-secrets.ps1 -Environment sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -Breach
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    # Rotate every configured secret now (breach response), not only the due ones.
    [switch] $Breach,

    # Only these configured secrets (names under "secrets"; wildcards allowed).
    [string[]] $Secret,

    [string] $ReportPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

$results = [System.Collections.Generic.List[object]]::new()

# Where each secret stands before anything changes (the report shows it).
$before = @(Get-SecretRotationStatus -Environment $Environment @config)
foreach ($s in $before | Where-Object State -EQ 'Interrupted') {
    Write-Warning "$($s.SecretId): $($s.Reason)"
}

$rotation = @{ Environment = $Environment; Force = $true } + $config
if ($Secret) { $rotation.Secret = $Secret }
if (-not $Breach) { $rotation.Due = $true }

# A failed rotation is an error record and a result with Status Failed: keep going with the others.
$rotated = @(Invoke-SecretRotation @rotation -ErrorAction Continue)
$results.AddRange([object[]]$rotated)
if ($rotated.Count -eq 0) {
    Write-Host "No secret of '$Environment' is due for rotation."
}
else {
    $rotated | Format-Table -AutoSize | Out-String | Write-Host
    # The environment still works with the new credentials.
    $checks = @(Invoke-HealthCheck -Environment $Environment @config)
    $results.AddRange([object[]]$checks)
}

$after = @(Get-SecretRotationStatus -Environment $Environment @config)
$results.AddRange([object[]]$after)

$title = if ($Breach) { "Breach response: secret rotation ($Environment)" } else { "Monthly secret rotation ($Environment)" }
$reportParameters = @{ Format = 'Markdown'; Title = $title }
if ($ReportPath) { $reportParameters.Path = $ReportPath }
$report = $results | Export-RunbookReport @reportParameters
if (-not $ReportPath) { $report.Content }

$failed = @($rotated | Where-Object Status -EQ 'Failed').Count
if ($failed -gt 0 -or $report.Failed -gt 0) {
    Write-Error "$failed rotation(s) failed, $($report.Failed) failing row(s) in the report" -ErrorAction Continue
    exit 2
}
