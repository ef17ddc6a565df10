namespace OpsRunbook.Engine.Common;

/// <summary>host:port parsing that understands [::1]:5432.</summary>
public static class HostPort
{
    /// <summary>Splits <c>host:port</c> or <c>[v6]:port</c>.</summary>
    public static bool TryParse(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var cut = text.LastIndexOf(':');
        if (cut <= 0 || !int.TryParse(text.AsSpan(cut + 1), out port) || port is < 1 or > 65535) return false;
        host = text[..cut].Trim('[', ']');
        return host.Length > 0;
    }

    /// <summary>
    /// The host:port a PostgreSQL or Redis connection setting points at (postgres://, redis://, rediss:// URLs or
    /// key=value strings), for messages: never the user or password. Null when it names none.
    /// </summary>
    public static string? OfConnection(string connection)
    {
        if (Uri.TryCreate(connection, UriKind.Absolute, out var uri) && uri.Host.Length > 0)
        {
            var port = uri.Port > 0 ? uri.Port : uri.Scheme is "redis" or "rediss" ? 6379 : 5432;
            return Format(uri.Host.Trim('[', ']'), port);
        }
        var host = System.Text.RegularExpressions.Regex.Match(connection, @"(?i)(?:^|[;\s])(?:host|server)\s*=\s*([^;\s,]+)");
        if (!host.Success) return null;
        var portSetting = System.Text.RegularExpressions.Regex.Match(connection, @"(?i)(?:^|[;\s])port\s*=\s*([0-9]+)");
        return Format(host.Groups[1].Value, portSetting.Success ? int.Parse(portSetting.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 5432);
    }

    private static string Format(string host, int port) => (host.Contains(':') ? $"[{host}]" : host) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
