using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Health;

/// <summary>
/// Something to check. Built from an environment's configuration or from <c>-Uri</c>, and carried by every
/// HealthCheckResult (its Target), so results can be checked again.
/// It carries no secret values: a database or Redis target holds a <see cref="SecretValue"/> reference.
/// </summary>
public sealed class HealthCheckTarget
{
    private string? _address;
    private string? _name;
    private TargetKind? _kind;

    /// <summary>Name shown in results; defaults to the address as shown (<see cref="DisplayAddress"/>).</summary>
    public string Name { get => _name ?? DisplayAddress; set => _name = value; }

    /// <summary>
    /// The address as shown when it holds a secret from a variable (runbook.json endpoints): the secret parts as their
    /// <c>${VAR}</c> (see <c>EnvTemplate.ExpandUrl</c>), the rest expanded. What results, reasons and reports show.
    /// Null when nothing in the address is secret.
    /// </summary>
    public string? AddressTemplate { get; set; }

    /// <summary>How the address is shown: the template when there is one, else the address.</summary>
    public string DisplayAddress => AddressTemplate ?? Address;

    /// <summary>The values the template's variables took: registered with the session's redactor before each check.</summary>
    internal IReadOnlyList<string> SubstitutedValues { get; set; } = [];

    /// <summary>URL (http, https, tcp, postgres, redis, rediss) or host:port for TCP. Never holds a password (see <see cref="Connection"/>).</summary>
    public string Address
    {
        get => _address ?? Connection?.Display ?? "";
        set => _address = value is null ? null : SecretValue.ContainsCredential(value)
            ? throw new ArgumentException("an address must not contain a password; put credentials in Connection as a reference (env:NAME, secret:aws:ID, vault:VAULT/NAME)")
            : value;
    }

    /// <summary>How the target is checked; inferred from the address scheme when not set.</summary>
    public TargetKind Kind
    {
        get
        {
            if (_kind is { } kind) return kind;
            if (_address is { Length: > 0 }) return KindFromAddress(_address);
            // A literal connection URL says what it is; a reference (env:DATABASE_URL) does not, so Kind must be set.
            return Connection is { Reference: null } literal ? KindFromAddress(literal.Display) : TargetKind.Http;
        }
        set => _kind = value;
    }

    /// <summary>The environment the target belongs to, if any.</summary>
    public string? Environment { get; set; }

    /// <summary>The system (runbook.json's "system") the environment belongs to, if any.</summary>
    public string? System { get; set; }

    /// <summary>Connection for Postgres and Redis targets: a reference (<c>env:DATABASE_URL</c>) or a URL.</summary>
    public SecretValue? Connection { get; set; }

    /// <summary>Gatus-style conditions, all of which must hold: <c>[STATUS] == 200</c>, <c>[BODY].status == ok</c>.</summary>
    public IReadOnlyList<string> Conditions { get; set; } = [];

    /// <summary>Per-attempt timeout; the session default applies when null.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>A passing check slower than this is Degraded.</summary>
    public TimeSpan? DegradedAfter { get; set; }

    /// <summary>HTTP method, GET by default.</summary>
    public string Method { get; set; } = "GET";

    /// <summary>For databases: <c>primary</c> or <c>replica</c>; a server in the other role is Unhealthy.</summary>
    public string? ExpectedRole { get; set; }

    /// <summary>AWS settings for S3 and Secrets Manager targets (region, endpoints, credentials); null uses the SDK's chains.</summary>
    public Clients.Aws.AwsSettings? Aws { get; set; }

    /// <summary>For S3 targets: also write, read back and delete a small probe object.</summary>
    public bool WriteProbe { get; set; }

    /// <summary>Inspect the https certificate (expiry, chain, host name) even without a [CERTIFICATE_EXPIRATION] condition.</summary>
    public bool CheckCertificate { get; set; }

    /// <summary>Accept any TLS certificate for this target.</summary>
    public bool SkipCertificateCheck { get; set; }

    /// <summary>PEM file of a private CA that signs the target's certificate.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Free-form tags.</summary>
    public IReadOnlyList<string> Tags { get; set; } = [];

    /// <summary>
    /// Thresholds for the values a check measures (replica lag, connection usage, Redis memory): Warning makes the
    /// target Degraded, Critical Unhealthy. Null uses <see cref="Metrics.ThresholdProfile.Defaults"/> (runbooks 000 and 003).
    /// </summary>
    public Metrics.ThresholdProfile? Thresholds { get; set; }

    /// <summary>A target for a URL given on the command line (<c>-Uri</c>): http(s), tcp, postgres or redis.</summary>
    public static HealthCheckTarget FromUri(Uri uri, IReadOnlyList<string>? conditions, string? environment)
    {
        var text = uri.OriginalString;
        var kind = KindFromAddress(text);
        if (kind is TargetKind.Postgres or TargetKind.Redis)
        {
            // The URL may carry a password: keep it only in Connection, show the redacted form.
            var connection = SecretValue.Parse(text);
            return new HealthCheckTarget { Name = connection.Display, Kind = kind, Connection = connection, Conditions = conditions ?? [], Environment = environment };
        }
        return new HealthCheckTarget { Address = text, Kind = kind, Conditions = conditions ?? [], Environment = environment };
    }

    /// <inheritdoc />
    public override string ToString() => Name == DisplayAddress ? Name : $"{Name} ({DisplayAddress})";

    /// <summary>The kind a URL scheme means: http/https → Http, tcp → Tcp, postgres/postgresql → Postgres, redis/rediss → Redis; bare host:port → Tcp.</summary>
    public static TargetKind KindFromAddress(string address)
    {
        var colon = address.IndexOf("://", StringComparison.Ordinal);
        if (colon < 0)
        {
            if (address.Contains('=', StringComparison.Ordinal)) return TargetKind.Postgres; // key=value connection string
            return HostPort.TryParse(address, out _, out _) ? TargetKind.Tcp
                : throw new ArgumentException($"'{address}' is not an address; write http(s)://host/path, tcp://host:port, postgres://host/db or redis://host:port");
        }
        return address[..colon].ToLowerInvariant() switch
        {
            "http" or "https" => TargetKind.Http,
            "tcp" => TargetKind.Tcp,
            "postgres" or "postgresql" => TargetKind.Postgres,
            "redis" or "rediss" => TargetKind.Redis,
            "dns" => TargetKind.Dns,
            "s3" => TargetKind.S3,
            "secretsmanager" => TargetKind.SecretsManager,
            var s => throw new ArgumentException($"'{s}://' is not a scheme OpsRunbook checks; use http, https, tcp, dns, postgres, redis, s3 or secretsmanager"),
        };
    }
}
