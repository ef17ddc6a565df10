namespace OpsRunbook.Engine.Clients.Redis;

/// <summary>RESP2 reply types.</summary>
public enum RespType
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

/// <summary>A RESP2 reply.</summary>
public sealed record RespValue(RespType Type, string? Text = null, long Integer = 0, IReadOnlyList<RespValue>? Items = null)
{
    /// <summary>The null reply.</summary>
    public static readonly RespValue Nil = new(RespType.Null);

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        RespType.Integer => Integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RespType.Array => "[" + string.Join(", ", Items!) + "]",
        RespType.Null => "(nil)",
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
