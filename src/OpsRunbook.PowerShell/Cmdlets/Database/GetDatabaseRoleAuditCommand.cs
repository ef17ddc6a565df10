using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// The monthly security audit: every role's privileges and password expiry, privileged memberships, and what PUBLIC may do in schema public.
/// </summary>
/// <remarks>
/// Get-DatabaseRoleAudit is the security audit of runbooks 001 and 003 (`SELECT usename, valuntil FROM pg_user` and
/// more): one DatabaseRoleAudit per role (built-in pg_ roles left out) with login, superuser, CREATEROLE, CREATEDB,
/// REPLICATION and BYPASSRLS, password expiry (None, Valid, Expired), memberships in privileged roles
/// (pg_read_all_data, pg_write_all_data, pg_signal_backend, ...) and findings in words; then one
/// DatabasePublicSchemaAudit saying whether PUBLIC may create objects in schema public. Read-only; works without
/// superuser rights (pg_roles masks passwords).
/// </remarks>
/// <example>
/// <code>Get-DatabaseRoleAudit production | Where-Object { $_.Findings.Count -gt 0 } | Format-List Role, Findings</code>
/// <para>The roles with something to look at.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseRoleAudit production | Export-RunbookReport -Format Markdown -Path ./audit.md</code>
/// <para>The audit as a report for the monthly review.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseRoleAudit")]
[OutputType(typeof(DatabaseRoleAudit))]
[OutputType(typeof(DatabasePublicSchemaAudit))]
public sealed class GetDatabaseRoleAuditCommand : DatabaseCmdlet
{
    /// <summary>Writes the roles, then the public-schema audit.</summary>
    protected override void ProcessRecord()
    {
        var (roles, publicSchema) = Run((s, ct) => DatabaseDiagnostics.GetRoleAuditAsync(s, DateTimeOffset.UtcNow, ct));
        WriteObject(roles, true);
        WriteObject(publicSchema);
    }
}
