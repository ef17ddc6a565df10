namespace OpsRunbook.Engine.Clients.Redis;

/// <summary>The kinds of reply a Redis command gives (RESP2).</summary>
public enum RedisReplyType
{
    /// <summary>+OK</summary>
    SimpleString,
    /// <summary>-ERR ...</summary>
    Error,
    /// <summary>:42</summary>
    Integer,
    /// <summary>$5 hello</summary>
    BulkString,
    /// <summary>*2 ...</summary>
    Array,
    /// <summary>$-1 or *-1</summary>
    Null,
}

/// <summary>A command's reply, as the module reads it (converted from StackExchange.Redis's RedisResult).</summary>
public sealed record RedisReply(RedisReplyType Type, string? Text = null, long Integer = 0, IReadOnlyList<RedisReply>? Items = null)
{
    /// <summary>The null reply.</summary>
    public static readonly RedisReply Nil = new(RedisReplyType.Null);

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        RedisReplyType.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RedisReplyType.Array => "[" + string.Join(", ", Items!) + "]",
        RedisReplyType.Null => "(nil)",
        _ => Text ?? "",
    };
}

/// <summary>The server answered with an error reply (<c>-WRONGPASS ...</c>). <see cref="Kind"/> is its first word.</summary>
public sealed class RedisServerException(string message) : Exception(message)
{
    /// <summary>ERR, WRONGPASS, NOAUTH, NOPERM, LOADING...</summary>
    public string Kind { get; } = message.Split(' ', 2)[0];
}

/// <summary>The connection broke or the reply could not be read.</summary>
public sealed class RedisProtocolException(string message, Exception? inner = null) : IOException(message, inner);
