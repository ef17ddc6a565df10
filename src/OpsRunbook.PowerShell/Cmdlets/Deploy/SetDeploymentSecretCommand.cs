using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Sets a secret on the deployment platform — Fly secrets, Railway variables, a Kubernetes Secret, Compose's .env — and redeploys so instances read it; takes Invoke-SecretRotation's results to push a rotated value in one pipeline.
/// </summary>
/// <remarks>
/// With -Name and -Value (a SecureString) it sets that value. Piped SecretRotationResults (Status Rotated) are pushed as
/// the variable named by the secret's "platformVariable" in runbook.json (or -Name): the value is read from Secrets
/// Manager inside the module and never appears in the pipeline. Values travel only in HTTPS bodies (Fly's Machines API
/// secrets, Railway variableCollectionUpsert), kubectl's stdin (the Secret named by "deploy"."secret", default the
/// Deployment's name, replaced as a whole object) or a mode-600 .env file beside the compose file — never a command
/// line. Then, unless -NoRedeploy: each Fly machine is updated in turn with the new secrets version as its floor (it
/// cannot boot with the old value), Railway redeploys once, Kubernetes does a rollout restart, Compose recreates the
/// service. -WhatIf names the variables and changes nothing.
/// </remarks>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database -Force | Set-DeploymentSecret -Force</code>
/// <para>Rotates the database password and pushes the new DATABASE_URL to the platform (runbook 000: fly secrets set).</para>
/// </example>
/// <example>
/// <code>Set-DeploymentSecret staging -Name JWT_SECRET -Value (New-RandomSecret -Length 64)</code>
/// <para>A new JWT secret for staging, after confirmation.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "DeploymentSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Value")]
[OutputType(typeof(DeploymentActionResult))]
public sealed class SetDeploymentSecretCommand : DeployCmdlet
{
    /// <summary>The variable name on the platform (DATABASE_URL). With piped rotation results, overrides "platformVariable".</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Value")]
    [Parameter(ParameterSetName = "Rotation")]
    [ValidatePattern("^[A-Za-z_][A-Za-z0-9_]*$")]
    public string? Name { get; set; }

    /// <summary>The value, as a SecureString (New-RandomSecret, Read-Host -AsSecureString).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Value")]
    public System.Security.SecureString? Value { get; set; }

    /// <summary>Results of Invoke-SecretRotation to push.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Rotation")]
    public OpsRunbook.Engine.Secrets.Rotation.SecretRotationResult? InputObject { get; set; }

    /// <summary>Set the value without restarting or redeploying (it is read at the next deploy).</summary>
    [Parameter]
    public SwitchParameter NoRedeploy { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Sets the secret.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Rotation")
        {
            var rotation = InputObject!;
            if (rotation.Status != OpsRunbook.Engine.Secrets.Rotation.SecretRotationStatus.Rotated)
            {
                WriteWarning($"{rotation.SecretId} was not rotated ({rotation.Status}); nothing pushed");
                return;
            }
            var env = Env(rotation.Environment ?? Environment);
            var variable = Name ?? env.Secrets.FirstOrDefault(s => s.SecretId == rotation.SecretId)?.PlatformVariable;
            if (variable is null)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"runbook.json names no \"platformVariable\" for {rotation.SecretId} in environment '{env.Name}'; add one or give -Name"),
                    ErrorIds.PlatformVariableMissing, ErrorCategory.InvalidArgument, rotation));
            }
            using var client = OpsRunbook.Engine.Secrets.Rotation.SecretOperations.Client(ContextOf(env));
            Push(env, variable!, provider => DeploymentOperations.PushSecretAsync(provider, env.Name, client, rotation.SecretId, variable!, !NoRedeploy, _ => { }, Cancellation));
            return;
        }
        var target = Env();
        var value = new System.Net.NetworkCredential(string.Empty, Value).Password;
        Secrets.Redactor.Add(value);
        Push(target, Name!, provider => DeploymentOperations.SetSecretsAsync(provider, target.Name, new Dictionary<string, string> { [Name!] = value }, !NoRedeploy, false, _ => { }, Cancellation));
    }

    /// <summary>After ShouldProcess (which -WhatIf stops: nothing is read or sent), runs the push with the environment's provider.</summary>
    private void Push(OpsRunbook.Engine.Environments.EnvironmentConfig env, string variable, Func<IDeploymentProvider, Task<DeploymentActionResult>> work)
    {
        var what = $"Set {variable}{(NoRedeploy ? "" : " and redeploy so instances read it")}";
        if (!ShouldAct($"{env.Name} ({env.Deploy?.Provider})", what, Force)) return;
        var provider = Provider(env);
        try
        {
            WriteObject(Run(() => work(provider), env.Name));
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
