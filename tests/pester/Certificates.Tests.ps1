#Requires -Modules Pester
# Get-EndpointCertificate (issue 18) in the real pwsh against the sandbox's TLS servers (tests/OpsRunbook.FakeCloud):
# certificates from a private CA for localhost that expire in 60, 15 and 5 days, one for another name, and a
# self-signed one.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'Get-EndpointCertificate' -Skip:(-not $HaveServers) {
    It 'reads the chain, names and days left of each server, in the order they answer' {
        $certs = Get-EndpointCertificate $env:OPSRUNBOOK_TLS_DAYS60, $env:OPSRUNBOOK_TLS_DAYS15, $env:OPSRUNBOOK_TLS_DAYS5 -CaCertificatePath $env:OPSRUNBOOK_TLS_CA
        $certs.Count | Should -Be 3
        $certs[0].PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Health.EndpointCertificate'
        $byDays = $certs | Sort-Object DaysRemaining
        $byDays.Days | ForEach-Object { [math]::Ceiling($_) } | Should -Be @(5, 15, 60)
        $byDays.Status | Should -Be @('Unhealthy', 'Degraded', 'Healthy') -Because 'fewer than 7 days left is critical, fewer than 30 a warning'
        $byDays[0].Reason | Should -BeLike 'renew: 4.* days left; CN=localhost, expires *'
        $byDays[0].SubjectAlternativeNames | Should -Contain 'localhost'
        $byDays[0].Chain.Subject | Should -Be @('CN=localhost', 'CN=OpsRunbook Unit Test CA')
        $byDays[0].Issuer | Should -Be 'CN=OpsRunbook Unit Test CA'
        ($certs | Out-String) | Should -BeLike '*Status*Environment*Name*Days*Expires*Reason*Healthy*'
    }

    It 'grades the days through Test-MetricThreshold: warning at 30, critical at 7' {
        $alerts = Get-EndpointCertificate $env:OPSRUNBOOK_TLS_DAYS60, $env:OPSRUNBOOK_TLS_DAYS15, $env:OPSRUNBOOK_TLS_DAYS5 -CaCertificatePath $env:OPSRUNBOOK_TLS_CA |
            Test-MetricThreshold
        ($alerts | Sort-Object Value).Severity | Should -Be @('Critical', 'Warning', 'Normal')
        $alerts.Metric | Select-Object -Unique | Should -Be 'certificate_days_remaining'
        # An environment's own thresholds win.
        $strict = Get-EndpointCertificate $env:OPSRUNBOOK_TLS_DAYS60 -CaCertificatePath $env:OPSRUNBOOK_TLS_CA | Test-MetricThreshold -Threshold @{ certificate_days_remaining = @{ warning = 90; critical = 14; direction = 'below' } }
        $strict.Severity | Should -Be 'Warning'
    }

    It 'says when a certificate is for another name or not trusted, and when a server is not there' {
        $wrong = Get-EndpointCertificate $env:OPSRUNBOOK_TLS_WRONG_NAME -CaCertificatePath $env:OPSRUNBOOK_TLS_CA
        ($wrong.Status, $wrong.HostNameMatches) | Should -Be @('Unhealthy', $false)
        $wrong.Reason | Should -Be 'not for localhost (it is for wrong.example)'
        $self = Get-EndpointCertificate $env:OPSRUNBOOK_TLS_SELF_SIGNED -CaCertificatePath $env:OPSRUNBOOK_TLS_CA
        ($self.Status, $self.ChainValid) | Should -Be @('Unhealthy', $false)
        $self.Reason | Should -BeLike 'untrusted chain: *'
        $gone = Get-EndpointCertificate 'tls://127.0.0.1:1' -TimeoutSec 3
        $gone.Status | Should -Be 'Unhealthy'
        $gone.Error | Should -Not -BeNullOrEmpty
        { Get-EndpointCertificate 'http://example.com' -ErrorAction Stop } | Should -Throw '*is not a server to read*'
    }

    It 'reads an environment''s https endpoints, and a report fails on a bad certificate' {
        $config = Join-Path $TestDrive 'runbook.json'
        @{ system = 'shop'; environments = @{ web = @{ endpoints = @(
            @{ name = 'shop'; url = "$env:OPSRUNBOOK_TLS_DAYS60/health"; caCertificate = $env:OPSRUNBOOK_TLS_CA }
            @{ name = 'legacy'; url = "$env:OPSRUNBOOK_TLS_WRONG_NAME/"; caCertificate = $env:OPSRUNBOOK_TLS_CA }
            @{ name = 'plain'; url = $Settings.OPSRUNBOOK_APP_URL }
        ) } } } | ConvertTo-Json -Depth 6 | Set-Content $config
        $certs = Get-EndpointCertificate -Environment web -ConfigPath $config
        ($certs.Name | Sort-Object) | Should -Be @('legacy', 'shop') -Because 'only https:// endpoints have certificates'
        $certs.Environment | Select-Object -Unique | Should -Be 'web'
        $report = $certs | Export-RunbookReport -NoCiIntegration
        ($report.Failed, $report.Passed) | Should -Be @(1, 1)
        $report.Content | Should -BeLike '*### Certificates*legacy*not for localhost*'
        (Get-EndpointCertificate $env:OPSRUNBOOK_TLS_DAYS15 -CaCertificatePath $env:OPSRUNBOOK_TLS_CA | Export-RunbookReport -NoCiIntegration).Warnings | Should -Be 1
    }
}
