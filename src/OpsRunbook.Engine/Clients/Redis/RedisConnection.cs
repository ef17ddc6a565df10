using System.Globalization;
using StackExchange.Redis;

namespace OpsRunbook.Engine.Clients.Redis;

/// <summary>
/// One Redis connection through StackExchange.Redis: TLS (with the module's certificate rules), ACL users, the database
/// of the URL, and commands sent as given (INFO, SLOWLOG, CLIENT LIST, CONFIG, ACL...) with their replies in the shape
/// the module reads (<see cref="RedisReply"/>). A connection per operation, as redis-cli does: no background reconnects,
/// no pub/sub channel, no tie-breaker key, so a locked-down ACL user is asked nothing beyond what the module sends.
/// Not thread-safe: one caller at a time. Passwords are never put in messages.
/// </summary>
public sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly IDatabase _database;

    private RedisConnection(ConnectionMultiplexer multiplexer, RedisEndpoint endpoint)
    {
        _multiplexer = multiplexer;
        _database = multiplexer.GetDatabase(endpoint.Database);
        Endpoint = endpoint;
    }

    /// <summary>Where this connection goes.</summary>
    public RedisEndpoint Endpoint { get; }

    /// <summary>Connects, negotiates TLS when asked, authenticates and selects the database.</summary>
    public static async Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, CancellationToken cancellationToken)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { endpoint.Host, endpoint.Port } },
            User = endpoint.User,
            Password = endpoint.Password,
            DefaultDatabase = endpoint.Database,
            Ssl = endpoint.Tls,
            SslHost = endpoint.Tls ? endpoint.Host : null,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = 10_000,
            SyncTimeout = 30_000,
            AsyncTimeout = 30_000,
            AllowAdmin = true,
            ClientName = "OpsRunbook",
            TieBreaker = "",
            ConfigurationChannel = "",
            Protocol = RedisProtocol.Resp2,
            // One interactive connection (no SUBSCRIBE connection), and no ECHO in the handshake: a locked-down ACL user
            // (+ping +info, say) may run neither, and a NOPERM there fails the whole connection.
            CommandMap = CommandMap.Create(new HashSet<string> { "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "ECHO" }, available: false),
            HeartbeatConsistencyChecks = false,
        };
        if (endpoint.Tls)
        {
            var validate = TlsValidation.Callback(endpoint.SkipCertificateCheck, endpoint.CaCertificatePath);
            options.CertificateValidation += (sender, certificate, chain, errors) => validate(sender, certificate, chain, errors);
        }
        var connecting = ConnectionMultiplexer.ConnectAsync(options);
        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = connecting.ContinueWith(t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        catch (RedisConnectionException ex)
        {
            throw Translate(ex, endpoint);
        }
        return new RedisConnection(multiplexer, endpoint);
    }

    /// <summary>Sends one command and reads its reply; an error reply throws <see cref="RedisServerException"/>.</summary>
    public async Task<RedisReply> ExecuteAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        try
        {
            var result = await _database.ExecuteAsync(arguments[0], arguments.Skip(1).Cast<object>().ToArray()).WaitAsync(cancellationToken).ConfigureAwait(false);
            return Convert(result);
        }
        catch (StackExchange.Redis.RedisServerException ex)
        {
            throw new RedisServerException(ServerMessage(ex));
        }
        catch (RedisConnectionException ex)
        {
            throw Translate(ex, Endpoint);
        }
        catch (RedisTimeoutException ex)
        {
            throw new TimeoutException($"Redis at {Endpoint.Host}:{Endpoint.Port.ToString(CultureInfo.InvariantCulture)} did not answer {arguments[0]} in time", ex);
        }
    }

    /// <summary>Sends several commands and reads all replies in order; the first error reply throws after all are read.</summary>
    public async Task<IReadOnlyList<RedisReply>> PipelineAsync(CancellationToken cancellationToken, params string[][] commands)
    {
        var replies = new List<RedisReply>(commands.Length);
        RedisServerException? firstError = null;
        foreach (var command in commands)
        {
            try
            {
                replies.Add(await ExecuteAsync(cancellationToken, command).ConfigureAwait(false));
            }
            catch (RedisServerException ex)
            {
                firstError ??= ex;
                replies.Add(new RedisReply(RedisReplyType.Error, ex.Message));
            }
        }
        return firstError is null ? replies : throw firstError;
    }

    private static RedisReply Convert(RedisResult result) => result.Resp2Type switch
    {
        ResultType.SimpleString => new RedisReply(RedisReplyType.SimpleString, (string?)result),
        ResultType.Integer => new RedisReply(RedisReplyType.Integer, Integer: (long)result),
        ResultType.BulkString => result.IsNull ? RedisReply.Nil : new RedisReply(RedisReplyType.BulkString, (string?)result),
        ResultType.Array => result.IsNull ? RedisReply.Nil : new RedisReply(RedisReplyType.Array, Items: ((RedisResult[])result!).Select(Convert).ToList()),
        ResultType.Error => new RedisReply(RedisReplyType.Error, result.ToString()),
        _ => RedisReply.Nil,
    };

    /// <summary>
    /// What a failed connection was, in the module's terms: a refused login is the server's own error (WRONGPASS,
    /// NOAUTH), anything else a connection failure naming host:port, with the network's reason where there is one.
    /// </summary>
    private static Exception Translate(RedisConnectionException ex, RedisEndpoint endpoint)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is StackExchange.Redis.RedisServerException server) return new RedisServerException(ServerMessage(server));
            if (e is System.Net.Sockets.SocketException socket) return socket;
            if (e is System.Security.Authentication.AuthenticationException tls) return tls;
        }
        // A refusal during the handshake is only in the text ("… SimpleError: NOPERM this user has no permissions …").
        var refusal = System.Text.RegularExpressions.Regex.Match(ex.ToString(), @"\b(NOPERM|WRONGPASS|NOAUTH) [^\r\n]*?(?=\r|\n|$)");
        if (refusal.Success) return new RedisServerException(refusal.Value);
        if (ex.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            var detail = ex.InnerException?.Message ?? ex.Message;
            return new RedisServerException(detail.StartsWith("WRONGPASS", StringComparison.Ordinal) || detail.StartsWith("NOAUTH", StringComparison.Ordinal) ? detail : "WRONGPASS " + detail);
        }
        // StackExchange.Redis says only "It was not possible to connect … use abortConnect=false", advice about its own
        // retry loop that means nothing to the person at the prompt: say where, and what kind of failure it was.
        var where = $"Redis at {endpoint.Host}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}";
        return new DescribedFailureException(ex.FailureType switch
        {
            ConnectionFailureType.UnableToConnect => $"{where} did not accept a connection: refused, unreachable or not answering (is Redis listening on that port?)",
            ConnectionFailureType.UnableToResolvePhysicalConnection => $"{where} could not be reached: the name did not resolve or nothing answered",
            _ => $"cannot connect to {where}: {ex.FailureType}",
        }, FailureKind.Connection, ex);
    }

    /// <summary>The server's error as it sent it ("WRONGPASS invalid …"), without the client's "SimpleError: " label.</summary>
    private static string ServerMessage(StackExchange.Redis.RedisServerException ex) =>
        System.Text.RegularExpressions.Regex.Replace(ex.Message, "^(SimpleError|BlobError|Error): ", "");

    /// <inheritdoc />
    public void Dispose() => _multiplexer.Dispose();

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _multiplexer.DisposeAsync().ConfigureAwait(false);

    /// <summary>Parses an INFO reply into key/value pairs (section headers and blank lines skipped).</summary>
    public static IReadOnlyDictionary<string, string> ParseInfo(string info)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in info.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var colon = line.IndexOf(':');
            if (colon > 0) result[line[..colon]] = line[(colon + 1)..];
        }
        return result;
    }
}
