using System.Diagnostics;
using System.Globalization;
using OpsRunbook.Engine.Clients.Aws;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>
/// Rotates one Secrets Manager secret the way AWS's rotation functions do — create, set, test, finish, each idempotent
/// and resumable through the AWSPENDING version's id (the ClientRequestToken) — and adds what they leave to the operator:
/// a failure before finish is undone so AWSCURRENT keeps logging in, the old credential is retired only after the
/// secret has moved, and every step is reported with its duration. Values never leave: results carry version ids.
/// </summary>
public sealed class SecretRotator(SecretsManagerClient client, SecretRedactor redactor)
{
    internal const string Current = "AWSCURRENT", Pending = "AWSPENDING", Previous = "AWSPREVIOUS";

    /// <summary>Test hook: returning true before a step makes the rotation stop there as if the process had been killed (no undo).</summary>
    internal Func<RotationStepName, bool>? CrashBefore { get; set; }

    /// <summary>Test hook: changes the password the Test step logs in with (a login the server refuses).</summary>
    internal Func<string, string>? TamperTestPassword { get; set; }

    /// <summary>Reports progress (no values), for -Verbose.</summary>
    public Action<string>? Progress { get; set; }

    public async Task<SecretRotationResult> RotateAsync(SecretRotationRequest request, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(request.SecretId);
        request.Password.Validate();
        var id = request.SecretId;
        var steps = new List<SecretRotationStep>();
        var described = await client.DescribeSecretAsync(id, ct).ConfigureAwait(false);
        var currentVid = Holder(described, Current) ?? throw new InvalidOperationException($"secret {id} has no AWSCURRENT version to rotate from");
        var pendingVid = Holder(described, Pending);
        var previousVid = Holder(described, Previous);

        var current = RotatableCredential.Parse(await client.GetSecretVersionStringAsync(id, currentVid, ct).ConfigureAwait(false), request.Field);
        redactor.Add(current.Password);
        var strategy = Choose(request.Strategy, current);
        RotatableCredential? admin = null;
        if (request.AdminSecretId is not null)
        {
            admin = RotatableCredential.Parse(await client.GetSecretStringAsync(request.AdminSecretId, ct).ConfigureAwait(false));
            redactor.Add(admin.Password);
        }
        var target = CreateTarget(strategy, request, admin);

        // A label left on the current version means a run stopped inside finish: only the label and cleanup remain.
        var finishedEarlier = pendingVid is not null && pendingVid == currentVid;
        string token;
        if (request.ClientRequestToken is { } given)
        {
            if (given.Length is < 32 or > 64) throw new ArgumentException("a ClientRequestToken is 32 to 64 characters (a GUID is 36)");
            if (pendingVid is not null && pendingVid != given && !finishedEarlier)
            {
                throw new InvalidOperationException($"secret {id} already has a rotation in progress (AWSPENDING is version {pendingVid}); rerun without a ClientRequestToken to resume it");
            }
            token = finishedEarlier ? pendingVid! : given;
        }
        else
        {
            token = pendingVid ?? Guid.NewGuid().ToString();
        }
        var resumed = pendingVid is not null;
        var pendingUser = finishedEarlier ? current.Username : target.PendingUsername(current);
        var where = current.Host is null ? null : $"{current.Host}:{(current.Port ?? (current.Engine == "redis" ? 6379 : 5432)).ToString(CultureInfo.InvariantCulture)}";

        SecretRotationResult Result(SecretRotationStatus status, string? error = null, bool? logsIn = null) => new()
        {
            Environment = request.Environment, SecretId = id, Strategy = strategy, Username = pendingUser, Endpoint = where,
            PreviousVersionId = finishedEarlier ? previousVid : currentVid, NewVersionId = token, Resumed = resumed,
            Steps = steps.ToArray(), Status = status, Error = error, CurrentLogsIn = logsIn,
        };

        if (request.WhatIf)
        {
            foreach (var (step, what) in Plan(strategy, request, current, pendingUser, currentVid, token, resumed, finishedEarlier))
            {
                steps.Add(new SecretRotationStep(step, RotationStepOutcome.Planned, TimeSpan.Zero, what));
            }
            return Result(SecretRotationStatus.Planned);
        }

        RotatableCredential? pending = finishedEarlier ? current : null;
        RotatableCredential? previous = null;
        var moved = finishedEarlier;
        var stage = RotationStepName.Create;
        try
        {
            if (finishedEarlier)
            {
                steps.Add(new SecretRotationStep(RotationStepName.Create, RotationStepOutcome.AlreadyDone, TimeSpan.Zero, "an earlier run created and moved it"));
                previous = previousVid is null ? null : await ReadAsync(id, previousVid, request, ct).ConfigureAwait(false);
                // The secret moved, but that says nothing about the server: an undo that raced the finish request (or a
                // hand edit) can leave AWSCURRENT with a password the server refuses. Verify, and repair from AWSPREVIOUS.
                stage = RotationStepName.Set;
                await StepAsync(stage, async () =>
                {
                    var outcome = await target.SetAsync(pending!, pending!, previous, ct).ConfigureAwait(false);
                    return (outcome, outcome switch
                    {
                        RotationStepOutcome.AlreadyDone => "the server accepts AWSCURRENT's credential",
                        RotationStepOutcome.Skipped => "generic value: nothing to set",
                        _ => $"repaired: the server refused AWSCURRENT's credential; {SetDetail(strategy, pendingUser)}",
                    });
                }).ConfigureAwait(false);
                stage = RotationStepName.Test;
                await StepAsync(stage, async () =>
                {
                    if (strategy == RotationStrategy.Generic) return (RotationStepOutcome.Skipped, "generic value: nothing to log in to");
                    await target.TestAsync(pending!, ct).ConfigureAwait(false);
                    return (RotationStepOutcome.Done, $"logged in as {pendingUser ?? "default"} with AWSCURRENT's password");
                }).ConfigureAwait(false);
            }
            else
            {
                stage = RotationStepName.Create;
                await StepAsync(stage, async () =>
                {
                    if (pendingVid == token)
                    {
                        pending = await ReadAsync(id, token, request, ct).ConfigureAwait(false);
                        return (RotationStepOutcome.AlreadyDone, $"version {token} was created by an earlier run");
                    }
                    var password = PasswordGenerator.Generate(request.Password);
                    redactor.Add(password);
                    var value = current.With(password, pendingUser == current.Username ? null : pendingUser);
                    redactor.Add(value);
                    await client.PutSecretValueAsync(id, token, value, new string[] { Pending }, ct).ConfigureAwait(false);
                    pending = RotatableCredential.Parse(value, request.Field);
                    return (RotationStepOutcome.Done, $"version {token} stored as AWSPENDING ({request.Password.Length} characters)");
                }).ConfigureAwait(false);

                stage = RotationStepName.Set;
                await StepAsync(stage, async () =>
                {
                    previous = previousVid is null ? null : await ReadAsync(id, previousVid, request, ct).ConfigureAwait(false);
                    var outcome = await target.SetAsync(current, pending!, previous, ct).ConfigureAwait(false);
                    return (outcome, outcome == RotationStepOutcome.Skipped ? "generic value: nothing to set" : SetDetail(strategy, pendingUser));
                }).ConfigureAwait(false);

                stage = RotationStepName.Test;
                await StepAsync(stage, async () =>
                {
                    if (strategy == RotationStrategy.Generic) return (RotationStepOutcome.Skipped, "generic value: nothing to log in to");
                    var probe = TamperTestPassword is null ? pending! : RotatableCredential.Parse(pending!.With(TamperTestPassword(pending.Password!)), request.Field);
                    await target.TestAsync(probe, ct).ConfigureAwait(false);
                    return (RotationStepOutcome.Done, $"logged in as {pendingUser ?? "default"} with the new password");
                }).ConfigureAwait(false);

                previous = current;
            }

            stage = RotationStepName.Finish;
            await StepAsync(stage, async () =>
            {
                if (moved) return (RotationStepOutcome.AlreadyDone, $"AWSCURRENT was already on version {token}");
                await client.UpdateSecretVersionStageAsync(id, Current, token, currentVid, ct).ConfigureAwait(false);
                moved = true;
                return (RotationStepOutcome.Done, $"AWSCURRENT is version {token}; AWSPREVIOUS is {currentVid}");
            }).ConfigureAwait(false);

            // AWSPENDING stays on the new version until cleanup is done, so a run stopped here is resumed by the next.
            stage = RotationStepName.Cleanup;
            await StepAsync(stage, async () =>
            {
                var (outcome, detail) = await target.CleanupAsync(pending!, previous, ct).ConfigureAwait(false);
                await client.UpdateSecretVersionStageAsync(id, Pending, null, token, ct).ConfigureAwait(false);
                return (outcome, detail);
            }).ConfigureAwait(false);
            return Result(SecretRotationStatus.Rotated);
        }
        catch (Exception e) when (e is not SimulatedCrashException)
        {
            var error = $"{stage} failed: {Describe(e)}";
            foreach (var s in Enum.GetValues<RotationStepName>().Where(s => s > stage && s != RotationStepName.Revert))
            {
                steps.Add(new SecretRotationStep(s, RotationStepOutcome.NotReached, TimeSpan.Zero, null));
            }
            if (stage == RotationStepName.Cleanup)
            {
                // The secret moved and the new credential works: the rotation stands; the old credential still works too.
                steps.Add(new SecretRotationStep(RotationStepName.Revert, RotationStepOutcome.Skipped, TimeSpan.Zero, "the rotation stands; the previous credential was not retired"));
                return Result(SecretRotationStatus.Rotated, error);
            }
            // Undo on a fresh token: a cancelled run must still leave AWSCURRENT working.
            using var undo = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            bool? logsIn = null;
            var mayStillLand = false;
            if (stage == RotationStepName.Finish && !moved) (moved, mayStillLand) = await SettleFinishAsync(id, token, e, undo.Token).ConfigureAwait(false);
            var working = moved ? pending! : current;
            if (mayStillLand)
            {
                // Undoing now would race the request in flight: if it lands after the undo, AWSCURRENT holds a password
                // the server no longer accepts. The server keeps the new, tested password; a rerun completes the move.
                steps.Add(new SecretRotationStep(RotationStepName.Revert, RotationStepOutcome.Skipped, TimeSpan.Zero,
                    $"not undone: the finish request may still reach Secrets Manager; the server keeps version {token}'s password"));
            }
            else if (!moved && pending is not null && strategy != RotationStrategy.Generic)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    var reverted = await target.RevertAsync(current, pending, undo.Token).ConfigureAwait(false);
                    steps.Add(new SecretRotationStep(RotationStepName.Revert, reverted ? RotationStepOutcome.Done : RotationStepOutcome.Skipped, sw.Elapsed,
                        reverted ? "the AWSCURRENT credential works again" : "nothing to undo"));
                }
                catch (Exception re) when (re is not SimulatedCrashException)
                {
                    steps.Add(new SecretRotationStep(RotationStepName.Revert, RotationStepOutcome.Failed, sw.Elapsed, Describe(re)));
                }
            }
            if (strategy != RotationStrategy.Generic)
            {
                try
                {
                    await target.TestAsync(working, undo.Token).ConfigureAwait(false);
                    logsIn = true;
                }
                catch (Exception te) when (te is not SimulatedCrashException)
                {
                    logsIn = false;
                    Progress?.Invoke($"the AWSCURRENT credential of {id} does not log in: {Describe(te)}");
                }
            }
            var state = mayStillLand
                ? $"; the finish may still land: until it does or a rerun completes it (it resumes from AWSPENDING version {token}), AWSCURRENT is version {currentVid}, whose password the server no longer accepts"
                : moved && stage == RotationStepName.Finish ? $"; AWSCURRENT is version {token} all the same (the finish was completed after the failure); cleanup did not run: rerun to finish it"
                : moved ? "" : $"; AWSCURRENT is unchanged and AWSPENDING is version {token}: rerun to resume";
            // A rotation whose AWSCURRENT does not log in has failed, whatever the labels say.
            return Result(moved && logsIn != false ? SecretRotationStatus.Rotated : SecretRotationStatus.Failed, error + state, logsIn);
        }

        async Task StepAsync(RotationStepName step, Func<Task<(RotationStepOutcome outcome, string? detail)>> work)
        {
            if (CrashBefore?.Invoke(step) == true) throw new SimulatedCrashException(step);
            Progress?.Invoke($"{id}: {step}");
            var sw = Stopwatch.StartNew();
            try
            {
                var (outcome, detail) = await work().ConfigureAwait(false);
                steps.Add(new SecretRotationStep(step, outcome, sw.Elapsed, detail is null ? null : redactor.Scrub(detail)));
            }
            catch (Exception e) when (e is not SimulatedCrashException)
            {
                steps.Add(new SecretRotationStep(step, RotationStepOutcome.Failed, sw.Elapsed, Describe(e)));
                throw;
            }
        }
    }

    /// <summary>
    /// After the finish request failed: whether AWSCURRENT is on the new version, and whether the request may still land.
    /// A refusal Secrets Manager answered (4xx) settles it: nothing moved. Anything else (cancelled, timed out, the
    /// connection lost, a 5xx) may have been applied, or may be applied later: the move is completed here, never undone
    /// (the new credential was tested; an undo would race the request in flight). The stages are read back first.
    /// </summary>
    private async Task<(bool Moved, bool MayStillLand)> SettleFinishAsync(string id, string token, Exception failure, CancellationToken ct)
    {
        var refused = failure is AwsServiceException { StatusCode: >= 400 and < 500 };
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                var holder = Holder(await client.DescribeSecretAsync(id, ct).ConfigureAwait(false), Current);
                if (holder == token) return (true, false);
                if (refused) return (false, false);
                Progress?.Invoke($"{id}: the finish request may not have landed; completing it");
                await client.UpdateSecretVersionStageAsync(id, Current, token, holder, ct).ConfigureAwait(false);
                return (true, false);
            }
            catch (Exception ex) when (ex is not SimulatedCrashException && !ct.IsCancellationRequested)
            {
                // The late request may have moved it in between (a refusal naming the holder): read it again, once.
                Progress?.Invoke($"{id}: completing the finish failed: {Describe(ex)}");
            }
        }
        return (false, !refused);
    }

    private async Task<RotatableCredential> ReadAsync(string id, string versionId, SecretRotationRequest request, CancellationToken ct)
    {
        var c = RotatableCredential.Parse(await client.GetSecretVersionStringAsync(id, versionId, ct).ConfigureAwait(false), request.Field);
        redactor.Add(c.Password);
        return c;
    }

    private string Describe(Exception e)
    {
        var text = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException) text += " (" + inner.Message + ")";
        return redactor.Scrub(text);
    }

    internal static string? Holder(SecretDescription d, string stage) =>
        d.VersionIdsToStages.FirstOrDefault(kv => kv.Value.Contains(stage, StringComparer.Ordinal)).Key;

    private static RotationStrategy Choose(RotationStrategy asked, RotatableCredential current)
    {
        if (asked != RotationStrategy.Auto)
        {
            var needs = asked switch
            {
                RotationStrategy.PostgresSingleUser or RotationStrategy.PostgresAlternatingUsers => current.Engine == "postgres" || (current.Format == SecretValueFormat.Json && current.Host is not null) ? null : "a PostgreSQL login (postgres:// URL, or JSON with host, username and password)",
                RotationStrategy.RedisAcl or RotationStrategy.RedisRequirePass => current.Engine == "redis" || (current.Format == SecretValueFormat.Json && current.Host is not null) ? null : "a Redis login (redis:// URL, or JSON with host and password)",
                _ => null,
            };
            if (needs is not null) throw new ArgumentException($"strategy {asked} needs the secret to hold {needs}; it holds a {current.Format} value");
            if (asked == RotationStrategy.RedisAcl && current.Username is null or "default") throw new ArgumentException("strategy RedisAcl rotates a named ACL user; this secret has no user (use RedisRequirePass for the default user)");
            return asked;
        }
        return current.Engine switch
        {
            "postgres" => RotationStrategy.PostgresSingleUser,
            "redis" => current.Username is null or "default" ? RotationStrategy.RedisRequirePass : RotationStrategy.RedisAcl,
            _ => RotationStrategy.Generic,
        };
    }

    private static IRotationTarget CreateTarget(RotationStrategy strategy, SecretRotationRequest request, RotatableCredential? admin) => strategy switch
    {
        RotationStrategy.PostgresSingleUser or RotationStrategy.PostgresAlternatingUsers => new PostgresTarget(strategy, request.Connection, admin),
        RotationStrategy.RedisAcl or RotationStrategy.RedisRequirePass => new RedisTarget(strategy, request.Connection, admin, request.PersistRedis),
        _ => new GenericTarget(),
    };

    private static string SetDetail(RotationStrategy strategy, string? user) => strategy switch
    {
        RotationStrategy.PostgresSingleUser => $"ALTER ROLE {user} with a SCRAM-SHA-256 verifier (the password itself was not sent)",
        RotationStrategy.PostgresAlternatingUsers => $"{user} has the new password (SCRAM verifier); the current user is untouched",
        RotationStrategy.RedisAcl => $"ACL user {user} accepts the new password beside the old one",
        RotationStrategy.RedisRequirePass => "the default user accepts the new password beside the old one",
        _ => "",
    };

    private static IEnumerable<(RotationStepName, string)> Plan(RotationStrategy strategy, SecretRotationRequest request, RotatableCredential current,
        string? pendingUser, string currentVid, string token, bool resumed, bool finishedEarlier)
    {
        if (finishedEarlier)
        {
            yield return (RotationStepName.Finish, $"AWSCURRENT is already on version {token} (an interrupted run moved it)");
        }
        else
        {
            yield return (RotationStepName.Create, resumed
                ? $"resume: reuse AWSPENDING version {token}"
                : $"generate a {request.Password.Length}-character value and store it as AWSPENDING version {token}");
            if (strategy != RotationStrategy.Generic)
            {
                yield return (RotationStepName.Set, SetDetail(strategy, pendingUser));
                yield return (RotationStepName.Test, $"log in to {current.Host} as {pendingUser ?? "default"} with the new password");
            }
            yield return (RotationStepName.Finish, $"move AWSCURRENT from version {currentVid} to {token} (AWSPREVIOUS follows)");
        }
        var cleanup = strategy switch
        {
            RotationStrategy.RedisAcl => $"remove the old password from ACL user {current.Username}",
            RotationStrategy.RedisRequirePass => "set requirepass to the new password (the old one stops working)",
            _ => null,
        };
        yield return (RotationStepName.Cleanup, (cleanup is null ? "" : cleanup + (request.PersistRedis ? " and save the server's configuration, then " : ", then "))
            + $"remove the AWSPENDING label from version {token}");
    }
}

/// <summary>Test hook's stand-in for a killed process: nothing after it runs, not even the undo.</summary>
internal sealed class SimulatedCrashException(RotationStepName step) : Exception($"simulated crash before {step}");
