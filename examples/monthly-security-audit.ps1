#Requires -Version 7.4

<#
.SYNOPSIS
    The monthly database security audit of runbooks 001 and 003, as a report.
.DESCRIPTION
    Lists every role with its privileges, password expiry and privileged memberships, checks what PUBLIC may do in
    schema public, lists who is connected from where (runbook 003: usename, application_name, client_addr), and writes
    everything as a Markdown report (and, in CI, a step summary). Exits 1 when a finding needs action
    (a superuser that can log in, an expired password still in use, PUBLIC allowed to create objects).
.EXAMPLE
    ./examples/monthly-security-audit.ps1 -Environment production -ReportPath ./audit-2026-11.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Environment,

    [string] $ConfigPath,

    [string] $ReportPath = "./security-audit-$(Get-Date -Format 'yyyy-MM').md"
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '..' 'out' 'OpsRunbook' 'OpsRunbook.psd1') -ErrorAction SilentlyContinue
if (-not (Get-Module OpsRunbook)) { Import-Module OpsRunbook }
$config = @{}
if ($ConfigPath) { $config.ConfigPath = $ConfigPath }

$audit = Get-DatabaseRoleAudit -Environment $Environment @config
$audit | Where-Object { $_.Findings.Count -gt 0 } | Format-Table -AutoSize | Out-Host

Write-Host '--- Connected roles and clients'
Get-DatabaseActivity -Environment $Environment @config |
    Group-Object User, Application, Client -NoElement | Sort-Object Count -Descending | Format-Table Count, Name -AutoSize | Out-Host

$report = $audit | Export-RunbookReport -Format Markdown -Title "$Environment security audit $(Get-Date -Format 'yyyy-MM')" -Path $ReportPath
Write-Host ("Report: {0} ({1} need action, {2} to review)" -f $ReportPath, $report.Failed, $report.Warnings)
if ($report.Failed -gt 0) { exit 2 }
