using System.Collections.Concurrent;
using System.Text.Json;

namespace OpsRunbook.Engine.Secrets;

/// <summary>
/// Resolves <c>env:</c> references itself, <c>vault:</c> references from values the PowerShell layer supplied
/// (SecretManagement runs on the pipeline thread), and <c>secret:aws:</c> through a pluggable store.
/// Every value it hands out is registered with <see cref="Redactor"/> so no text can carry it.
/// </summary>
public sealed class SecretResolver : ISecretResolver
{
    private readonly ConcurrentDictionary<string, string> _supplied = new(StringComparer.Ordinal);
    private readonly Func<string, string?> _environment;

    /// <summary>Creates a resolver over the process environment (or <paramref name="environment"/> in tests).</summary>
    public SecretResolver(SecretRedactor? redactor = null, Func<string, string?>? environment = null)
    {
        Redactor = redactor ?? new SecretRedactor();
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>Collects every resolved value, for scrubbing text.</summary>
    public SecretRedactor Redactor { get; }

    /// <summary>
    /// The Secrets Manager store for <c>secret:aws:</c> references. By default a client over the SDK's credential chain
    /// and region (created on first use); <see cref="UseAws"/> points it at an environment's settings.
    /// </summary>
    public Func<string, CancellationToken, ValueTask<string>>? AwsSecretsManager { get; set; }

    /// <summary>Resolves <c>secret:aws:</c> references with these AWS settings (an environment's "aws" section).</summary>
    public void UseAws(Clients.Aws.AwsSettings settings)
    {
        var client = new Lazy<Clients.Aws.SecretsManagerClient>(() => new Clients.Aws.SecretsManagerClient(settings, this, Redactor));
        AwsSecretsManager = async (id, ct) => await client.Value.GetSecretStringAsync(id, ct).ConfigureAwait(false);
    }

    /// <summary>Supplies a value resolved elsewhere (vault references from SecretManagement).</summary>
    public void Supply(SecretReference reference, string value)
    {
        Redactor.Add(value);
        _supplied[reference.Text] = value;
    }

    /// <summary>True when a value was supplied for <paramref name="reference"/>.</summary>
    public bool HasSupplied(SecretReference reference) => _supplied.ContainsKey(reference.Text);

    /// <inheritdoc />
    public async ValueTask<string> ResolveAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        string value;
        switch (reference.Scheme)
        {
            case SecretScheme.Environment:
                value = _environment(reference.Id) is { Length: > 0 } v
                    ? v
                    : throw new SecretResolutionException($"{reference.Text}: environment variable {reference.Id} is not set or empty");
                break;
            case SecretScheme.Vault:
                value = _supplied.TryGetValue(reference.Text, out var s)
                    ? s
                    : throw new SecretResolutionException(
                        $"{reference.Text}: vault references are resolved by the PowerShell module through Microsoft.PowerShell.SecretManagement; use them from a PowerShell session with that module installed");
                break;
            default:
                if (_supplied.TryGetValue(reference.Text, out var supplied))
                {
                    value = supplied;
                    break;
                }
                if (AwsSecretsManager is null) UseAws(Clients.Aws.AwsSettings.Default);
                string raw;
                try
                {
                    raw = await AwsSecretsManager!(reference.Id, cancellationToken).ConfigureAwait(false);
                }
                catch (Clients.Aws.AwsServiceException ex)
                {
                    throw new SecretResolutionException($"{reference.Text}: Secrets Manager answered {ex.ErrorType}: {Redactor.Scrub(ex.Message.Split(": ", 3).Last())}", ex);
                }
                catch (Clients.Aws.AwsConfigurationException ex)
                {
                    throw new SecretResolutionException($"{reference.Text}: {ex.Message}", ex);
                }
                Redactor.Add(raw);
                value = reference.Key is null ? raw : ExtractJsonKey(reference, raw);
                break;
        }
        Redactor.Add(value);
        return value;
    }

    private static string ExtractJsonKey(SecretReference reference, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(reference.Key!, out var p))
            {
                return p.ValueKind == JsonValueKind.String ? p.GetString()! : p.GetRawText();
            }
        }
        catch (JsonException)
        {
            throw new SecretResolutionException($"{reference.Text}: the secret is not a JSON object, so #{reference.Key} cannot be read from it");
        }
        throw new SecretResolutionException($"{reference.Text}: the secret has no key '{reference.Key}'");
    }
}
