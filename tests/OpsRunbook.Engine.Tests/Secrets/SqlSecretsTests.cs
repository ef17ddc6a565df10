using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>Secrets in SQL text the module shows: what pg_stat_statements and pg_stat_activity keep verbatim.</summary>
public class SqlSecretsTests
{
    [Theory]
    [InlineData("CREATE ROLE app LOGIN PASSWORD 'S3cr3t''x'", "CREATE ROLE app LOGIN PASSWORD '***'")]
    [InlineData("alter role app with encrypted password E'a\\'b'", "alter role app with encrypted password '***'")]
    [InlineData("ALTER ROLE app WITH PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk/+=:c2VydmVy+/='", "ALTER ROLE app WITH PASSWORD '***'")]
    [InlineData("SELECT 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy' AS v", "SELECT 'SCRAM-SHA-256$***' AS v")]
    [InlineData("SELECT rolname FROM pg_authid WHERE rolpassword = 'md50123456789abcdef0123456789abcdef'", "SELECT rolname FROM pg_authid WHERE rolpassword = 'md5***'")]
    [InlineData("SELECT dblink_connect('host=db user=u password=hunter2 dbname=d')", "SELECT dblink_connect('host=db user=u password=*** dbname=d')")]
    [InlineData("CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'hunter2')", "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '***')")]
    [InlineData("SELECT 'postgres://app:hunter2@db:5432/app'", "SELECT 'postgres://app:***@db:5432/app'")]
    public void Masks_password_literals_verifiers_and_connection_secrets(string sql, string shown) => Assert.Equal(shown, SqlSecrets.Scrub(sql));

    [Theory]
    [InlineData("SELECT id FROM users WHERE password_hash = $1")]
    [InlineData("UPDATE users SET password = $1 WHERE id = $2")]
    [InlineData("SELECT pg_sleep(20)")]
    public void Leaves_ordinary_queries_alone(string sql) => Assert.Equal(sql, SqlSecrets.Scrub(sql));
}
