using System.Diagnostics;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>A /bin/sh script as a child process with stdin and stdout as pipes: a stand-in for pg_dump, pg_restore or zstd.</summary>
internal static class Shell
{
    public static Process Start(string script)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        return Process.Start(psi)!;
    }
}
