using System.Management.Automation;
using OpsRunbook.PowerShell.Completers;
using System.Security;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Rotates database, Redis and application secrets in AWS Secrets Manager without locking anyone out: create, set, test, finish — each step idempotent and resumable.
/// </summary>
/// <remarks>
/// Invoke-SecretRotation follows AWS's own rotation contract. Create stores a new value (CSPRNG, 32 characters from the
/// URL-safe alphabet by default) as the AWSPENDING version; Set makes the database or cache accept it; Test logs in with
/// it; Finish moves AWSCURRENT to it (AWSPREVIOUS follows); Cleanup retires the old credential where two were valid,
/// then drops AWSPENDING. AWSCURRENT moves only after the server has accepted the new password.
///
/// Strategies (runbook.json "secrets".NAME."strategy", or -Strategy): PostgresSingleUser sends ALTER ROLE with a
/// SCRAM-SHA-256 verifier computed here, so the password never reaches the server, its log or pg_stat_statements;
/// PostgresAlternatingUsers switches between user and user_clone (created IN ROLE user by the admin secret), so the
/// login running instances hold keeps working; RedisAcl adds the new password beside the old one (sent as a SHA-256
/// hash) and removes the old one after finish; RedisRequirePass does the same for the default user and then sets
/// requirepass; Generic only generates and stores (JWT secrets, API keys). Redis changes are saved with ACL SAVE or
/// CONFIG REWRITE so a restart keeps them.
///
/// A failure before Finish is undone (single user: the old verifier is put back), so AWSCURRENT keeps logging in; the
/// result says Failed, names the step and whether AWSCURRENT was seen to log in. A rerun resumes from the AWSPENDING
/// version. A Finish whose outcome is unknown (stopped, timed out, a 5xx) is never undone, since the request may still
/// land: the stages are read back and the move is completed; if Secrets Manager cannot be reached, the result says so
/// and a rerun completes it. A rerun after a moved secret logs in with AWSCURRENT against the server and repairs it
/// from AWSPREVIOUS when the server refuses it. With a single PostgreSQL user there is an unavoidable window between Set and Finish where only the new
/// password works; if the process is killed inside it, rerun the rotation (or use PostgresAlternatingUsers).
/// -WhatIf reads the secret and prints the plan; it changes nothing anywhere. Results carry version ids, never values.
/// </remarks>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database</code>
/// <para>Rotates the database password configured as "database" under production's "secrets", after confirmation.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database -WhatIf</code>
/// <para>Shows the steps that would run (and the version ids), making no change.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Due -Force | Invoke-HealthCheck</code>
/// <para>The monthly job: rotates every secret whose policy says it is due, then checks the environment.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Force | Export-RunbookReport -Path breach-rotation.html</code>
/// <para>Breach response: rotates every configured secret now and reports.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "SecretRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Configured")]
[OutputType(typeof(SecretRotationResult))]
public sealed class InvokeSecretRotationCommand : SecretCmdlet
{
    /// <summary>Names under the environment's "secrets" (wildcards allowed); all of them when omitted.</summary>
    [Parameter(ParameterSetName = "Configured")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SecretNameCompleter))]
    public string[]? Secret { get; set; }

    /// <summary>A Secrets Manager secret (name or ARN). Its runbook.json settings apply when the environment configures it; binds the SecretId of Get-SecretRotationStatus results.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "ById", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SecretId { get; set; }

    /// <summary>Overrides the strategy (Auto picks from the secret's value).</summary>
    [Parameter]
    public RotationStrategy Strategy { get; set; } = RotationStrategy.Auto;

    /// <summary>With -SecretId: the admin secret for PostgresAlternatingUsers (or a Redis admin).</summary>
    [Parameter(ParameterSetName = "ById")]
    [ValidateNotNullOrEmpty]
    public string? AdminSecretId { get; set; }

    /// <summary>Length of the new value (16-4096; default 32 or the configured length).</summary>
    [Parameter]
    [ValidateRange(16, 4096)]
    public int? Length { get; set; }

    /// <summary>Characters the new value must not contain.</summary>
    [Parameter]
    public string? ExcludeCharacters { get; set; }

    /// <summary>Only secrets whose policy says they are overdue or due within -DueWithin.</summary>
    [Parameter(ParameterSetName = "Configured")]
    public SwitchParameter Due { get; set; }

    /// <summary>With -Due: how soon counts as due (default 7 days).</summary>
    [Parameter(ParameterSetName = "Configured")]
    [DurationTransformation]
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Resume or pin a specific rotation (32-64 characters). By default the AWSPENDING version is resumed.</summary>
    [Parameter]
    [ValidateLength(32, 64)]
    public string? ClientRequestToken { get; set; }

    /// <summary>Skips the confirmation (for scheduled jobs). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Rotates each selected secret.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        List<ManagedSecretConfig> targets;
        if (ParameterSetName == "ById")
        {
            var known = env?.Secrets.FirstOrDefault(s => string.Equals(s.SecretId, SecretId, StringComparison.Ordinal));
            targets = [known is null
                ? new ManagedSecretConfig { Name = SecretId!, SecretId = SecretId!, Strategy = Strategy, AdminSecretId = AdminSecretId }
                : AdminSecretId is null ? known : known with { AdminSecretId = AdminSecretId }];
        }
        else
        {
            if (env is null)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Environment (with \"secrets\" in runbook.json) or -SecretId"), "OpsRunbook.SecretNotConfigured", ErrorCategory.InvalidArgument, null));
                return;
            }
            targets = Configured(env, Secret).ToList();
        }
        using var client = Client(env);
        var rotator = new SecretRotator(client, Secrets.Redactor);
        if (Due)
        {
            var status = Run(() => SecretOperations.StatusAsync(client, env, targets, null, DateTimeOffset.UtcNow, DueWithin, Cancellation), "Secrets Manager");
            var due = status.Where(s => s.State is SecretRotationState.Overdue or SecretRotationState.DueSoon or SecretRotationState.Interrupted).Select(s => s.SecretId).ToHashSet();
            foreach (var s in status.Where(s => !due.Contains(s.SecretId))) WriteVerbose($"{s.SecretId}: not due ({s.State}, next {s.NextDue:u})");
            targets = targets.Where(t => due.Contains(t.SecretId)).ToList();
        }
        foreach (var target in targets)
        {
            var request = SecretOperations.Request(env, target, Strategy, Length, ExcludeCharacters, ClientRequestToken);
            var plan = Run(() => rotator.RotateAsync(request with { WhatIf = true }, Cancellation), target.SecretId);
            var what = $"Rotate ({plan.Strategy}): " + string.Join("; ", plan.Steps.Select(s => $"{s.Step}: {s.Detail}"));
            if (!ShouldAct($"{target.SecretId}{(env is null ? "" : $" ({env.Name})")}", what, Force)) continue;
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            rotator.Progress = messages.Enqueue;
            // The version the plan named (and the user confirmed) is the one created or resumed.
            var result = Run(() => rotator.RotateAsync(request with { ClientRequestToken = plan.NewVersionId }, Cancellation), target.SecretId);
            while (messages.TryDequeue(out var m)) WriteVerbose(m);
            foreach (var step in result.Steps) WriteVerbose($"{result.SecretId}: {step.Step} {step.Outcome} in {step.Duration.TotalMilliseconds:0} ms{(step.Detail is null ? "" : " — " + step.Detail)}");
            if (result.Status == SecretRotationStatus.Failed)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"rotation of {result.SecretId} failed: {result.Error}"), "OpsRunbook.RotationFailed", ErrorCategory.InvalidResult, result));
            }
            else if (result.Error is not null)
            {
                WriteWarning($"{result.SecretId} rotated, but: {result.Error}");
            }
            WriteObject(result);
        }
    }
}

