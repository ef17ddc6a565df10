using System.Diagnostics;
using System.Globalization;
using System.Net;
using OpsRunbook.Engine.Health.Checks;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Health;

/// <summary>What one resolver answered.</summary>
public sealed record ResolverAnswer(string Resolver, string ResponseCode, IReadOnlyList<string> Answers, bool Matches, string? Error, double LatencyMs)
{
    /// <inheritdoc />
    public override string ToString() => Error is not null ? $"{Resolver}: {Error}" : $"{Resolver}: {ResponseCode} {(Answers.Count == 0 ? "(no answer)" : string.Join(", ", Answers))}";
}

/// <summary>
/// Whether a DNS change has reached the resolvers clients use (the last step of a failover or region move: "update DNS,
/// verify"): each resolver's answer against the expected records, how many agree, and with -Wait how long it took.
/// </summary>
public sealed class DnsPropagationResult : IReportable
{
    /// <summary>The name asked.</summary>
    public required string Name { get; init; }
    /// <summary>The record type.</summary>
    public required string Type { get; init; }
    /// <summary>The records every resolver should answer (compared as a set, case-insensitively).</summary>
    public IReadOnlyList<string> Expected { get; init; } = [];
    /// <summary>Each resolver's answer.</summary>
    public IReadOnlyList<ResolverAnswer> Resolvers { get; init; } = [];
    /// <summary>How many resolvers answer the expected records.</summary>
    public int Agreeing => Resolvers.Count(r => r.Matches);
    /// <summary>How many resolvers were asked.</summary>
    public int Total => Resolvers.Count;
    /// <summary>Whether every resolver agrees.</summary>
    public bool Propagated => Total > 0 && Agreeing == Total;
    /// <summary>Healthy when all agree, Degraded when some do, Unhealthy when none does.</summary>
    public HealthStatus Status => Propagated ? HealthStatus.Healthy : Agreeing > 0 ? HealthStatus.Degraded : HealthStatus.Unhealthy;
    /// <summary>How many rounds were asked (more than one with -Wait).</summary>
    public int Rounds { get; init; } = 1;
    /// <summary>How long from the first round to this one.</summary>
    public TimeSpan Elapsed { get; init; }
    /// <summary>When it was checked.</summary>
    public DateTimeOffset CheckedAt { get; init; }
    /// <summary>In words.</summary>
    public string Reason => $"{Agreeing} of {Total} resolvers answer {string.Join(", ", Expected)} for {Name} {Type}"
        + (Propagated ? "" : $"; not yet: {string.Join("; ", Resolvers.Where(r => !r.Matches))}")
        + (Rounds > 1 ? $" (after {Rounds} rounds, {Elapsed.TotalSeconds:0} s)" : "");

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Name} {Type}: {Reason}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch { HealthStatus.Healthy => ReportOutcome.Pass, HealthStatus.Degraded => ReportOutcome.Warn, _ => ReportOutcome.Fail };
        yield return new ReportRow("DNS propagation", $"{Name} {Type}", outcome, Status.ToString(), null, Reason,
            new KeyValuePair<string, string>[] { new("Agreeing", $"{Agreeing}/{Total}") }, CheckedAt, Elapsed.TotalMilliseconds);
    }
}

/// <summary>Asks several resolvers, directly (no cache), for one name, and compares their answers.</summary>
public static class DnsPropagation
{
    /// <summary>Resolvers asked when none is given: Cloudflare, Google, Quad9 and OpenDNS, what most clients end up asking.</summary>
    public static readonly IReadOnlyList<string> PublicResolvers = new string[] { "1.1.1.1", "8.8.8.8", "9.9.9.9", "208.67.222.222" };

    /// <summary>host or host:port (53 by default), IPv6 in brackets; throws <see cref="ArgumentException"/> for anything else.</summary>
    public static IPEndPoint ParseResolver(string text)
    {
        var t = text.Trim();
        if (IPAddress.TryParse(t.Trim('[', ']'), out var address)) return new IPEndPoint(address, 53);
        if (IPEndPoint.TryParse(t, out var endpoint)) return endpoint;
        throw new ArgumentException($"'{text}' is not a resolver: give an IP address, with :port if not 53 (1.1.1.1, 127.0.0.1:5353, [::1]:53)");
    }

    /// <summary>The record types a propagation check asks for.</summary>
    public static readonly IReadOnlyList<string> Types = new string[] { "A", "AAAA", "CNAME", "MX", "NS", "TXT", "PTR" };

    /// <summary>One round: every resolver at once.</summary>
    public static async Task<DnsPropagationResult> CheckAsync(string name, string type, IReadOnlyList<string> expected, IReadOnlyList<string> resolvers, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        if (!Types.Contains(type, StringComparer.OrdinalIgnoreCase)) throw new ArgumentException($"'{type}' is not a record type to compare: {string.Join(", ", Types)}");
        if (resolvers.Count == 0) throw new ArgumentException("no resolvers to ask");
        var endpoints = resolvers.Select(r => (Text: r, EndPoint: ParseResolver(r))).ToList();
        var want = new HashSet<string>(expected.Select(Normal), StringComparer.OrdinalIgnoreCase);
        var answers = await Task.WhenAll(endpoints.Select(async r =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var result = await DnsCheck.QueryAsync(r.EndPoint, name, type.ToUpperInvariant(), timeout, cancellationToken).ConfigureAwait(false);
                var got = result.Answers.Select(Normal).ToHashSet(StringComparer.OrdinalIgnoreCase);
                return new ResolverAnswer(r.Text, result.ResponseCode, result.Answers, result.ResponseCode == "NOERROR" && got.SetEquals(want), null, clock.Elapsed.TotalMilliseconds);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new ResolverAnswer(r.Text, "", [], false, FailureDescriber.Describe(ex, r.EndPoint.ToString()), clock.Elapsed.TotalMilliseconds);
            }
        })).ConfigureAwait(false);
        return new DnsPropagationResult { Name = name, Type = type.ToUpperInvariant(), Expected = expected, Resolvers = answers, CheckedAt = DateTimeOffset.UtcNow };
    }

    /// <summary>Rounds every <paramref name="interval"/> until every resolver agrees or <paramref name="maxWait"/> passes; the last round, with how many and how long.</summary>
    public static async Task<DnsPropagationResult> WaitAsync(string name, string type, IReadOnlyList<string> expected, IReadOnlyList<string> resolvers, TimeSpan timeout,
        TimeSpan maxWait, TimeSpan interval, IProgress<DnsPropagationResult>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        for (var round = 1; ; round++)
        {
            var result = await CheckAsync(name, type, expected, resolvers, timeout, cancellationToken).ConfigureAwait(false);
            result = new DnsPropagationResult
            {
                Name = result.Name, Type = result.Type, Expected = result.Expected, Resolvers = result.Resolvers, CheckedAt = result.CheckedAt, Rounds = round, Elapsed = clock.Elapsed,
            };
            progress?.Report(result);
            if (result.Propagated || clock.Elapsed + interval > maxWait) return result;
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Normal(string record) => record.Trim().TrimEnd('.');
}
