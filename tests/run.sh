#!/usr/bin/env bash
# The OpsRunbook test command (the README's, and what .ci/run calls):
#   builds everything, starts the real test servers once (tests/servers.sh), runs the xunit suites
#   (Engine against the real servers, tests of the built module in hosted runspaces), then the Pester suite in the
#   pinned pwsh (tests/pwsh.sh installs it), and ends with one line: "N passed, N failed, N skipped".
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

for project in tests/OpsRunbook.Engine.Tests tests/OpsRunbook.PowerShell.Tests tests/OpsRunbook.Runspace.Tests; do
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
# PowerShell 7.6.9 and Pester 5.9.1, pinned, installed into .tools/ when missing: the module is tested in the pwsh users
# run, never skipped. A pwsh that cannot be installed is a failure.
if pwsh=$(bash "$root/tests/pwsh.sh"); then
  export PATH="$(dirname "$pwsh"):$PATH"
  "$pwsh" -NoProfile -NonInteractive -File "$root/tests/pester/Invoke-PesterSuite.ps1" -ResultPath "$results/pester.txt"
  rc=$?
  if [ -f "$results/pester.txt" ]; then
    read -r p f s < "$results/pester.txt"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  else
    echo "the Pester suite produced no results (exit $rc)"
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
else
  echo "PowerShell 7.6.9 or Pester 5.9.1 could not be installed (tests/pwsh.sh): the Pester suite cannot run"
  failed=$((failed + 1))
fi

[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
