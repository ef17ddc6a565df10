using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Common;

/// <summary>
/// What every operation against a remote system carries: where secrets come from and how their values are kept out of
/// everything shown, the environment's AWS settings and name (results are labelled with it), where progress goes, and
/// the cancellation of the whole run. One value instead of six loose parameters; <c>with</c> makes a variant (another
/// environment's AWS settings, no progress).
/// </summary>
public sealed record OperationContext(ISecretResolver Secrets, SecretRedactor Redactor)
{
    /// <summary>The environment's AWS settings (S3 stores, Secrets Manager); null: the AWS SDK's defaults.</summary>
    public AwsSettings? Aws { get; init; }

    /// <summary>The environment's name, for labelling results; null when there is none.</summary>
    public string? Environment { get; init; }

    /// <summary>Where a long operation reports what it is doing; null: nobody is watching.</summary>
    public IProgress<OperationStatus>? Progress { get; init; }

    /// <summary>Stops the operation (Ctrl+C, a pipeline that ended).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Reports a status of <paramref name="phase"/> to whoever watches.</summary>
    public void Report(string phase, string status, int? percent = null) => Progress?.Report(new OperationStatus(phase, status, percent));

    /// <summary>Reports a -Debug detail of <paramref name="phase"/>.</summary>
    public void Debug(string phase, string message) => Progress?.Report(OperationStatus.Debug(phase, message));

    /// <summary>No secrets, no resolver internals: the environment only.</summary>
    public override string ToString() => $"OperationContext({Environment ?? "no environment"})";

    /// <summary>A context for work that needs no secrets of its own (tests, local stores).</summary>
    public static OperationContext Plain(CancellationToken cancellation = default)
    {
        var redactor = new SecretRedactor();
        return new OperationContext(new SecretResolver(redactor), redactor) { Cancellation = cancellation };
    }
}
