using System.Globalization;

namespace OpsRunbook.Engine.Clients.Redis;

/// <summary>Where and how to reach Redis, parsed from <c>redis://[user[:password]@]host[:port][/db]</c> (<c>rediss://</c> for TLS).</summary>
public sealed record RedisEndpoint
{
    /// <summary>Host name or address.</summary>
    public required string Host { get; init; }
    /// <summary>TCP port, 6379 by default.</summary>
    public int Port { get; init; } = 6379;
    /// <summary>ACL user name; null uses the default user.</summary>
    public string? User { get; init; }
    /// <summary>Password (AUTH); never printed.</summary>
    public string? Password { get; init; }
    /// <summary>Database number for SELECT.</summary>
    public int Database { get; init; }
    /// <summary>Use TLS.</summary>
    public bool Tls { get; init; }
    /// <summary>Accept any server certificate.</summary>
    public bool SkipCertificateCheck { get; init; }
    /// <summary>PEM file of a private CA that signs the server certificate.</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>host:port for messages (no credentials).</summary>
    public string Display => $"{(Tls ? "rediss" : "redis")}://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}/{Database.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The display form: never the password (records print every property otherwise).</summary>
    public override string ToString() => Display;

    /// <summary>Parses a redis:// or rediss:// URL. Query: <c>?ssl_cert_reqs=none</c> or <c>?skipCertificateCheck=true</c>.</summary>
    public static RedisEndpoint Parse(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss"))
        {
            throw new ArgumentException("a Redis connection is a URL: redis://[user:password@]host[:port][/db], or rediss:// for TLS");
        }
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            // As redis-py reads it: redis://user:password@, redis://:password@, redis://user@ (no password).
            var parts = uri.UserInfo.Split(':', 2);
            user = parts[0].Length == 0 ? null : Uri.UnescapeDataString(parts[0]);
            password = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : null;
        }
        var db = 0;
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0 && !int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out db))
        {
            throw new ArgumentException($"'/{path}' is not a Redis database number");
        }
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        var skip = string.Equals(query["ssl_cert_reqs"], "none", StringComparison.OrdinalIgnoreCase)
            || string.Equals(query["skipCertificateCheck"], "true", StringComparison.OrdinalIgnoreCase);
        return new RedisEndpoint
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port,
            User = user,
            Password = password,
            Database = db,
            Tls = uri.Scheme == "rediss",
            SkipCertificateCheck = skip,
            CaCertificatePath = query["ca"],
        };
    }
}
