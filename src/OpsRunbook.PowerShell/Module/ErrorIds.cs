namespace OpsRunbook.PowerShell;

/// <summary>
/// Every error id the module writes: an ErrorRecord's FullyQualifiedErrorId starts with one of these, so scripts and CI
/// logs can match on it (<c>$_.FullyQualifiedErrorId -like 'OpsRunbook.BackupNotFound*'</c>). Written only through
/// these names; one that changes is a breaking change for someone's script.
/// </summary>
internal static class ErrorIds
{
    /// <summary>Written by TestDatabaseBackup.</summary>
    public const string BackupChecksumMismatch = "OpsRunbook.BackupChecksumMismatch";
    /// <summary>Written by BackupCmdlet.</summary>
    public const string BackupError = "OpsRunbook.BackupError";
    /// <summary>Written by BackupDatabase.</summary>
    public const string BackupFailed = "OpsRunbook.BackupFailed";
    /// <summary>Written by TestDatabaseBackup.</summary>
    public const string BackupIncomplete = "OpsRunbook.BackupIncomplete";
    /// <summary>Written by RemoveDatabaseBackup, TestDatabaseBackup.</summary>
    public const string BackupNotFound = "OpsRunbook.BackupNotFound";
    /// <summary>Written by RestoreDatabase, TestDatabaseBackup.</summary>
    public const string BackupVerificationFailed = "OpsRunbook.BackupVerificationFailed";
    /// <summary>Written by OpsRunbookCmdlet.</summary>
    public const string ConfigurationNotFound = "OpsRunbook.ConfigurationNotFound";
    /// <summary>Written by DatabaseCmdlet.</summary>
    public const string DatabaseError = "OpsRunbook.DatabaseError";
    /// <summary>Written by DatabaseCmdlet.</summary>
    public const string DatabaseFeatureMissing = "OpsRunbook.DatabaseFeatureMissing";
    /// <summary>Written by BackupCmdlet, DatabaseCmdlet.</summary>
    public const string DatabaseMissing = "OpsRunbook.DatabaseMissing";
    /// <summary>Written by DeployCmdlet.</summary>
    public const string DeploymentError = "OpsRunbook.DeploymentError";
    /// <summary>Written by DeployCmdlet.</summary>
    public const string DeploymentNotPossible = "OpsRunbook.DeploymentNotPossible";
    /// <summary>Written by ExportSecretInventory.</summary>
    public const string DestinationMissing = "OpsRunbook.DestinationMissing";
    /// <summary>Written by ExportSecretInventory.</summary>
    public const string EncryptionRequired = "OpsRunbook.EncryptionRequired";
    /// <summary>Written by DeployCmdlet, HealthTargetCmdlet.</summary>
    public const string EnvironmentMissing = "OpsRunbook.EnvironmentMissing";
    /// <summary>Written by DeployCmdlet, WaitHealthCheck.</summary>
    public const string HealthWaitTimeout = "OpsRunbook.HealthWaitTimeout";
    /// <summary>Written by GetHostResource.</summary>
    public const string HostResourceUnavailable = "OpsRunbook.HostResourceUnavailable";
    /// <summary>Written by DatabaseCmdlet, NewRandomSecret, OpsRunbookCmdlet, SetDeploymentScale.</summary>
    public const string InvalidArgument = "OpsRunbook.InvalidArgument";
    /// <summary>Written by RemoveDatabaseBackup.</summary>
    public const string InvalidBackupUri = "OpsRunbook.InvalidBackupUri";
    /// <summary>Written by GetServiceMetric, OpsRunbookCmdlet.</summary>
    public const string InvalidConfiguration = "OpsRunbook.InvalidConfiguration";
    /// <summary>Written by GetHostResource, WaitHealthCheck.</summary>
    public const string InvalidDuration = "OpsRunbook.InvalidDuration";
    /// <summary>Written by BackupCmdlet.</summary>
    public const string InvalidManifest = "OpsRunbook.InvalidManifest";
    /// <summary>Written by HealthTargetCmdlet, InvokeHealthCheck, WaitHealthCheck.</summary>
    public const string InvalidTarget = "OpsRunbook.InvalidTarget";
    /// <summary>Written by TestMetricThreshold.</summary>
    public const string InvalidThreshold = "OpsRunbook.InvalidThreshold";
    /// <summary>Written by InvokeDatabaseMaintenance.</summary>
    public const string MaintenanceFailed = "OpsRunbook.MaintenanceFailed";
    /// <summary>Written by GetServiceMetric.</summary>
    public const string MetricScrapeFailed = "OpsRunbook.MetricScrapeFailed";
    /// <summary>Written by InvokeDatabaseMaintenance.</summary>
    public const string NoOperation = "OpsRunbook.NoOperation";
    /// <summary>Written by TestMetricThreshold.</summary>
    public const string NotComparable = "OpsRunbook.NotComparable";
    /// <summary>Written by ExportRunbookReport.</summary>
    public const string NotReportable = "OpsRunbook.NotReportable";
    /// <summary>Written by BackupCmdlet.</summary>
    public const string PgToolMissing = "OpsRunbook.PgToolMissing";
    /// <summary>Written by SetDeploymentSecret.</summary>
    public const string PlatformVariableMissing = "OpsRunbook.PlatformVariableMissing";
    /// <summary>Written by DeployCmdlet.</summary>
    public const string ProviderError = "OpsRunbook.ProviderError";
    /// <summary>Written by RedisCmdlet.</summary>
    public const string RedisError = "OpsRunbook.RedisError";
    /// <summary>Written by RedisCmdlet.</summary>
    public const string RedisMissing = "OpsRunbook.RedisMissing";
    /// <summary>Written by ExportRunbookReport.</summary>
    public const string ReportFailed = "OpsRunbook.ReportFailed";
    /// <summary>Written by ExportRunbookReport.</summary>
    public const string ReportInputUnrecognized = "OpsRunbook.ReportInputUnrecognized";
    /// <summary>Written by RestoreDatabase.</summary>
    public const string RestoreFailed = "OpsRunbook.RestoreFailed";
    /// <summary>Written by RestoreDatabase.</summary>
    public const string RestoreTargetExists = "OpsRunbook.RestoreTargetExists";
    /// <summary>Written by StartRollback.</summary>
    public const string RollbackInputUnrecognized = "OpsRunbook.RollbackInputUnrecognized";
    /// <summary>Written by InvokeSecretRotation.</summary>
    public const string RotationFailed = "OpsRunbook.RotationFailed";
    /// <summary>Written by OpsRunbookCmdlet.</summary>
    public const string SecretManagementMissing = "OpsRunbook.SecretManagementMissing";
    /// <summary>Written by GetSecretRotationStatus, InvokeSecretRotation, SecretCmdlet.</summary>
    public const string SecretNotConfigured = "OpsRunbook.SecretNotConfigured";
    /// <summary>Written by OpsRunbookCmdlet.</summary>
    public const string SecretNotFound = "OpsRunbook.SecretNotFound";
    /// <summary>Written by SecretCmdlet.</summary>
    public const string SecretsManagerError = "OpsRunbook.SecretsManagerError";
    /// <summary>Written by StopDatabaseQuery.</summary>
    public const string StopQueryFailed = "OpsRunbook.StopQueryFailed";
    /// <summary>Written by BackupStorageBucket.</summary>
    public const string StorageCopyFailed = "OpsRunbook.StorageCopyFailed";
    /// <summary>Written by HealthTargetCmdlet.</summary>
    public const string UnsupportedInput = "OpsRunbook.UnsupportedInput";
    /// <summary>Written by NotifyCmdlet.</summary>
    public const string NotifyError = "OpsRunbook.NotifyError";
    /// <summary>Written by NotifyCmdlet.</summary>
    public const string NotifyTargetMissing = "OpsRunbook.NotifyTargetMissing";
    /// <summary>Written by SendRunbookNotification.</summary>
    public const string NotifyNothingToSend = "OpsRunbook.NotifyNothingToSend";
    /// <summary>Written by IncidentCmdlet.</summary>
    public const string IncidentError = "OpsRunbook.IncidentError";
    /// <summary>Written by IncidentCmdlet.</summary>
    public const string IncidentNotFound = "OpsRunbook.IncidentNotFound";
    /// <summary>Written by GetLogPattern.</summary>
    public const string LogReadFailed = "OpsRunbook.LogReadFailed";
    /// <summary>Written by ExportRunbookMatrix: more jobs than a matrix runs (the message gives the -PerJob that fits).</summary>
    public const string MatrixTooLarge = "OpsRunbook.MatrixTooLarge";
    /// <summary>Written by InvokeVulnerabilityScan: the scanner is missing, failed, or wrote no report.</summary>
    public const string ScanFailed = "OpsRunbook.ScanFailed";
    /// <summary>Written by DockerCmdlet: the docker CLI is missing or the engine did not answer.</summary>
    public const string DockerError = "OpsRunbook.DockerError";
    /// <summary>Written by RemoveStaleFile, ClearContainerStorage.</summary>
    public const string CleanupFailed = "OpsRunbook.CleanupFailed";
    /// <summary>Written by TestDatabaseFailover: the pair or the privileges make the drill unsafe.</summary>
    public const string FailoverRefused = "OpsRunbook.FailoverRefused";
    /// <summary>Written by InvokeDatabaseLoadTest: pgbench's tables, the script file or the privileges are missing.</summary>
    public const string LoadTestRefused = "OpsRunbook.LoadTestRefused";
    /// <summary>Written by GetDatabaseMigration: no migration table where it looked.</summary>
    public const string MigrationTableNotFound = "OpsRunbook.MigrationTableNotFound";
    /// <summary>Written by StaleFileCmdlet, GetDatabaseMigration.</summary>
    public const string PathNotFound = "OpsRunbook.PathNotFound";
}
