using System.Security.Cryptography;
using System.Text;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Clients.Redis;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>What a rotation changes besides the secret itself.</summary>
public enum RotationStrategy
{
    /// <summary>Chosen from the secret's value: postgres → PostgresSingleUser, redis with a user → RedisAcl, redis without → RedisRequirePass, else Generic.</summary>
    Auto,
    /// <summary>ALTER ROLE with a SCRAM-SHA-256 verifier computed here. The role has one password: a short window where only the new one works.</summary>
    PostgresSingleUser,
    /// <summary>Alternates between user and user_clone (created IN ROLE user by an admin secret): the old login keeps working until the next rotation.</summary>
    PostgresAlternatingUsers,
    /// <summary>A Redis ACL user gets the new password beside the old one; the old one is removed after the secret moves (zero downtime).</summary>
    RedisAcl,
    /// <summary>The Redis default user (requirepass): both passwords valid during the change, requirepass set to the new one at the end.</summary>
    RedisRequirePass,
    /// <summary>Only generate and store (JWT secrets, API keys): the application picks the value up on its next deploy.</summary>
    Generic,
}

/// <summary>A system whose credential is rotated: the set, test, revert and cleanup steps of one strategy.</summary>
internal interface IRotationTarget
{
    RotationStrategy Strategy { get; }

    /// <summary>The user name the pending version logs in as.</summary>
    string? PendingUsername(RotatableCredential current) => current.Username;

    /// <summary>Makes the system accept the pending credential; AlreadyDone when it already does.</summary>
    Task<RotationStepOutcome> SetAsync(RotatableCredential current, RotatableCredential pending, RotatableCredential? previous, CancellationToken ct);

    /// <summary>Logs in with the pending credential; throws when the system refuses it.</summary>
    Task TestAsync(RotatableCredential pending, CancellationToken ct);

    /// <summary>After a failure before finish: makes the current credential the one that works again. False when nothing needed undoing.</summary>
    Task<bool> RevertAsync(RotatableCredential current, RotatableCredential pending, CancellationToken ct);

    /// <summary>After finish: retires the previous credential where the strategy keeps two valid.</summary>
    Task<(RotationStepOutcome outcome, string? detail)> CleanupAsync(RotatableCredential current, RotatableCredential? previous, CancellationToken ct);
}

/// <summary>Generic values: nothing to set or test.</summary>
internal sealed class GenericTarget : IRotationTarget
{
    public RotationStrategy Strategy => RotationStrategy.Generic;
    public Task<RotationStepOutcome> SetAsync(RotatableCredential current, RotatableCredential pending, RotatableCredential? previous, CancellationToken ct) => Task.FromResult(RotationStepOutcome.Skipped);
    public Task TestAsync(RotatableCredential pending, CancellationToken ct) => Task.CompletedTask;
    public Task<bool> RevertAsync(RotatableCredential current, RotatableCredential pending, CancellationToken ct) => Task.FromResult(false);
    public Task<(RotationStepOutcome, string?)> CleanupAsync(RotatableCredential current, RotatableCredential? previous, CancellationToken ct) =>
        Task.FromResult<(RotationStepOutcome, string?)>((RotationStepOutcome.Skipped, null));
}

/// <summary>PostgreSQL logins, single-user or alternating.</summary>
internal sealed class PostgresTarget(RotationStrategy strategy, RotationConnectionOptions options, RotatableCredential? admin) : IRotationTarget
{
    public const string CloneSuffix = "_clone";

    public RotationStrategy Strategy => strategy;

    public string? PendingUsername(RotatableCredential current)
    {
        if (strategy != RotationStrategy.PostgresAlternatingUsers) return current.Username;
        var user = current.Username ?? throw new FormatException("the secret names no username");
        return user.EndsWith(CloneSuffix, StringComparison.Ordinal) ? user[..^CloneSuffix.Length] : user + CloneSuffix;
    }

