#!/usr/bin/env bash
# The OpsRunbook test command (the README's, and what .ci/run calls):
#   builds everything, starts the real test servers once (tests/servers.sh), runs the xunit suites
#   (Engine against the real servers, contract tests over the built module), then the Pester suite where pwsh
#   exists, and ends with one line: "N passed, N failed, N skipped".
# OPSRUNBOOK_REQUIRE_SERVERS=1 (CI) makes a server that cannot start a failure instead of skipped tests.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# Tests reach 127.0.0.1 only; the AWS SDK must not fall back to the EC2 metadata endpoint.
export AWS_EC2_METADATA_DISABLED=true
results=$(mktemp -d /tmp/opsrunbook-results.XXXXXX)
passed=0; failed=0; skipped=0; status=0
servers_dir=""

cleanup() {
  [ -n "$servers_dir" ] && bash "$root/tests/servers.sh" stop "$servers_dir" >/dev/null 2>&1
  rm -rf "$results"
}
trap cleanup EXIT

echo "== build"
if ! dotnet build "$root/OpsRunbook.sln" -nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

echo "== test servers"
if env_file=$(bash "$root/tests/servers.sh" start); then
  servers_dir=$(dirname "$env_file")
  export OPSRUNBOOK_SERVERS_ENV=$env_file
else
  echo "test servers did not start"
  if [ "${OPSRUNBOOK_REQUIRE_SERVERS:-}" = 1 ]; then
    echo "OPSRUNBOOK_REQUIRE_SERVERS=1: a missing test server is a failure"
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
  fi
  echo "tests that need them will report themselves skipped, with the reason"
fi

count() { # trx file -> adds its counters
  local counters
  counters=$(grep -o '<Counters [^>]*>' "$1" | head -n 1)
  local p f n
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
}

for project in tests/OpsRunbook.Engine.Tests tests/OpsRunbook.PowerShell.Tests; do
  name=$(basename "$project")
  echo "== $name"
  # Failures print with their message and stack; skipped tests print with their reason.
  dotnet test "$root/$project" --no-build -nologo --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" 2>&1 | grep -v -E '^\s+Passed |^\s*$' | head -n 300
  rc=${PIPESTATUS[0]}
  if [ -f "$results/$name.trx" ]; then
    count "$results/$name.trx"
  else
    echo "$name produced no results (exit $rc)"
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
done

echo "== pester"
pester_tests=$(grep -h -c -E '^\s*It ' tests/pester/*.Tests.ps1 | awk '{s+=$1} END {print s+0}')
if command -v pwsh >/dev/null 2>&1; then
  pwsh -NoProfile -NonInteractive -File "$root/tests/pester/Invoke-PesterSuite.ps1" -ResultPath "$results/pester.txt"
  rc=$?
  if [ -f "$results/pester.txt" ]; then
    read -r p f s < "$results/pester.txt"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  else
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
else
  echo "skipped $pester_tests Pester tests: pwsh is not installed on this machine (no registry here carries PowerShell)."
  echo "They run wherever pwsh 7.4+ exists: pwsh tests/pester/Invoke-PesterSuite.ps1"
  skipped=$((skipped + pester_tests))
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
