using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>What backup tests share: a database of their own (pg_dump locks every table), a temp folder, s3rver settings.</summary>
public abstract class BackupTestBase(TestServers servers) : IAsyncLifetime
{
    protected readonly Db _db = new(servers);
    protected readonly string _local = Directory.CreateTempSubdirectory("opsrunbook-backups").FullName;
    protected string _database = "";
    protected TestServers Servers { get; } = servers;
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _database = await _db.CreateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        await _db.DropDatabaseAsync(_database);
        Directory.Delete(_local, true);
        GC.SuppressFinalize(this);
    }

    /// <summary>s3rver, or another S3 endpoint.</summary>
    protected AwsSettings S3(string? endpoint = null, TimeSpan? requestTimeout = null) => new()
    {
        RequestTimeout = requestTimeout,
        Region = "us-east-1",
        AccessKeyId = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
        SecretAccessKey = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
        S3Endpoint = endpoint ?? Servers["OPSRUNBOOK_S3_ENDPOINT"],
    };

    /// <summary>The context of an operation in environment <paramref name="environment"/> (default "test") with these AWS settings.</summary>
    protected OperationContext Context(AwsSettings? aws = null, string? environment = "test", IProgress<OperationStatus>? progress = null, CancellationToken? ct = null) =>
        new(_db.Resolver, _db.Resolver.Redactor) { Aws = aws, Environment = environment, Progress = progress, Cancellation = ct ?? Ct };

    /// <summary>The test database's connection.</summary>
    protected SecretValue Conn => SecretValue.Parse(_db.Url(_database));
}
