using System.Security.Cryptography;
using System.Text;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>
/// PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677, as <c>pg_authid.rolpassword</c> keeps it):
/// <c>SCRAM-SHA-256$&lt;iterations&gt;:&lt;salt&gt;$&lt;StoredKey&gt;:&lt;ServerKey&gt;</c>. Computing it here and sending
/// <c>ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'</c> means the clear password never reaches the server, its
/// statement log or pg_stat_statements — the same thing psql's <c>\password</c> does.
/// </summary>
public static class ScramVerifier
{
    /// <summary>PostgreSQL's default (scram_iterations, PG 16+; fixed in 15).</summary>
    public const int DefaultIterations = 4096;

    /// <summary>The verifier of <paramref name="password"/> with a fresh 16-byte random salt.</summary>
    public static string Compute(string password, int iterations = DefaultIterations) =>
        Compute(password, RandomNumberGenerator.GetBytes(16), iterations);

    /// <summary>The verifier with a given salt (for tests against known vectors).</summary>
    public static string Compute(string password, byte[] salt, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (iterations < 1) throw new ArgumentOutOfRangeException(nameof(iterations), "iterations must be at least 1");
        // SASLprep is the identity for printable ASCII, which is all the generator produces. Other text is rejected
        // rather than normalised differently from the server.
        foreach (var c in password)
        {
            if (c is < (char)0x20 or > (char)0x7E)
            {
                throw new ArgumentException("a password for a SCRAM verifier must be printable ASCII (the generator's alphabet); this one is not");
            }
        }
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }
}
