using System.Diagnostics;

namespace OpsRunbook.Engine.Internal;

/// <summary>
/// The environment a helper program (pg_dump, pg_restore, psql, zstd) starts with: only what a program needs to run —
/// where programs and libraries are, the locale, the home and temporary folders — and never the rest of the session's
/// environment, which holds database URLs, API tokens and cloud keys (env: references). Whatever the program needs
/// besides (PGHOST, PGPASSFILE ...) its caller sets explicitly after this.
/// </summary>
internal static class ChildEnvironment
{
    private static readonly HashSet<string> Kept = new(StringComparer.OrdinalIgnoreCase)
    {
        "PATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE",
        "LC_MESSAGES", "LC_COLLATE", "LC_NUMERIC", "LC_TIME", "TZ", "TMPDIR", "TEMP", "TMP",
        // Windows: what a process needs to start at all
        "SystemRoot", "SystemDrive", "windir", "ComSpec", "PATHEXT", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "ProgramData",
        "ProgramFiles", "ProgramFiles(x86)", "CommonProgramFiles", "HOMEDRIVE", "HOMEPATH", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
    };

    /// <summary>Removes every inherited variable but the kept ones from <paramref name="psi"/>.</summary>
    public static ProcessStartInfo Restrict(ProcessStartInfo psi)
    {
        foreach (var name in psi.Environment.Keys.Where(k => !Kept.Contains(k)).ToList()) psi.Environment.Remove(name);
        return psi;
    }
}
