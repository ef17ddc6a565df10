#!/usr/bin/env bash
# Builds the module, starts the local sandbox (tests/servers.sh: PostgreSQL primary + replica, Redis, s3rver and a
# small app) and runs the daily health check of runbook 001 against it, then stops the sandbox.
#   bash demo.sh          run once
#   bash demo.sh --keep   leave the sandbox running and print how to use it
set -euo pipefail
export AWS_EC2_METADATA_DISABLED=true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
keep=0; [ "${1:-}" = "--keep" ] && keep=1

echo "== building the module (dotnet build -> out/OpsRunbook)"
dotnet build OpsRunbook.sln -nologo -v quiet -clp:ErrorsOnly
echo "== starting the sandbox"
env_file=$(bash tests/servers.sh start)
sandbox_dir=$(dirname "$env_file")
[ $keep = 1 ] || trap 'bash tests/servers.sh stop "$sandbox_dir"' EXIT
# shellcheck disable=SC1090
source "$env_file"

config="$root/examples/runbook.sandbox.json"
echo "== daily health check of environment 'sandbox'"
rc=0
if command -v pwsh >/dev/null 2>&1; then
  pwsh -NoProfile -NonInteractive -File examples/daily-health-check.ps1 -Environment sandbox -ConfigPath "$config" || rc=$?
else
  echo "(pwsh is not installed here: running the same checks through the Engine; with pwsh this is Invoke-HealthCheck)"
  dotnet run --project tools/OpsRunbook.Demo --no-build -- "$config" sandbox || rc=$?
fi

if [ $keep = 1 ]; then
  echo
  echo "The sandbox keeps running. In pwsh:"
  echo "  Get-Content $env_file | ForEach-Object { if (\$_ -match \"^export (\\w+)='(.*)'\$\") { Set-Item env:\$(\$Matches[1]) \$Matches[2] } }"
  echo "  Import-Module ./out/OpsRunbook/OpsRunbook.psd1"
  echo "  Invoke-HealthCheck sandbox -ConfigPath ./examples/runbook.sandbox.json -Summary"
  echo "Stop it with: bash tests/servers.sh stop $sandbox_dir"
fi
exit $rc
