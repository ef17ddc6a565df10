#!/usr/bin/env bash
# Installs the PowerShell the tests, the demo and CI run in, pinned, inside the repository (git ignores .tools/):
#   .tools/pwsh/pwsh                      PowerShell 7.6.9 (the NuGet "PowerShell" dotnet tool)
#   .tools/Modules/Pester/5.9.1/          Pester 5.9.1 (the NuGet "Pester" package; the module sits under tools/)
# Idempotent and quiet when both are there. Prints the path of pwsh on stdout; progress goes to stderr.
# Usage: pwsh=$(bash tests/pwsh.sh) || exit 1
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
pwsh_version=7.6.9
pester_version=5.9.1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

pwsh="$tools/pwsh/pwsh"
if ! [ -x "$pwsh" ] || ! "$pwsh" -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null | grep -qx "$pwsh_version"; then
  echo "installing PowerShell $pwsh_version into .tools/pwsh" >&2
  rm -rf "$tools/pwsh"
  dotnet tool install --tool-path "$tools/pwsh" PowerShell --version "$pwsh_version" >&2
fi

pester="$tools/Modules/Pester/$pester_version"
if ! [ -f "$pester/Pester.psd1" ]; then
  echo "installing Pester $pester_version into .tools/Modules" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # PackageDownload fetches a package without referencing it; the module is the package's tools/ folder.
  cat > "$work/fetch.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$pester_version]" /></ItemGroup>
</Project>
XML
  dotnet restore "$work/fetch.csproj" --packages "$work/packages" -nologo -v quiet >&2
  mkdir -p "$(dirname "$pester")"
  rm -rf "$pester"
  cp -r "$work/packages/pester/$pester_version/tools" "$pester"
fi
echo "$pwsh"
