using System.Management.Automation;
using System.Management.Automation.Host;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.PowerShell;

/// <summary>
/// Whether this pwsh process runs a script to its end (pwsh -File, pwsh -Command, GitHub's `shell: pwsh` and Azure's
/// `pwsh:` steps, a CronJob's command) or is a session at a prompt, and how a gate ends such a script with the exit
/// contract's code (<see cref="RunExitCode"/>). A script process ends with the code of an `exit` statement; a failed
/// gate there ends the script as `exit 2` would (finally blocks run), because a terminating error would end it with
/// 1, the code for "the tool failed", under the $ErrorActionPreference = 'Stop' the runners set. At a prompt nothing
/// exits: the gate stops the pipeline with an error, and $LASTEXITCODE holds the code.
/// </summary>
internal static class ScriptRun
{
    private static readonly Lazy<bool> ScriptCommandLine = new(() => IsScriptCommandLine(System.Environment.GetCommandLineArgs().Skip(1).ToList()));

    /// <summary>True in the console host of a process started to run a script or command and exit.</summary>
    public static bool IsScript(PSHost host) => host.Name == "ConsoleHost" && ScriptCommandLine.Value;

    /// <summary>
    /// Reads pwsh's arguments as its ConsoleHost does (CommandLineParameterParser: a switch matches by any prefix at
    /// least as long as its shortest form, '-' or '--'): true when a file or command runs and the process then exits —
    /// not with -NoExit, not when commands come from stdin ("-File -", "-Command -"), not in the server modes jobs and
    /// remoting use.
    /// </summary>
    internal static bool IsScriptCommandLine(IReadOnlyList<string> args)
    {
        var noExit = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.Length < 2 || arg[0] is not ('-' or '/'))
            {
                return !noExit; // the first word that is no switch is the script to run
            }
            var key = arg[1..];
            if (key.Length > 0 && key[0] == '-') key = key[1..];
            bool Is(string name, string shortest) => key.Length >= shortest.Length && name.StartsWith(key, StringComparison.OrdinalIgnoreCase);
            if (Is("version", "v") || Is("help", "h") || key == "?") return false;
            if (Is("noexit", "noe")) noExit = true;
            else if (Is("socketservermode", "so") || Is("servermode", "s") || Is("namedpipeservermode", "nam") || Is("sshservermode", "sshs")) return false;
            else if (Is("login", "l") || Is("noprofile", "nop") || Is("nologo", "nol") || Is("noninteractive", "noni") || Is("interactive", "i")
                || Is("sta", "sta") || Is("mta", "mta")) { }
            else if (Is("configurationname", "config") || Is("custompipename", "cus") || Is("windowstyle", "w") || Is("outputformat", "o") || Is("of", "o")
                || Is("inputformat", "inp") || Is("if", "if") || Is("executionpolicy", "ex") || Is("ep", "ep") || Is("encodedarguments", "encodeda")
                || Is("ea", "ea") || Is("settingsfile", "settings") || Is("workingdirectory", "wo") || Is("wd", "wd"))
            {
                i++; // the switch's value
            }
            else if (Is("commandwithargs", "commandwithargs") || Is("cwa", "cwa") || Is("command", "c") || Is("file", "f") || Is("encodedcommand", "e") || Is("ec", "e"))
            {
                return !noExit && i + 1 < args.Count && args[i + 1] != "-";
            }
            else
            {
                return !noExit; // an unknown switch starts the file, as in pwsh
            }
        }
        return false;
    }

    /// <summary>Sets $global:LASTEXITCODE, as a native command would: what the runners' step wrappers end with.</summary>
    public static void SetLastExitCode(PSCmdlet cmdlet, RunExitCode code) => cmdlet.SessionState.PSVariable.Set("global:LASTEXITCODE", (int)code);

    /// <summary>
    /// Ends the running script with <paramref name="code"/>, as `exit` does (the rest of the script does not run; finally
    /// blocks do), and tells the host the process's code: pwsh -Command turns a script's `exit 2` into 1 unless the
    /// command line ends with `exit $LASTEXITCODE` (as the runners' wrappers do); the host's exit code it keeps.
    /// </summary>
    public static void End(PSCmdlet cmdlet, RunExitCode code)
    {
        SetLastExitCode(cmdlet, code);
        cmdlet.Host.SetShouldExit((int)code);
        cmdlet.SessionState.InvokeCommand.InvokeScript($"exit {(int)code}");
    }
}
