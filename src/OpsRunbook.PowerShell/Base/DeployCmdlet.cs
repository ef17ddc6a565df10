using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Environments;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell;

/// <summary>What the deployment cmdlets share: the environment's "deploy" provider and readable errors.</summary>
public abstract class DeployCmdlet : EnvironmentCmdlet
{
    /// <inheritdoc />
    protected override string EnvironmentSection => "deploy";

    /// <summary>The named environment (default -Environment), or a terminating error saying what to fix.</summary>
    protected EnvironmentConfig Env(string? name = null) => ResolveEnvironment(EnvironmentNeed.Required, name)!;

    /// <inheritdoc />
    protected override void Prepare(EnvironmentConfig env)
    {
        base.Prepare(env);
        SupplyVaultSecret(Secrets, env.Deploy?.Token);
    }

    /// <summary>The environment's provider.</summary>
    protected IDeploymentProvider Provider(EnvironmentConfig env)
    {
        var configPath = LoadConfig().Path; // on the pipeline thread
        return Run(() => DeploymentOperations.ProviderAsync(env, ContextOf(env), configPath), env.Name);
    }

    /// <summary>Restart, Stop or Start after ShouldProcess: -WhatIf only counts the instances; progress while it works.</summary>
    protected void Act(string action, bool rolling, bool force, string what)
    {
        var env = Env();
        var provider = Provider(env);
        try
        {
            var plan = Run(() => DeploymentOperations.ActAsync(provider, env.Name, action, rolling, true, _ => { }, Cancellation), env.Name);
            if (!ShouldAct($"{env.Name} ({provider.Name}, {plan.Instances} instance(s))", what, force)) return;
            var result = RunReporting(step => DeploymentOperations.ActAsync(provider, env.Name, action, rolling, false, step, Cancellation), $"{action} {env.Name}", env.Name);
            WriteObject(result);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }

    /// <summary>Runs Engine work that reports steps from other threads: each step a -Verbose line and the progress bar's status.</summary>
    protected T RunReporting<T>(Func<Action<string>, Task<T>> work, string activity, string where) =>
        RunObserved(progress => work(step => progress.Report(new OperationStatus(step, step))), activity, task => Run(() => task, where), activityId: 9);

    /// <summary>Runs Engine work; provider refusals, missing releases and health timeouts become terminating errors with the reason.</summary>
    protected T Run<T>(Func<Task<T>> work, string where) => RunEngine(work, where, ErrorIds.DeploymentError, where);
}
