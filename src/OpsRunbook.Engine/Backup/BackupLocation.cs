namespace OpsRunbook.Engine.Backup;

/// <summary>Where backups live: a local directory or an S3 prefix. Keys are relative, '/'-separated.</summary>
public sealed record BackupLocation(string Root)
{
    /// <summary>
    /// A location whose text may hold <c>{date}</c>, the UTC day of <paramref name="now"/> as yyyyMMdd: runbook 001's
    /// nightly <c>s3://backup/files/YYYYMMDD/</c>, so each night's copy has a prefix of its own.
    /// </summary>
    public static BackupLocation Dated(string template, DateTimeOffset now) =>
        new(template.Replace("{date}", now.UtcDateTime.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

    /// <summary>s3://bucket/prefix/ or a local directory.</summary>
    public bool IsS3 => Root.StartsWith("s3://", StringComparison.OrdinalIgnoreCase);

    /// <summary>The bucket of an s3:// location.</summary>
    public string Bucket => IsS3 ? Root[5..].Split('/', 2)[0] : throw new InvalidOperationException("not an S3 location");

    /// <summary>The key prefix of an s3:// location (ends with / when not empty).</summary>
    public string Prefix
    {
        get
        {
            if (!IsS3) throw new InvalidOperationException("not an S3 location");
            var parts = Root[5..].Split('/', 2);
            var p = parts.Length > 1 ? parts[1] : "";
            return p.Length == 0 || p.EndsWith('/') ? p : p + "/";
        }
    }

    /// <summary>The URI of a key under this location.</summary>
    public string UriOf(string key) => IsS3 ? $"s3://{Bucket}/{Prefix}{key}" : System.IO.Path.Combine(Root, key.Replace('/', System.IO.Path.DirectorySeparatorChar));

    /// <summary>The key of a URI under this location (the inverse of <see cref="UriOf"/>).</summary>
    public string KeyOf(string uri)
    {
        var root = IsS3 ? $"s3://{Bucket}/{Prefix}" : System.IO.Path.GetFullPath(Root);
        if (IsS3 ? !uri.StartsWith(root, StringComparison.Ordinal) : !System.IO.Path.GetFullPath(uri).StartsWith(root, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{uri} is not under {Root}");
        }
        return IsS3 ? uri[root.Length..] : System.IO.Path.GetRelativePath(root, uri).Replace(System.IO.Path.DirectorySeparatorChar, '/');
    }

    /// <summary>Parses a backup URI (s3://bucket/key or a path) into its location (the parent) and the file name.</summary>
    public static (BackupLocation location, string key) Split(string uri)
    {
        if (uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            var slash = uri.LastIndexOf('/');
            if (slash < 5) throw new ArgumentException($"'{uri}' names no object; write s3://bucket/path/backup.dump");
            return (new BackupLocation(uri[..(slash + 1)]), uri[(slash + 1)..]);
        }
        var full = System.IO.Path.GetFullPath(uri);
        return (new BackupLocation(System.IO.Path.GetDirectoryName(full)!), System.IO.Path.GetFileName(full));
    }

    /// <inheritdoc />
    public override string ToString() => Root;
}
