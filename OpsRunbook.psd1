@{
    RootModule           = 'OpsRunbook.PowerShell.dll'
    # Loaded before the root module: it puts the Engine's resolver in place before PowerShell reflects over the cmdlets.
    NestedModules        = @('OpsRunbook.Loader.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '5d1f7a0e-3c1b-4e55-9a7e-2f4b8c6d0a11'
    Author               = 'OpsRunbook contributors'
    CompanyName          = 'OpsRunbook'
    Copyright            = '(c) OpsRunbook contributors. MIT License.'
    Description          = 'Production runbooks as typed, composable cmdlets: health checks, PostgreSQL and Redis diagnostics, backups proven by restore, secret rotation, rollbacks and incidents.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    TypesToProcess       = @('OpsRunbook.Types.ps1xml')
    FormatsToProcess     = @('OpsRunbook.Format.ps1xml')
    CmdletsToExport      = @(
        'Add-IncidentEvent'
        'Backup-Database'
        'Backup-StorageBucket'
        'Clear-RedisDatabase'
        'Close-Incident'
        'Compare-LogPattern'
        'ConvertFrom-LogLine'
        'Export-IncidentReport'
        'Export-RunbookMatrix'
        'Export-RunbookReport'
        'Export-SecretInventory'
        'Get-DatabaseActivity'
        'Get-DatabaseBackup'
        'Get-DatabaseConnectionUsage'
        'Get-DatabaseIndexAdvice'
        'Get-DatabaseIndexUsage'
        'Get-DatabaseLock'
        'Get-DatabaseReplication'
        'Get-DatabaseRoleAudit'
        'Get-DatabaseSlowQuery'
        'Get-DatabaseTableSize'
        'Get-DeploymentLog'
        'Get-DeploymentRelease'
        'Get-DeploymentStatus'
        'Get-EndpointCertificate'
        'Get-HostResource'
        'Get-HostUpdate'
        'Get-Incident'
        'Get-IncidentProfile'
        'Get-LogPattern'
        'Get-RedisClient'
        'Get-RedisInfo'
        'Get-RedisSlowLog'
        'Get-RunbookEnvironment'
        'Get-SecretRotationStatus'
        'Get-ServiceMetric'
        'Invoke-DatabaseMaintenance'
        'Invoke-HealthCheck'
        'Invoke-SecretRotation'
        'Invoke-VulnerabilityScan'
        'Measure-LogRecord'
        'New-Incident'
        'New-RandomSecret'
        'Remove-DatabaseBackup'
        'Restart-Deployment'
        'Restore-Database'
        'Send-RunbookAlert'
        'Send-RunbookNotification'
        'Set-DeploymentScale'
        'Set-DeploymentSecret'
        'Set-Incident'
        'Set-RedisEvictionPolicy'
        'Start-Deployment'
        'Start-Rollback'
        'Stop-DatabaseQuery'
        'Stop-Deployment'
        'Test-DatabaseBackup'
        'Test-DnsPropagation'
        'Test-MetricThreshold'
        'Wait-HealthCheck'
        'Watch-Deployment'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Operations', 'Runbook', 'HealthCheck', 'Monitoring', 'Prometheus', 'JUnit', 'PostgreSQL', 'Redis', 'Backup', 'SecretsManager', 'SecretRotation', 'Deployment', 'Rollback', 'Fly.io', 'SRE', 'DevOps', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/opsrunbook/opsrunbook'
            LicenseUri   = 'https://github.com/opsrunbook/opsrunbook/blob/main/LICENSE'
            ReleaseNotes = '0.1.0: backups proven by restoring them (Backup-Database to local and S3 with manifests, Test-DatabaseBackup with restore checks and measured RTO, Restore-Database, retention, Backup-StorageBucket); PostgreSQL and Redis operations (activity, slow queries, locks, stop queries, maintenance, sizes, index usage and advice, connections, replication, role audit; Redis info, eviction policy, flush, slow log, clients); environments from runbook.json with secret references; Invoke-HealthCheck and Wait-HealthCheck for HTTP(S), TCP, DNS, JWKS, TLS certificates, PostgreSQL and Redis; Get-ServiceMetric (Prometheus, JSON), Get-HostResource, Test-MetricThreshold with the runbooks'' threshold tables; Export-RunbookReport (Markdown, JUnit, JSON; GitHub Actions and Azure Pipelines).'
        }
    }
}
