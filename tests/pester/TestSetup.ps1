# The preamble of every Pester file, written once. Each file starts with
#   BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }   # $RepoRoot, $HaveServers (for -Skip)
#   BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }                     # all of the below
# which gives the repository paths, the servers' settings (from $env:OPSRUNBOOK_SERVERS_ENV, exported as environment
# variables as a shell that sourced servers.env would have them), and the built module imported (-Force: each file
# gets it fresh). Servers missing is a skip here, and a failure in CI (tests/run.sh with OPSRUNBOOK_REQUIRE_SERVERS=1).
param([switch] $Discovery)
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
$script:HaveServers = [bool]$env:OPSRUNBOOK_SERVERS_ENV -and (Test-Path $env:OPSRUNBOOK_SERVERS_ENV)
if ($Discovery) { return }
$script:ModuleDir = Join-Path $RepoRoot 'out' 'OpsRunbook'
$script:SandboxConfig = Join-Path $RepoRoot 'examples' 'runbook.sandbox.jsonc'
$script:Settings = @{}
$env:AWS_EC2_METADATA_DISABLED = 'true'
if ($env:OPSRUNBOOK_SERVERS_ENV -and (Test-Path $env:OPSRUNBOOK_SERVERS_ENV)) {
    foreach ($line in Get-Content -Path $env:OPSRUNBOOK_SERVERS_ENV) {
        if ($line -match "^export (\w+)='(.*)'$") {
            $Settings[$Matches[1]] = $Matches[2]
            Set-Item -Path "env:$($Matches[1])" -Value $Matches[2]
        }
    }
}
Import-Module (Join-Path $ModuleDir 'OpsRunbook.psd1') -Force

# A folder whose runbook.json holds the sandbox under every environment name the examples use (production, staging,
# sandbox), so an example runs as written, from that folder.
function New-ExampleWorkspace([string] $Path) {
    New-Item -ItemType Directory -Path $Path -Force | Out-Null
    $config = Get-Content -Raw -Path $SandboxConfig | ConvertFrom-Json -AsHashtable
    $config.Remove('$schema')
    foreach ($name in 'production', 'staging') { $config.environments[$name] = $config.environments['sandbox'] }
    $config | ConvertTo-Json -Depth 32 | Set-Content -Path (Join-Path $Path 'runbook.json')
    # The sample logs the log cmdlets' examples read (./logs/app.log, ./logs/app.jsonl).
    Copy-Item -Recurse -Force -Path (Join-Path $RepoRoot 'examples' 'logs') -Destination (Join-Path $Path 'logs')
    $Path
}

# A PostgreSQL primary + replica of a test file's own (tests/pg-pair.sh), for what the shared servers must never see:
# its settings (PAIR_PRIMARY_URL, PAIR_REPLICA_URL, PAIR_PRIMARY_PORT, PAIR_REPLICA_PORT, PAIR_DIR); stop it with
# Stop-PgPair in AfterAll.
$script:PairScript = Join-Path $RepoRoot 'tests' 'pg-pair.sh'
function Start-PgPair {
    $pairEnv = (bash $PairScript start).Trim()
    $pair = @{}
    foreach ($line in Get-Content $pairEnv) { if ($line -match "^export ([A-Z_]+)='(.*)'$") { $pair[$Matches[1]] = $Matches[2] } }
    $pair
}
function Stop-PgPair([hashtable] $Pair) { if ($Pair -and $Pair.PAIR_DIR) { bash $PairScript stop $Pair.PAIR_DIR } }