/// <summary>
/// Shows each secret's last rotation, age and policy, and whether it is overdue or a rotation was left unfinished.
/// </summary>
/// <remarks>
/// The policy comes from runbook.json ("secrets".NAME."rotationDays"), else a tag on the secret
/// (opsrunbook:rotation-days, rotation-days or RotationDays), else Secrets Manager's rotation rules, else runbook 000's
/// defaults: 30 days for database and Redis passwords, 90 for JWT secrets and API keys. A secret with an AWSPENDING
/// version that is not AWSCURRENT is Interrupted: rerun Invoke-SecretRotation. A secret that cannot be read is
/// reported with State Unknown and the reason, not thrown. Only metadata is read (DescribeSecret, ListSecrets).
/// </remarks>
/// <example>
/// <code>Get-SecretRotationStatus production | Where-Object Overdue</code>
/// <para>The overdue secrets of production.</para>
/// </example>
/// <example>
/// <code>Get-SecretRotationStatus production -All -NamePrefix prod/ | Export-RunbookReport -Path secrets.html</code>
/// <para>Every secret under prod/ (configured or not), as a report.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "SecretRotationStatus")]
[OutputType(typeof(SecretRotationStatusInfo))]
public sealed class GetSecretRotationStatusCommand : SecretCmdlet
{
    /// <summary>Names under the environment's "secrets" (wildcards); all when omitted.</summary>
    [Parameter]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SecretNameCompleter))]
    public string[]? Secret { get; set; }

    /// <summary>Also every secret in the account (ListSecrets), under -NamePrefix when given.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>With -All: only secrets whose name starts with this.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NamePrefix { get; set; }

    /// <summary>How soon counts as DueSoon (default 7 days).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Writes the status of each secret.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        if (env is null && !All)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Environment (with \"secrets\" in runbook.json) or -All"), "OpsRunbook.SecretNotConfigured", ErrorCategory.InvalidArgument, null));
            return;
        }
        var configured = env is null ? [] : Configured(env, Secret);
        using var client = Client(env);
        var status = Run(() => SecretOperations.StatusAsync(client, env, configured, All ? NamePrefix ?? "" : null, DateTimeOffset.UtcNow, DueWithin, Cancellation), "Secrets Manager");
        foreach (var s in status)
        {
            if (s.State == SecretRotationState.Interrupted) WriteWarning($"{s.SecretId}: {s.Reason}");
            WriteObject(s);
        }
    }
}

