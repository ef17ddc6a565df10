using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;
using OpsRunbook.Engine.Clients.Redis;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Common;

/// <summary>What kind of failure an exception is, for error categories.</summary>
public enum FailureKind
{
    /// <summary>The server could not be reached or the connection broke.</summary>
    Connection,
    /// <summary>Login or privileges were refused.</summary>
    Permission,
    /// <summary>A statement or operation timed out.</summary>
    Timeout,
    /// <summary>The server answered with another error.</summary>
    Server,
}

/// <summary>
/// A failure the Engine already described with what it concerned (for example the database behind a backup, where the
/// caller only knows the backup's destination): its message is final, and <see cref="Kind"/> is its kind.
/// </summary>
public sealed class DescribedFailureException(string message, FailureKind kind, Exception inner) : Exception(message, inner)
{
    /// <summary>What kind of failure it is.</summary>
    public FailureKind Kind { get; } = kind;
}

/// <summary>Turns what went wrong while reaching a target into one readable sentence (no stack trace, no secret).</summary>
public static partial class FailureDescriber
{
    /// <summary>
    /// For the PowerShell layer, which must not name third-party types: whether <paramref name="ex"/> is a failure of a
    /// server or client OpsRunbook uses (PostgreSQL, Redis, AWS, network, secrets), with its description and kind.
    /// </summary>
    public static bool TryDescribe(Exception ex, string where, out string message, out FailureKind kind)
    {
        if (ex is DescribedFailureException described)
        {
            (message, kind) = (described.Message, described.Kind);
            return true;
        }
        kind = ex switch
        {
            PostgresException { SqlState: "42501" or "28P01" or "28000" } => FailureKind.Permission,
            PostgresException { SqlState: "57014" } => FailureKind.Timeout,
            PostgresException => FailureKind.Server,
            RedisServerException { Kind: "NOPERM" or "NOAUTH" or "WRONGPASS" } => FailureKind.Permission,
            RedisServerException => FailureKind.Server,
            TimeoutException => FailureKind.Timeout,
            Clients.Aws.AwsServiceException { ErrorType: "AccessDeniedException" or "UnrecognizedClientException" or "InvalidSignatureException" } => FailureKind.Permission,
            Clients.Aws.AwsServiceException => FailureKind.Server,
            _ => FailureKind.Connection,
        };
        var known = ex is NpgsqlException or RedisServerException or RedisProtocolException or IOException or SocketException or AuthenticationException
            or HttpRequestException or TimeoutException or SecretResolutionException or Clients.Aws.AwsServiceException or Clients.Aws.AwsConfigurationException
            or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException;
        message = known ? Describe(ex, where) : "";
        return known;
    }

    /// <summary>Describes a failure to reach <paramref name="where"/> (a name or address without credentials).</summary>
    public static string Describe(Exception ex, string where)
    {
        switch (ex)
        {
            case DescribedFailureException:
                return ex.Message; // already says where
            case SecretResolutionException:
            case ArgumentException:
            case Clients.Aws.AwsConfigurationException:
                return ex.Message;
            case Clients.Aws.AwsServiceException aws:
                return $"{aws.Service} at {where}: {aws.ErrorType}: {aws.Message.Split(": ", 3).Last()}";
            case Amazon.S3.AmazonS3Exception s3:
                return $"S3 at {where}: {s3.ErrorCode ?? s3.StatusCode.ToString()}: {s3.Message}";
            case Amazon.Runtime.AmazonServiceException amazon when amazon.InnerException is HttpRequestException inner:
                return Describe(inner, where);
            case Amazon.Runtime.AmazonClientException client when client.InnerException is HttpRequestException inner:
                return Describe(inner, where);
            case HttpRequestException http:
                return http.HttpRequestError switch
                {
                    HttpRequestError.NameResolutionError => $"DNS lookup failed for {where}",
                    HttpRequestError.ConnectionError => $"cannot connect to {where}: {Innermost(http).Message}",
                    HttpRequestError.SecureConnectionError => $"TLS handshake with {where} failed: {Innermost(http).Message} (use -SkipCertificateCheck only for a test endpoint)",
                    _ => $"HTTP request to {where} failed: {Innermost(http).Message}",
                };
            case PostgresException pg:
                return pg.SqlState switch
                {
                    "28P01" or "28000" => $"PostgreSQL refused the login at {where}: {pg.MessageText} ({pg.SqlState}); check the user and password",
                    "42501" => $"PostgreSQL at {where}: permission denied: {pg.MessageText} ({pg.SqlState}); the role needs more privileges (see the cmdlet's help for which)",
                    "3D000" => $"PostgreSQL at {where}: {pg.MessageText} ({pg.SqlState})",
                    _ => $"PostgreSQL error at {where}: {pg.MessageText} ({pg.SqlState})",
                };
            case NpgsqlException npg when npg.InnerException is SocketException se:
                return Socket(se, where);
            case NpgsqlException npg when npg.InnerException is AuthenticationException or IOException && npg.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase):
                return $"TLS with PostgreSQL at {where} failed: {Innermost(npg).Message}";
            case NpgsqlException npg:
                return $"PostgreSQL at {where}: {Innermost(npg).Message}";
            case RedisServerException redis when redis.Kind is "NOPERM" && NoPermCommand().Match(redis.Message) is { Success: true } denied:
                // The login worked: the ACL user lacks one command (Redis names it, with a subcommand as 'client|list').
                return $"Redis at {where} refused: {redis.Message}; the login worked, but its ACL user may not run '{denied.Groups[1].Value}': ACL SETUSER <that user> +{denied.Groups[1].Value}";
            case RedisServerException redis when redis.Kind is "WRONGPASS" or "NOAUTH" or "NOPERM":
                return $"Redis at {where} refused: {redis.Message}; check the user and password";
            case RedisServerException redis:
                return $"Redis at {where} answered an error: {redis.Message}";
            case AuthenticationException auth:
                return $"TLS handshake with {where} failed: {auth.Message}";
            case SocketException se:
                return Socket(se, where);
            case IOException io:
                return $"connection to {where} broke: {Innermost(io).Message}";
            default:
                return $"{where}: {ex.GetType().Name}: {ex.Message}";
        }
    }

    private static string Socket(SocketException se, string where) => se.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => $"connection refused by {where} (nothing listening on that port?)",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"DNS lookup failed for {where}",
        SocketError.TimedOut => $"connecting to {where} timed out",
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => $"{where} is unreachable ({se.SocketErrorCode})",
        _ => $"cannot connect to {where}: {se.Message}",
    };

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }

    /// <summary>
    /// Runs <paramref name="work"/> and describes a failure of it as concerning <paramref name="where"/>, whatever the
    /// caller will say the operation was about.
    /// </summary>
    public static async Task<T> AboutAsync<T>(string where, Func<Task<T>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or DescribedFailureException) && TryDescribe(ex, where, out var message, out var kind))
        {
            throw new DescribedFailureException(message, kind, ex);
        }
    }

    /// <summary>Redis 6+'s ACL refusal: "NOPERM this user has no permissions to run the 'info' command".</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"permissions to run the '([^']+)' command")]
    private static partial System.Text.RegularExpressions.Regex NoPermCommand();
}
