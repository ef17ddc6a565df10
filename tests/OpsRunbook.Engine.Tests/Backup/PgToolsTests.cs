using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Postgres;

namespace OpsRunbook.Engine.Tests;

public class PgToolsTests
{
    [Fact]
    public void Finds_a_pg_dump_at_least_as_new_as_the_server()
    {
        var tool = PgTools.Find("pg_dump", 15);
        Assert.True(tool.Major >= 15);
        Assert.True(File.Exists(tool.Path));
        Assert.StartsWith("pg_dump (PostgreSQL)", tool.VersionText);
    }

    [Fact]
    public void A_server_newer_than_every_pg_dump_fails_before_starting_and_says_what_to_install()
    {
        var ex = Assert.Throws<PgToolMissingException>(() => PgTools.Find("pg_dump", 99));
        Assert.Contains("pg_dump 99 or newer is needed", ex.Message);
        Assert.Contains("found only", ex.Message);
        Assert.Contains("postgresql-client-99", ex.Message);
    }

    [Fact]
    public void Backup_locations_round_trip_keys()
    {
        var s3 = new BackupLocation("s3://bucket/some/prefix");
        Assert.Equal(("bucket", "some/prefix/"), (s3.Bucket, s3.Prefix));
        Assert.Equal("s3://bucket/some/prefix/a/b.dump", s3.UriOf("a/b.dump"));
        Assert.Equal("a/b.dump", s3.KeyOf("s3://bucket/some/prefix/a/b.dump"));
        Assert.Throws<ArgumentException>(() => s3.KeyOf("s3://other/x"));
        var (location, key) = BackupLocation.Split("s3://bucket/x/y.dump");
        Assert.Equal(("s3://bucket/x/", "y.dump"), (location.Root, key));
        var local = new BackupLocation("/tmp/backups");
        Assert.Equal("p/q.dump", local.KeyOf(local.UriOf("p/q.dump")));
    }
}