/// <summary>
/// Generates a random secret from the operating system's CSPRNG: a SecureString by default, plain text only when asked.
/// </summary>
/// <remarks>
/// The runbooks' `openssl rand -base64 32`, without the characters that break connection URLs: by default 32
/// characters from letters, digits and -_.~ (about 194 bits), with at least one letter and one digit. -IncludePunctuation
/// widens the alphabet (escape the value in URLs then); -ExcludeCharacters narrows it.
/// </remarks>
/// <example>
/// <code>$jwt = New-RandomSecret -Length 64</code>
/// <para>A 64-character SecureString.</para>
/// </example>
/// <example>
/// <code>New-RandomSecret -AsPlainText | Set-Clipboard</code>
/// <para>A plain-text value, for a form that needs one.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "RandomSecret")]
[OutputType(typeof(SecureString), typeof(string))]
public sealed class NewRandomSecretCommand : PSCmdlet
{
    /// <summary>Length in characters (16-4096, default 32).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(16, 4096)]
    public int Length { get; set; } = 32;

    /// <summary>Characters never to use.</summary>
    [Parameter]
    public string? ExcludeCharacters { get; set; }

    /// <summary>Use punctuation too (not URL safe).</summary>
    [Parameter]
    public SwitchParameter IncludePunctuation { get; set; }

    /// <summary>How many values (default 1).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Count { get; set; } = 1;

    /// <summary>Return strings instead of SecureStrings.</summary>
    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    /// <summary>Writes the values.</summary>
    protected override void ProcessRecord()
    {
        var policy = new PasswordPolicy { Length = Length, ExcludeCharacters = ExcludeCharacters ?? "", IncludePunctuation = IncludePunctuation };
        try
        {
            policy.Validate();
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "OpsRunbook.InvalidArgument", ErrorCategory.InvalidArgument, null));
        }
        for (var i = 0; i < Count; i++)
        {
            var value = PasswordGenerator.Generate(policy);
            if (AsPlainText)
            {
                WriteObject(value);
                continue;
            }
            var secure = new SecureString();
            foreach (var c in value) secure.AppendChar(c);
            secure.MakeReadOnly();
            WriteObject(secure);
        }
    }
}