    public async Task<RotationStepOutcome> SetAsync(RotatableCredential current, RotatableCredential pending, RotatableCredential? previous, CancellationToken ct)
    {
        if (await CanLogInAsync(pending, ct).ConfigureAwait(false)) return RotationStepOutcome.AlreadyDone;
        var verifier = ScramVerifier.Compute(pending.Password!);
        var role = pending.Username ?? throw new FormatException("the pending secret names no username");
        if (strategy == RotationStrategy.PostgresAlternatingUsers)
        {
            if (admin is null) throw new InvalidOperationException("the alternating-users strategy needs an admin secret (adminSecret) with CREATEROLE to create and alter the clone");
            await using var c = await OpenAsync(admin, ct).ConfigureAwait(false);
            var baseRole = role.EndsWith(CloneSuffix, StringComparison.Ordinal) ? role[..^CloneSuffix.Length] : current.Username!;
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", c) { Parameters = { new() { Value = role } } };
            var sql = await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null
                ? $"CREATE ROLE {Identifier.Quote(role)} WITH LOGIN PASSWORD {Literal(verifier)} IN ROLE {Identifier.Quote(baseRole)}"
                : $"ALTER ROLE {Identifier.Quote(role)} WITH PASSWORD {Literal(verifier)}";
            await ExecAsync(c, sql, ct).ConfigureAwait(false);
            return RotationStepOutcome.Done;
        }
        // Single user: log in as the user itself (current, or previous when an interrupted run already changed it).
        await using var conn = await OpenFirstAsync(new RotatableCredential?[] { current, previous }, ct).ConfigureAwait(false);
        await ExecAsync(conn, $"ALTER ROLE {Identifier.Quote(role)} WITH PASSWORD {Literal(verifier)}", ct).ConfigureAwait(false);
        return RotationStepOutcome.Done;
    }

