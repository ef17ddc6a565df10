using System.Management.Automation;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>
/// What the PostgreSQL cmdlets share: which server (an environment's database or replica, or -Connection), the
/// statement timeout, one session per server for the whole pipeline, and errors that say what to fix.
/// </summary>
public abstract class DatabaseCmdlet : EnvironmentCmdlet
{
    private readonly Dictionary<string, DatabaseSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>database (the primary, default) or database-replica; binds the Target property of earlier results.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Target { get; set; }

    /// <summary>Use the environment's replica instead of the primary.</summary>
    [Parameter]
    public SwitchParameter Replica { get; set; }

    /// <summary>A connection instead of an environment: a reference (env:DATABASE_URL, secret:aws:ID#key, vault:VAULT/NAME) or a postgres:// URL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Connection { get; set; }

    /// <summary>statement_timeout in seconds for each statement (default 30; maintenance has its own).</summary>
    [Parameter]
    [ValidateRange(0.1, 86400.0)]
    public double StatementTimeoutSec { get; set; } = 30;

    /// <summary>The session for this record's server (one per server for the whole pipeline).</summary>
    protected DatabaseSession Session() =>
        Session(Replica || string.Equals(Target, "database-replica", StringComparison.OrdinalIgnoreCase), Connection);

    /// <summary>The session for the environment's primary or replica, or for <paramref name="connectionText"/> (a reference or URL) when given.</summary>
    protected DatabaseSession Session(bool replica, string? connectionText)
    {
        var key = $"{connectionText}|{Environment}|{replica}";
        if (_sessions.TryGetValue(key, out var existing)) return existing;
        SecretValue connection;
        string? environment = string.IsNullOrEmpty(Environment) ? null : Environment;
        string? target;
        string? ca = null;
        if (connectionText is not null)
        {
            connection = Guard(() => SecretValue.Parse(connectionText));
            target = null;
        }
        else
        {
            if (environment is null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("give -Environment (an environment with \"database\" in runbook.json) or -Connection"),
                    ErrorIds.DatabaseMissing, ErrorCategory.InvalidArgument, null));
            }
            var env = ResolveEnvironment(EnvironmentNeed.Required, environment)!;
            var db = env.Database ?? throw Terminate(new ArgumentException($"environment '{env.Name}' has no \"database\" section in runbook.json"), ErrorIds.DatabaseMissing);
            if (replica && db.Replica is null) throw Terminate(new ArgumentException($"environment '{env.Name}' has no database replica (\"database\".\"replica\")"), ErrorIds.DatabaseMissing);
            connection = replica ? db.Replica! : db.Connection;
            target = replica ? "database-replica" : "database";
            ca = db.CaCertificate;
        }
        SupplyVaultSecret(Secrets, connection);
        var options = new DatabaseSessionOptions { StatementTimeout = TimeSpan.FromSeconds(StatementTimeoutSec), CaCertificatePath = ca };
        var session = Run(() => DatabaseSession.OpenAsync(connection, options, target, ContextOf(null) with { Environment = environment }), "the database");
        _sessions[key] = session;
        return session;
    }

    /// <summary>The thresholds of -Environment's runbook (none with -Connection), for results that grade themselves.</summary>
    protected Engine.Metrics.ThresholdProfile? EnvironmentThresholds() =>
        Connection is null ? ResolveEnvironment(EnvironmentNeed.Optional)?.GetThresholdProfile() : null;

    /// <summary>
    /// Runs Engine work and waits for it on the pipeline thread. Connection, permission and missing-feature problems
    /// become terminating errors with a readable message (never a stack trace, never a secret).
    /// </summary>
    protected T Run<T>(Func<Task<T>> work, string where) => RunEngine(work, where, ErrorIds.DatabaseError, Target ?? Environment);

    /// <summary>Runs work against this record's session; says once what a missing privilege hid from the results.</summary>
    protected T Run<T>(Func<DatabaseSession, CancellationToken, Task<T>> work)
    {
        var session = Session();
        var result = Run(() => work(session, Cancellation), session.Display);
        var rows = result switch
        {
            DatabaseResult one => [one],
            IEnumerable<DatabaseResult> many => many.ToList(),
            _ => [],
        };
        foreach (var group in rows.Where(r => r.MissingPrivilege is not null).GroupBy(r => r.MissingPrivilege))
        {
            WriteWarning(rows.Count == 1 ? group.Key : $"{group.Count()} of {rows.Count} results are incomplete: {group.Key}");
        }
        return result;
    }

    private T Guard<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            throw;
        }
        catch (ArgumentException ex)
        {
            throw Terminate(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument);
        }
    }

    private PipelineStoppedException Terminate(Exception ex, string id, ErrorCategory category = ErrorCategory.InvalidArgument)
    {
        ThrowTerminatingError(new ErrorRecord(ex, id, category, Target ?? Environment));
        return new PipelineStoppedException(); // not reached: ThrowTerminatingError throws
    }

    /// <summary>Closes the sessions.</summary>
    protected override void EndProcessing()
    {
        foreach (var s in _sessions.Values) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sessions.Clear();
    }
}