/// <summary>
/// Writes runbook 000's weekly secrets snapshot — names, versions, tags and rotation dates — to S3 or a folder; values only with -IncludeValues under KMS.
/// </summary>
/// <remarks>
/// The snapshot (secrets-inventory-ENV-TIMESTAMP.json) lists every secret under -NamePrefix (ListSecrets, all pages),
/// with its ARN, dates, rotation settings, tags and the staging labels of each version. It holds no values unless
/// -IncludeValues is given; then it goes only to s3:// with SSE-KMS under -KmsKeyId, and asks for confirmation even
/// with -Force unless -Confirm:$false. Without values it is written with SSE-S3 (AES256), or to a local folder.
/// </remarks>
/// <example>
/// <code>Export-SecretInventory production -Destination s3://paintbox-backups/secrets/ -NamePrefix prod/</code>
/// <para>The weekly metadata snapshot.</para>
/// </example>
/// <example>
/// <code>Export-SecretInventory production -Destination s3://paintbox-dr/secrets/ -IncludeValues -KmsKeyId alias/paintbox-dr</code>
/// <para>A disaster-recovery copy with values, encrypted under a KMS key.</para>
/// </example>
[Cmdlet(VerbsData.Export, "SecretInventory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SecretInventoryExport))]
public sealed class ExportSecretInventoryCommand : SecretCmdlet
{
    /// <summary>s3://bucket/prefix/ or a folder. Default: the environment's backup destination + secrets/.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Only secrets whose name starts with this.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NamePrefix { get; set; }

    /// <summary>Include each secret's AWSCURRENT value (needs s3:// and -KmsKeyId, and confirmation).</summary>
    [Parameter]
    public SwitchParameter IncludeValues { get; set; }

    /// <summary>KMS key (id, ARN or alias/NAME) for SSE-KMS.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KmsKeyId { get; set; }

    /// <summary>Skips the confirmation for metadata-only snapshots. Values are always confirmed unless -Confirm:$false.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the snapshot.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var destination = Destination is not null
            ? (Destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? Destination : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination))
            : env?.Backup?.Destination is { } d ? d.TrimEnd('/') + "/secrets/" : null;
        if (destination is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Destination (s3://bucket/prefix/ or a folder), or -Environment with \"backup\".\"destination\""), "OpsRunbook.DestinationMissing", ErrorCategory.InvalidArgument, null));
            return;
        }
        if (IncludeValues && (!destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) || KmsKeyId is null))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-IncludeValues writes secret values: the destination must be s3:// and -KmsKeyId must name the KMS key to encrypt with"), "OpsRunbook.EncryptionRequired", ErrorCategory.InvalidArgument, null));
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var file = $"secrets-inventory-{env?.Name ?? "account"}-{now:yyyyMMdd'T'HHmmss'Z'}.json";
        var what = IncludeValues ? $"Write every secret's VALUE under '{NamePrefix}' (SSE-KMS {KmsKeyId})" : $"Write the names and metadata of secrets under '{NamePrefix}'";
        if (!ShouldAct(destination + file, what, Force && !IncludeValues)) return;
        if (IncludeValues && !MyInvocation.BoundParameters.ContainsKey("Confirm")
            && !ShouldContinue($"The snapshot will contain the current value of every secret under '{NamePrefix}'. Continue?", "Export secret values"))
        {
            return;
        }
        using var client = Client(env);
        var result = Run(async () =>
        {
            var secrets = await client.ListSecretsAsync(NamePrefix, Cancellation).ConfigureAwait(false);
            var content = await SecretInventory.BuildAsync(client, secrets, env?.Name, IncludeValues, now, Cancellation).ConfigureAwait(false);
            var (where, encryption) = await SecretInventory.WriteAsync(destination, file, content, IncludeValues, KmsKeyId, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
            return new SecretInventoryExport
            {
                Environment = env?.Name, Destination = where, SecretCount = secrets.Count, IncludesValues = IncludeValues, Encryption = encryption,
                KmsKeyId = IncludeValues ? KmsKeyId : null, Bytes = content.Length, Timestamp = now,
            };
        }, destination);
        WriteObject(result);
    }
}