    public async Task TestAsync(RotatableCredential pending, CancellationToken ct)
    {
        await using var c = await OpenAsync(pending, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT current_user", c);
        var user = (string?)await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        if (!string.Equals(user, pending.Username, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"logged in with the new password but as {user}, not {pending.Username}");
        }
    }

    public async Task<bool> RevertAsync(RotatableCredential current, RotatableCredential pending, CancellationToken ct)
    {
        // Alternating never touches the current user; single-user undoes the change only when it happened.
        if (strategy != RotationStrategy.PostgresSingleUser || !string.Equals(current.Username, pending.Username, StringComparison.Ordinal)) return false;
        if (await CanLogInAsync(current, ct).ConfigureAwait(false)) return false;
        await using var c = await OpenAsync(pending, ct).ConfigureAwait(false);
        await ExecAsync(c, $"ALTER ROLE {Identifier.Quote(current.Username!)} WITH PASSWORD {Literal(ScramVerifier.Compute(current.Password!))}", ct).ConfigureAwait(false);
        return true;
    }

    public Task<(RotationStepOutcome, string?)> CleanupAsync(RotatableCredential current, RotatableCredential? previous, CancellationToken ct) =>
        Task.FromResult<(RotationStepOutcome, string?)>((RotationStepOutcome.Skipped, strategy == RotationStrategy.PostgresAlternatingUsers
            ? $"{previous?.Username} keeps its password until the next rotation, so running instances stay connected"
            : null));

    private async Task<bool> CanLogInAsync(RotatableCredential credential, CancellationToken ct)
    {
        try
        {
            await using var _ = await OpenAsync(credential, ct).ConfigureAwait(false);
            return true;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            return false;
        }
    }

    private async Task<NpgsqlConnection> OpenFirstAsync(IEnumerable<RotatableCredential?> candidates, CancellationToken ct)
    {
        PostgresException? last = null;
        foreach (var candidate in candidates)
        {
            if (candidate is null) continue;
            try
            {
                return await OpenAsync(candidate, ct).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
            {
                last = e;
            }
        }
        throw new InvalidOperationException("neither the current nor the previous password logs in, so the password cannot be changed as the user itself; "
            + "set the secret's AWSCURRENT to a working password or use the alternating-users strategy with an admin secret", last);
    }

    private async Task<NpgsqlConnection> OpenAsync(RotatableCredential credential, CancellationToken ct)
    {
        var c = new NpgsqlConnection(credential.ToPostgres(options).ConnectionString);
        try
        {
            await c.OpenAsync(ct).ConfigureAwait(false);
            return c;
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task ExecAsync(NpgsqlConnection c, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

/// <summary>Redis: ACL users or the default user (requirepass). Passwords travel as SHA-256 hashes (ACL SETUSER #hash).</summary>
internal sealed class RedisTarget(RotationStrategy strategy, RotationConnectionOptions options, RotatableCredential? admin, bool persist) : IRotationTarget
{
    public RotationStrategy Strategy => strategy;

    private string User(RotatableCredential c) => strategy == RotationStrategy.RedisRequirePass ? "default" : c.Username ?? "default";

    public async Task<RotationStepOutcome> SetAsync(RotatableCredential current, RotatableCredential pending, RotatableCredential? previous, CancellationToken ct)
    {
        if (await CanLogInAsync(pending, ct).ConfigureAwait(false)) return RotationStepOutcome.AlreadyDone;
        await using var c = await OpenFirstAsync(new RotatableCredential?[] { admin, current, previous }, ct).ConfigureAwait(false);
        // Adds the new password; the old one stays valid until cleanup.
        await c.ExecuteAsync(ct, "ACL", "SETUSER", User(pending), "#" + Hash(pending.Password!)).ConfigureAwait(false);
        return RotationStepOutcome.Done;
    }

    public async Task TestAsync(RotatableCredential pending, CancellationToken ct)
    {
        await using var c = await RedisConnection.ConnectAsync(Endpoint(pending), ct).ConfigureAwait(false);
        var pong = await c.ExecuteAsync(ct, "PING").ConfigureAwait(false);
        if (pong.Text != "PONG") throw new InvalidOperationException($"PING answered {pong}");
    }

    public async Task<bool> RevertAsync(RotatableCredential current, RotatableCredential pending, CancellationToken ct)
    {
        // The current password was never removed; withdraw the pending one so only AWSCURRENT's works.
        if (!await CanLogInAsync(pending, ct).ConfigureAwait(false)) return false;
        await using var c = await OpenFirstAsync(new RotatableCredential?[] { admin, current }, ct).ConfigureAwait(false);
        await RemovePasswordAsync(c, User(pending), pending.Password!, ct).ConfigureAwait(false);
        return true;
    }

    public async Task<(RotationStepOutcome, string?)> CleanupAsync(RotatableCredential current, RotatableCredential? previous, CancellationToken ct)
    {
        await using var c = await OpenFirstAsync(new RotatableCredential?[] { admin, current }, ct).ConfigureAwait(false);
        var outcome = RotationStepOutcome.AlreadyDone;
        if (strategy == RotationStrategy.RedisRequirePass)
        {
            // Leaves exactly the new password on the default user and keeps the requirepass setting in step with it.
            await c.ExecuteAsync(ct, "CONFIG", "SET", "requirepass", current.Password!).ConfigureAwait(false);
            outcome = RotationStepOutcome.Done;
        }
        else if (previous?.Password is { } old && old != current.Password && await RemovePasswordAsync(c, User(current), old, ct).ConfigureAwait(false))
        {
            outcome = RotationStepOutcome.Done;
        }
        if (!persist) return (outcome, "not persisted (persist is off): a restart brings back the configured passwords");
        return (outcome, await PersistAsync(c, ct).ConfigureAwait(false));
    }

    /// <summary>Writes the change where the server keeps it: ACL SAVE with an aclfile, else CONFIG REWRITE.</summary>
    private static async Task<string> PersistAsync(RedisConnection c, CancellationToken ct)
    {
        try
        {
            var aclfile = await c.ExecuteAsync(ct, "CONFIG", "GET", "aclfile").ConfigureAwait(false);
            var hasAclFile = aclfile.Items is { Count: 2 } items && !string.IsNullOrEmpty(items[1].Text);
            await c.ExecuteAsync(ct, hasAclFile ? ["ACL", "SAVE"] : ["CONFIG", "REWRITE"]).ConfigureAwait(false);
            return hasAclFile ? "persisted with ACL SAVE" : "persisted with CONFIG REWRITE";
        }
        catch (RedisServerException e)
        {
            // Managed services (ElastiCache, Upstash) refuse CONFIG; they persist on their own.
            return $"not persisted ({e.Kind}): if this server is self-managed, save its configuration before a restart";
        }
    }

    private static async Task<bool> RemovePasswordAsync(RedisConnection c, string user, string password, CancellationToken ct)
    {
        try
        {
            await c.ExecuteAsync(ct, "ACL", "SETUSER", user, "!" + Hash(password)).ConfigureAwait(false);
            return true;
        }
        catch (RedisServerException e) when (e.Message.Contains("does not exist", StringComparison.OrdinalIgnoreCase))
        {
            return false; // already removed by an earlier run
        }
    }

    private RedisEndpoint Endpoint(RotatableCredential c)
    {
        var e = c.ToRedis(options);
        return strategy == RotationStrategy.RedisRequirePass ? e with { User = null } : e;
    }

    private async Task<bool> CanLogInAsync(RotatableCredential credential, CancellationToken ct)
    {
        try
        {
            await using var _ = await RedisConnection.ConnectAsync(Endpoint(credential), ct).ConfigureAwait(false);
            return true;
        }
        catch (RedisServerException e) when (e.Kind is "WRONGPASS" or "NOAUTH" or "ERR")
        {
            return false;
        }
    }

    private async Task<RedisConnection> OpenFirstAsync(IEnumerable<RotatableCredential?> candidates, CancellationToken ct)
    {
        RedisServerException? last = null;
        foreach (var candidate in candidates)
        {
            if (candidate is null) continue;
            try
            {
                return await RedisConnection.ConnectAsync(candidate == admin ? candidate.ToRedis(options) : Endpoint(candidate), ct).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Kind is "WRONGPASS" or "NOAUTH")
            {
                last = e;
            }
        }
        throw new InvalidOperationException("no stored password logs in to Redis (admin, current, previous), so the new one cannot be added", last);
    }

    internal static string Hash(string password) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(password))).ToLowerInvariant();
}
