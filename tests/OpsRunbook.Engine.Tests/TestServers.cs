using System.Diagnostics;

[assembly: AssemblyFixture(typeof(OpsRunbook.Engine.Tests.TestServers))]

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// The real servers of tests/servers.sh, started once for the test run and stopped after it. With
/// OPSRUNBOOK_SERVERS_ENV set, an already running set is used (and left running). With
/// OPSRUNBOOK_REQUIRE_SERVERS=1 (CI) a server that cannot start fails the tests that need it; otherwise they skip,
/// saying why.
/// </summary>
public sealed class TestServers : IDisposable
{
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private readonly string? _startedDir;
    private readonly string? _unavailable;

    public TestServers()
    {
        // Tests talk to 127.0.0.1 only: the AWS SDK's credential and region chains must never fall through to the
        // EC2 instance metadata endpoint.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        try
        {
            var envFile = Environment.GetEnvironmentVariable("OPSRUNBOOK_SERVERS_ENV");
            if (string.IsNullOrEmpty(envFile))
            {
                var script = Path.Combine(RepoRoot, "tests", "servers.sh");
                var (code, stdout, stderr) = Run("bash", script, "start");
                if (code != 0)
                {
                    _unavailable = $"tests/servers.sh start failed (exit {code}): {stderr.Trim()}";
                    return;
                }
                envFile = stdout.Trim().Split('\n')[^1].Trim();
                _startedDir = Path.GetDirectoryName(envFile);
            }
            foreach (var line in File.ReadAllLines(envFile))
            {
                // export NAME='value'
                var text = line.StartsWith("export ", StringComparison.Ordinal) ? line[7..] : line;
                var eq = text.IndexOf('=');
                if (eq > 0) _settings[text[..eq]] = text[(eq + 1)..].Trim('\'');
            }
        }
        catch (Exception ex)
        {
            _unavailable = "test servers could not be started: " + ex.Message;
        }
    }

    public static bool Required => Environment.GetEnvironmentVariable("OPSRUNBOOK_REQUIRE_SERVERS") == "1";

    /// <summary>Skips (or, in CI, fails) the calling test when the servers are not running.</summary>
    public void Require()
    {
        if (_unavailable is null) return;
        if (Required) Assert.Fail(_unavailable + " (OPSRUNBOOK_REQUIRE_SERVERS=1)");
        Assert.Skip(_unavailable);
    }

    /// <summary>A setting from servers.env, e.g. OPSRUNBOOK_PG_PORT.</summary>
    public string this[string name]
    {
        get
        {
            Require();
            return _settings.TryGetValue(name, out var v) ? v : throw new KeyNotFoundException($"servers.env has no {name}");
        }
    }

    public IReadOnlyDictionary<string, string> Settings
    {
        get
        {
            Require();
            return _settings;
        }
    }

    /// <summary>Lookup for SecretResolver / EnvTemplate: servers.env first, then the process environment.</summary>
    public string? Lookup(string name) => _settings.TryGetValue(name, out var v) ? v : Environment.GetEnvironmentVariable(name);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpsRunbook.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (OpsRunbook.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static (int code, string stdout, string stderr) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public void Dispose()
    {
        if (_startedDir is not null)
        {
            Run("bash", Path.Combine(RepoRoot, "tests", "servers.sh"), "stop", _startedDir);
        }
    }
}
