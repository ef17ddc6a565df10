using System.Globalization;
using Npgsql;

namespace OpsRunbook.Engine.Clients.Postgres;

/// <summary>
/// Reads a PostgreSQL connection setting in either form people keep in DATABASE_URL: a libpq URL
/// (<c>postgres://user:pw@host1:5432,host2/db?sslmode=verify-full&amp;sslrootcert=ca.pem</c>) or an Npgsql
/// key=value string. Internal: Npgsql types never cross the Engine's public API. Messages never include the value.
/// </summary>
internal static class PostgresConnectionString
{
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return FromUrl(value);
        }
        try
        {
            return new NpgsqlConnectionStringBuilder(value);
        }
        catch (ArgumentException ex)
        {
            // Npgsql's message may quote the offending key but not values; keep only the key-level explanation.
            throw new ArgumentException("the PostgreSQL connection setting is neither a postgres:// URL nor a valid key=value string (" + ex.Message.Split('\n')[0] + ")");
        }
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        var b = new NpgsqlConnectionStringBuilder();
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        string? query = null;
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        var slash = rest.IndexOf('/');
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? Uri.UnescapeDataString(rest[(slash + 1)..]) : null;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':');
            b.Username = Uri.UnescapeDataString(colon >= 0 ? userInfo[..colon] : userInfo);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]);
        }
        var hosts = new List<string>();
        int? port = null;
        foreach (var part in authority.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var host = part;
            var close = part.LastIndexOf(']');
            var colon = part.LastIndexOf(':');
            if (colon > close)
            {
                if (!int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                {
                    throw new ArgumentException("the PostgreSQL URL has a port that is not a number from 1 to 65535");
                }
                host = part[..colon];
                if (hosts.Count == 0) port = p;
                else host = part; // Npgsql takes host:port per host.
            }
            hosts.Add(Uri.UnescapeDataString(host.Trim('[', ']')));
        }
        if (hosts.Count == 0) throw new ArgumentException("the PostgreSQL URL names no host; write postgres://user@host:5432/database");
        b.Host = string.Join(",", hosts);
        if (port is not null) b.Port = port.Value;
        if (!string.IsNullOrEmpty(database)) b.Database = database;
        if (query is not null)
        {
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                var key = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
                var val = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : "";
                switch (key.ToLowerInvariant())
                {
                    case "sslmode":
                        b.SslMode = val.ToLowerInvariant() switch
                        {
                            "disable" => SslMode.Disable,
                            "allow" => SslMode.Allow,
                            "prefer" => SslMode.Prefer,
                            "require" => SslMode.Require,
                            "verify-ca" => SslMode.VerifyCA,
                            "verify-full" => SslMode.VerifyFull,
                            _ => throw new ArgumentException($"sslmode '{val}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                        };
                        break;
                    case "sslrootcert":
                        b.RootCertificate = val;
                        break;
                    case "sslcert":
                        b.SslCertificate = val;
                        break;
                    case "sslkey":
                        b.SslKey = val;
                        break;
                    case "connect_timeout":
                        b.Timeout = int.TryParse(val, NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t
                            : throw new ArgumentException("connect_timeout must be a whole number of seconds");
                        break;
                    case "application_name":
                        b.ApplicationName = val;
                        break;
                    case "target_session_attrs":
                        b.TargetSessionAttributes = val;
                        break;
                    case "options":
                        b.Options = val;
                        break;
                    default:
                        throw new ArgumentException($"the PostgreSQL URL parameter '{key}' is not supported; use sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name, target_session_attrs or options");
                }
            }
        }
        return b;
    }
}
