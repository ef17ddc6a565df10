#!/usr/bin/env bash
# Builds the module, starts the local sandbox (tests/servers.sh: PostgreSQL primary + replica, Redis, s3rver, fake
# Secrets Manager and Fly.io, and a small app) and runs the daily health check of runbook 001 against it in a real
# PowerShell 7.6.9 (installed into .tools/ by tests/pwsh.sh when missing), then stops the sandbox.
#   bash demo.sh          run once
#   bash demo.sh --keep   leave the sandbox running and print how to use it
set -euo pipefail
export AWS_EC2_METADATA_DISABLED=true DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
keep=0; [ "${1:-}" = "--keep" ] && keep=1

echo "== building the module (dotnet build -> out/OpsRunbook)"
dotnet build OpsRunbook.sln -nologo -v quiet -clp:ErrorsOnly
echo "== PowerShell"
pwsh=$(bash tests/pwsh.sh)
"$pwsh" -NoProfile -NonInteractive -Command '"PowerShell " + $PSVersionTable.PSVersion'
echo "== starting the sandbox"
env_file=$(bash tests/servers.sh start)
sandbox_dir=$(dirname "$env_file")
[ $keep = 1 ] || trap 'bash tests/servers.sh stop "$sandbox_dir"' EXIT
# shellcheck disable=SC1090
source "$env_file"

config="$root/examples/runbook.sandbox.jsonc"
echo "== daily health check of environment 'sandbox' (examples/daily-health-check.ps1)"
rc=0
"$pwsh" -NoProfile -NonInteractive -File examples/daily-health-check.ps1 -Environment sandbox -ConfigPath "$config" || rc=$?

if [ $keep = 1 ]; then
  echo
  echo "The sandbox keeps running. Start PowerShell with its settings and the module:"
  echo "  set -a; source $env_file; set +a; $pwsh -NoExit -Command 'Import-Module ./out/OpsRunbook/OpsRunbook.psd1'"
  echo "then, for example:"
  echo "  Invoke-HealthCheck sandbox -ConfigPath ./examples/runbook.sandbox.jsonc -Summary"
  echo "Stop it with: bash tests/servers.sh stop $sandbox_dir"
fi
exit $rc
