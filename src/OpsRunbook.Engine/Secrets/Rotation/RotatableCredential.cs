using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Clients.Redis;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>The shapes a rotated secret's value comes in.</summary>
public enum SecretValueFormat
{
    /// <summary>A bare string (a JWT signing secret, an API key).</summary>
    Plain,
    /// <summary>A JSON object; AWS's shape for database secrets: engine, host, port, username, password, dbname.</summary>
    Json,
    /// <summary>A connection URL (postgres://, redis://, rediss://), as DATABASE_URL and REDIS_URL hold it.</summary>
    Url,
}

/// <summary>
/// A secret value read for rotation: where it logs in and as whom. <see cref="With"/> writes a new value in the same
/// format, so applications reading the secret see no change but the password (and, alternating, the user name).
/// Never rendered: ToString names only the format and user.
/// </summary>
internal sealed class RotatableCredential
{
    private readonly JsonObject? _json;

    private RotatableCredential(string raw, SecretValueFormat format, JsonObject? json)
    {
        Raw = raw;
        Format = format;
        _json = json;
    }

    public string Raw { get; }
    public SecretValueFormat Format { get; }
    public string? Username { get; private init; }
    public string? Password { get; private init; }
    public string? Host { get; private init; }
    public int? Port { get; private init; }
    public string? Database { get; private init; }
    /// <summary>"postgres", "redis" or null (from the JSON engine field or the URL scheme).</summary>
    public string? Engine { get; private init; }

    /// <summary>The field holding the secret in a JSON value that is not a login (generic rotation).</summary>
    public string? JsonField { get; private init; }

    public static RotatableCredential Parse(string value, string? genericField = null)
    {
        var trimmed = value.Trim();
        if (trimmed.StartsWith('{'))
        {
            JsonObject json;
            try
            {
                json = JsonNode.Parse(trimmed)?.AsObject() ?? throw new FormatException();
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                throw new FormatException("the secret's value starts with '{' but is not a JSON object");
            }
            string? S(string name) => json.TryGetPropertyValue(name, out var n) && n is JsonValue v
                ? v.TryGetValue<string>(out var s) ? s : v.ToJsonString()
                : null;
            var engine = S("engine")?.ToLowerInvariant() switch
            {
                "postgres" or "postgresql" or "aurora-postgresql" => "postgres",
                "redis" or "valkey" or "elasticache" => "redis",
                _ => null,
            };
            int? port = int.TryParse(S("port"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : null;
            return new RotatableCredential(value, SecretValueFormat.Json, json)
            {
                Username = S("username") ?? S("user"),
                Password = S(genericField ?? "password"),
                Host = S("host"),
                Port = port,
                Database = S("dbname") ?? S("database"),
                Engine = engine,
                JsonField = genericField ?? "password",
            };
        }
        var scheme = trimmed.IndexOf("://", StringComparison.Ordinal) is var i and > 0 ? trimmed[..i].ToLowerInvariant() : null;
        if (scheme is "postgres" or "postgresql")
        {
            var b = PostgresConnectionString.Parse(trimmed);
            return new RotatableCredential(value, SecretValueFormat.Url, null)
            {
                Username = b.Username, Password = b.Password, Host = b.Host, Port = b.Port, Database = b.Database, Engine = "postgres",
            };
        }
        if (scheme is "redis" or "rediss")
        {
            var e = RedisEndpoint.Parse(trimmed);
            return new RotatableCredential(value, SecretValueFormat.Url, null)
            {
                Username = e.User, Password = e.Password, Host = e.Host, Port = e.Port, Database = e.Database.ToString(CultureInfo.InvariantCulture), Engine = "redis",
            };
        }
        return new RotatableCredential(value, SecretValueFormat.Plain, null) { Password = value };
    }

    /// <summary>This value with a new password (and optionally user name), in the same format.</summary>
    public string With(string password, string? username = null)
    {
        switch (Format)
        {
            case SecretValueFormat.Plain:
                return password;
            case SecretValueFormat.Json:
            {
                var copy = _json!.DeepClone().AsObject();
                copy[JsonField ?? "password"] = password;
                if (username is not null) copy[copy.ContainsKey("user") && !copy.ContainsKey("username") ? "user" : "username"] = username;
                return copy.ToJsonString();
            }
            default:
            {
                var start = Raw.IndexOf("://", StringComparison.Ordinal) + 3;
                var end = Raw.IndexOfAny(['/', '?'], start);
                if (end < 0) end = Raw.Length;
                var at = Raw.LastIndexOf('@', end - 1, end - start);
                var hostPart = at >= 0 ? Raw[(at + 1)..end] : Raw[start..end];
                var user = username ?? Username;
                var userInfo = (user is null ? "" : Uri.EscapeDataString(user)) + ":" + Uri.EscapeDataString(password) + "@";
                return Raw[..start] + userInfo + hostPart + Raw[end..];
            }
        }
    }

    /// <summary>An Npgsql connection string that logs in with this credential (no pooling: each login is real).</summary>
    public NpgsqlConnectionStringBuilder ToPostgres(RotationConnectionOptions options)
    {
        NpgsqlConnectionStringBuilder b;
        if (Format == SecretValueFormat.Url)
        {
            b = PostgresConnectionString.Parse(Raw);
        }
        else
        {
            if (Host is null) throw new FormatException("the secret names no host; a PostgreSQL secret needs host, port, username, password and dbname");
            b = new NpgsqlConnectionStringBuilder { Host = Host, Port = Port ?? 5432, Database = Database ?? "postgres", Username = Username, Password = Password };
            if (_json!.TryGetPropertyValue("sslmode", out var mode) && mode is JsonValue mv && mv.TryGetValue<string>(out var m)
                && Enum.TryParse<SslMode>(m.Replace("-", "", StringComparison.Ordinal), true, out var sslMode))
            {
                b.SslMode = sslMode;
            }
        }
        b.Pooling = false;
        b.ApplicationName = options.ApplicationName;
        b.Timeout = Math.Max(1, (int)Math.Ceiling(options.ConnectTimeout.TotalSeconds));
        if (options.CaCertificatePath is not null) b.RootCertificate = options.CaCertificatePath;
        return b;
    }

    /// <summary>A Redis endpoint that logs in with this credential.</summary>
    public RedisEndpoint ToRedis(RotationConnectionOptions options)
    {
        if (Format == SecretValueFormat.Url)
        {
            var e = RedisEndpoint.Parse(Raw);
            return options.CaCertificatePath is null ? e : e with { CaCertificatePath = options.CaCertificatePath };
        }
        if (Host is null) throw new FormatException("the secret names no host; a Redis secret needs host, port, username (for ACL users) and password");
        var tls = _json!.TryGetPropertyValue("ssl", out var ssl) && ssl is JsonValue sv && sv.TryGetValue<bool>(out var t) && t;
        return new RedisEndpoint
        {
            Host = Host, Port = Port ?? 6379, User = Username, Password = Password, Tls = tls, CaCertificatePath = options.CaCertificatePath,
        };
    }

    public override string ToString() => $"{Format} credential for {Username ?? "(no user)"}";
}

/// <summary>How rotation connects to the database or cache it changes.</summary>
public sealed record RotationConnectionOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public string? CaCertificatePath { get; init; }
    /// <summary>application_name on PostgreSQL connections (visible in pg_stat_activity and the server log).</summary>
    public string ApplicationName { get; init; } = "opsrunbook-rotation";
}
