namespace OpsRunbook.Engine.Secrets;

/// <summary>Turns a secret reference into its value.</summary>
public interface ISecretResolver
{
    /// <summary>Returns the value or throws <see cref="SecretResolutionException"/> with a message that names the reference, never the value.</summary>
    ValueTask<string> ResolveAsync(SecretReference reference, CancellationToken cancellationToken);
}

/// <summary>A reference could not be resolved. The message names the reference and what to fix.</summary>
public sealed class SecretResolutionException(string message, Exception? inner = null) : Exception(message, inner);
