using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>
/// The one table from a failure the Engine raises to the error a cmdlet writes: its id (<see cref="ErrorIds"/>), its
/// category and its message. Every cmdlet's Engine work goes through <see cref="OpsRunbookCmdlet.RunEngine{T}"/>, which
/// asks this table; no cmdlet keeps its own list of exceptions.
/// </summary>
/// <remarks>
/// In order: bad input (<see cref="ArgumentException"/>) is InvalidArgument; failures of remote systems that the
/// Engine's <see cref="FailureDescriber"/> can name (refused, unreachable, denied, timed out, a server's own error) take
/// the chapter's id (BackupError, DatabaseError, RedisError…) and a category by kind, with a message that names
/// host:port and never a secret; then the Engine's own exceptions by type. Anything else is a defect and propagates.
/// </remarks>
internal static class ErrorTable
{
    /// <summary>The error for <paramref name="ex"/>, or null when it is not an expected failure.</summary>
    /// <param name="ex">What the Engine threw.</param>
    /// <param name="where">What was being reached (host:port, a backup URI), for described failures.</param>
    /// <param name="chapterId">The chapter's id for described failures of remote systems.</param>
    /// <param name="target">The ErrorRecord's target object.</param>
    /// <param name="redactor">Scrubs every value the session resolved out of described messages.</param>
    public static ErrorRecord? For(Exception ex, string where, string chapterId, object? target, SecretRedactor redactor)
    {
        if (ex is ArgumentException) return new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, target);
        if (FailureDescriber.TryDescribe(ex, where, out var message, out var kind))
        {
            // The Engine names the failure: this assembly must not reference Npgsql or any other third-party type.
            return new ErrorRecord(new InvalidOperationException(LogText.Inert(redactor.Scrub(message))), chapterId, Category(kind), target);
        }
        return Typed(ex, target);
    }

    /// <summary>
    /// What PowerShell prints for <paramref name="record"/> made inert for CI runners (<see cref="LogText.Inert"/>): an
    /// Engine exception may quote a server (a provider's error body, a manifest's text), and errors reach the job log.
    /// </summary>
    private static ErrorRecord? Inert(ErrorRecord? record)
    {
        if (record is null) return null;
        var message = record.Exception.Message;
        var inert = LogText.Inert(message);
        if (inert != message) record.ErrorDetails = new ErrorDetails(inert);
        return record;
    }

    /// <summary>The error for one of the Engine's own exceptions, by type; null for any other.</summary>
    public static ErrorRecord? Typed(Exception ex, object? target) => Inert(
        ex switch
        {
            RunbookConfigException config => Config(config),
            PgToolMissingException => new ErrorRecord(ex, ErrorIds.PgToolMissing, ErrorCategory.NotInstalled, target),
            DatabaseFeatureMissingException => new ErrorRecord(ex, ErrorIds.DatabaseFeatureMissing, ErrorCategory.NotInstalled, target),
            BackupManifestException => new ErrorRecord(ex, ErrorIds.InvalidManifest, ErrorCategory.InvalidData, target),
            DeploymentProviderException provider => new ErrorRecord(ex, ErrorIds.ProviderError, provider.StatusCode switch
            {
                401 or 403 => ErrorCategory.PermissionDenied,
                404 => ErrorCategory.ObjectNotFound,
                408 => ErrorCategory.OperationTimeout,
                409 => ErrorCategory.ResourceBusy,
                _ => ErrorCategory.InvalidResult,
            }, target),
            DeploymentNotPossibleException => new ErrorRecord(ex, ErrorIds.DeploymentNotPossible, ErrorCategory.InvalidOperation, target),
            Engine.Metrics.HostResourceUnavailableException => new ErrorRecord(ex, ErrorIds.HostResourceUnavailable, ErrorCategory.ResourceUnavailable, target),
            Engine.Metrics.MetricScrapeException => new ErrorRecord(ex, ErrorIds.MetricScrapeFailed, ErrorCategory.ConnectionError, target),
            Engine.Incidents.IncidentNotFoundException => new ErrorRecord(ex, ErrorIds.IncidentNotFound, ErrorCategory.ObjectNotFound, target),
            InvalidDataException when target is string id && id.StartsWith("INC-", StringComparison.Ordinal) => new ErrorRecord(ex, ErrorIds.IncidentError, ErrorCategory.InvalidData, target),
            Engine.Notify.NotifyStateException state => new ErrorRecord(ex, ErrorIds.NotifyError, state.Busy ? ErrorCategory.ResourceBusy : ErrorCategory.InvalidData, target),
            HealthWaitTimeoutException timeout => new ErrorRecord(ex, ErrorIds.HealthWaitTimeout, ErrorCategory.OperationTimeout, timeout.LastReport),
            _ => null,
        });

    /// <summary>A configuration problem: the file is missing, or a field in it is wrong (named with its line).</summary>
    public static ErrorRecord Config(RunbookConfigException ex) =>
        new(ex, ex.Field is null && ex.File is null ? ErrorIds.ConfigurationNotFound : ErrorIds.InvalidConfiguration,
            ex.Field is null && ex.File is null ? ErrorCategory.ObjectNotFound : ErrorCategory.InvalidData, ex.Field ?? ex.File);

    /// <summary>The PowerShell error category of a failure kind.</summary>
    public static ErrorCategory Category(FailureKind kind) => kind switch
    {
        FailureKind.Permission => ErrorCategory.PermissionDenied,
        FailureKind.Timeout => ErrorCategory.OperationTimeout,
        FailureKind.Server => ErrorCategory.InvalidResult,
        _ => ErrorCategory.ConnectionError,
    };
}
