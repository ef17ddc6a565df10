using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.Engine.Tests;

public class PostgresConnectionStringTests
{
    [Fact]
    public void Reads_libpq_urls()
    {
        var b = PostgresConnectionString.Parse("postgresql://app:p%40ss%3Aword@db.internal:6543/sales?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=7&application_name=ops");
        Assert.Equal(("db.internal", 6543, "app", "p@ss:word", "sales"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal(SslMode.VerifyFull, b.SslMode);
        Assert.Equal("/etc/ca.pem", b.RootCertificate);
        Assert.Equal(7, b.Timeout);
        Assert.Equal("ops", b.ApplicationName);
    }

    [Fact]
    public void Reads_multi_host_and_ipv6_urls()
    {
        var b = PostgresConnectionString.Parse("postgres://u@[::1]:5433,replica:5434/db?target_session_attrs=read-write");
        Assert.Equal("::1,replica:5434", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("read-write", b.TargetSessionAttributes);
    }

    [Fact]
    public void Reads_key_value_strings()
    {
        var b = PostgresConnectionString.Parse("Host=h;Port=1;Username=u;Password=p;Database=d;SSL Mode=Require");
        Assert.Equal(("h", 1, "u", "p", "d", SslMode.Require), (b.Host, b.Port, b.Username, b.Password, b.Database, b.SslMode));
    }

    [Theory]
    [InlineData("postgres://u:secretpw@h:99999/d", "port")]
    [InlineData("postgres://u:secretpw@h/d?sslmode=maybe", "sslmode 'maybe'")]
    [InlineData("postgres://u:secretpw@h/d?bogus=1", "'bogus' is not supported")]
    [InlineData("postgres://u:secretpw@/d", "names no host")]
    public void Bad_urls_say_what_is_wrong_without_the_password(string url, string hint)
    {
        var ex = Assert.Throws<ArgumentException>(() => PostgresConnectionString.Parse(url));
        Assert.Contains(hint, ex.Message);
        Assert.DoesNotContain("secretpw", ex.Message);
    }
}
