using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>What every OpsRunbook cmdlet shares: finding runbook.json, turning configuration problems into clear errors, and resolving vault: secrets through SecretManagement.</summary>
public abstract class OpsRunbookCmdlet : PSCmdlet
{
    private readonly Dictionary<string, RunbookConfig> _configs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The secrets this invocation resolved (vault values supplied on the pipeline thread); scrubs every message.</summary>
    protected SecretResolver Secrets { get; } = NewResolver();

    /// <summary>
    /// The session's resolver. Under GitHub Actions every value it learns is also sent to the runner as ::add-mask::
    /// (what actions/toolkit's core.setSecret does), so the runner masks it in everything the job prints, other tools'
    /// output included; the command line itself is not shown in the log.
    /// </summary>
    private static SecretResolver NewResolver()
    {
        var resolver = new SecretResolver();
        if (CiIntegration.Detect(System.Environment.GetEnvironmentVariable) == CiSystem.GitHubActions)
        {
            resolver.Redactor.Added += value => Console.Out.WriteLine("::add-mask::" + CiIntegration.GitHubData(value));
        }
        return resolver;
    }

    /// <summary>Cancelled by Ctrl+C.</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    /// <summary>Ctrl+C cancels the Engine work in progress.</summary>
    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>
    /// Runs Engine work and waits for it on the pipeline thread. Server, connection, permission and secret failures
    /// become terminating errors with a readable message (never a stack trace, never a secret); bad arguments too.
    /// </summary>
    protected T RunEngine<T>(Func<Task<T>> work, string where, string errorId, object? target = null)
    {
        try
        {
            return Task.Run(work, Cancellation).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ErrorTable.For(ex, where, errorId, target, Secrets.Redactor) is { } error)
        {
            ThrowTerminatingError(error);
            throw;
        }
    }

    /// <summary>
    /// Runs long Engine work that says what it is doing (<see cref="OperationStatus"/>, from other threads) and writes it
    /// from the pipeline thread while it waits: a -Verbose line per phase, -Debug lines for details, and one progress
    /// bar (<paramref name="activity"/>) with the phase, the status and the percentage where the total is known.
    /// <paramref name="finish"/> turns the finished task into the result (and its failures into errors).
    /// </summary>
    protected T RunObserved<T>(Func<IProgress<OperationStatus>, Task<T>> work, string activity, Func<Task<T>, T> finish, int activityId = 1)
    {
        var statuses = new StatusQueue();
        var task = Task.Run(() => work(statuses));
        string? phase = null;
        void Drain()
        {
            // The bar gets the newest state of each phase seen since the last look (a thousand objects copied make one
            // update), and every phase at least once, however quickly it passed.
            var latest = new List<OperationStatus>();
            while (statuses.TryDequeue(out var s))
            {
                if (s.IsDebug)
                {
                    WriteDebug($"{s.Phase}: {s.Status}");
                    continue;
                }
                if (s.Phase != phase) WriteVerbose(s.Status == s.Phase ? s.Phase : $"{s.Phase}: {s.Status}");
                phase = s.Phase;
                if (latest.Count > 0 && latest[^1].Phase == s.Phase) latest[^1] = s;
                else latest.Add(s);
            }
            foreach (var s in latest) WriteProgress(new ProgressRecord(activityId, activity, s.Status) { CurrentOperation = s.Phase, PercentComplete = s.Percent ?? -1 });
        }
        while (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(200)) Drain();
        Drain();
        try
        {
            return finish(task);
        }
        finally
        {
            WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    private sealed class StatusQueue : System.Collections.Concurrent.ConcurrentQueue<OperationStatus>, IProgress<OperationStatus>
    {
        public void Report(OperationStatus value) => Enqueue(value);
    }

    /// <summary>
    /// The runbook.json to use. Without it, $env:OPSRUNBOOK_CONFIG, then runbook.json in the current directory.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ConfigPath { get; set; }

    /// <summary>
    /// Loads (once per file) the configuration at <paramref name="configPath"/> (default -ConfigPath), or stops with a
    /// terminating error that says what to fix.
    /// </summary>
    protected RunbookConfig LoadConfig(string? configPath = null)
    {
        try
        {
            var path = RunbookConfigLoader.Locate(configPath ?? ConfigPath, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
            if (!_configs.TryGetValue(path, out var config))
            {
                config = RunbookConfigLoader.Load(path);
                _configs[path] = config;
                WriteVerbose($"Configuration: {path} (system {config.System}, environments {string.Join(", ", config.Environments.Select(e => e.Name))})");
            }
            return config;
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            throw; // not reached
        }
    }

    /// <summary>
    /// ShouldProcess with -Force: -WhatIf (or $WhatIfPreference) still only reports and acts on nothing; -Force without
    /// -Confirm skips the confirmation prompt, for automation; otherwise the usual confirmation rules apply.
    /// </summary>
    protected bool ShouldAct(string target, string action, bool force)
    {
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) ? w is SwitchParameter sw && sw.IsPresent
            : SessionState.PSVariable.GetValue("WhatIfPreference") is { } pref && LanguagePrimitives.IsTrue(pref);
        if (force && !whatIf && !MyInvocation.BoundParameters.ContainsKey("Confirm")) return true;
        return ShouldProcess(target, action);
    }

    /// <summary>An ErrorRecord for a configuration problem.</summary>
    protected static ErrorRecord ConfigError(RunbookConfigException ex) => ErrorTable.Config(ex);

    /// <summary>
    /// Resolves <c>vault:</c> references on the pipeline thread (SecretManagement cannot be called from worker threads)
    /// and supplies the values to <paramref name="resolver"/>. A missing module or secret is a terminating error.
    /// </summary>
    protected void SupplyVaultSecret(SecretResolver resolver, SecretValue? value)
    {
        if (value?.Reference is not { Scheme: SecretScheme.Vault } reference || resolver.HasSupplied(reference)) return;
        if (InvokeCommand.GetCommand("Microsoft.PowerShell.SecretManagement\\Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function) is null
            && InvokeCommand.GetCommand("Get-Secret", CommandTypes.Cmdlet | CommandTypes.Function) is null)
        {
            ThrowTerminatingError(new ErrorRecord(
                new InvalidOperationException($"{reference.Text} needs the Microsoft.PowerShell.SecretManagement module: Install-Module Microsoft.PowerShell.SecretManagement, then register the vault '{reference.Vault}'."),
                ErrorIds.SecretManagementMissing, ErrorCategory.NotInstalled, reference.Text));
        }
        try
        {
            var output = InvokeCommand.InvokeScript(
                "param($vault, $name) Microsoft.PowerShell.SecretManagement\\Get-Secret -Vault $vault -Name $name -AsPlainText -ErrorAction Stop",
                false, System.Management.Automation.Runspaces.PipelineResultTypes.None, null, reference.Vault, reference.Id);
            var secret = output.Count == 1 ? output[0]?.BaseObject?.ToString() : null;
            if (string.IsNullOrEmpty(secret))
            {
                throw new InvalidOperationException("the vault returned no text value");
            }
            resolver.Supply(reference, secret);
        }
        catch (Exception ex) when (ex is RuntimeException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(
                new SecretResolutionException($"{reference.Text}: SecretManagement could not read the secret: {resolver.Redactor.Scrub(ex.Message)}", ex),
                ErrorIds.SecretNotFound, ErrorCategory.ObjectNotFound, reference.Text));
        }
    }
}
