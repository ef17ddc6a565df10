using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;

namespace OpsRunbook.Engine.Reporting;

/// <summary>Collects result objects and writes them as Markdown, JUnit XML or JSON.</summary>
public sealed class ReportWriter
{
    private readonly List<object> _items = [];

    /// <summary>Adds a result; throws <see cref="ArgumentException"/> for objects that are not OpsRunbook results.</summary>
    public void Add(object item)
    {
        if (item is not IReportable)
        {
            throw new ArgumentException($"Export-RunbookReport takes OpsRunbook results (health checks, alerts, metrics, host resources...); it got a {item.GetType().FullName}");
        }
        _items.Add(item);
    }

    /// <summary>How many objects were added.</summary>
    public int Count => _items.Count;

    /// <summary>
    /// The rows, worst first then by kind and name. A HealthReport whose entries were also added contributes only its
    /// summary row, so `Invoke-HealthCheck -Summary | Export-RunbookReport` lists each check once.
    /// </summary>
    public IReadOnlyList<ReportRow> Rows()
    {
        var seen = new HashSet<object>(_items.Where(i => i is not Health.HealthReport), ReferenceEqualityComparer.Instance);
        var rows = new List<ReportRow>();
        foreach (var item in _items)
        {
            if (item is Health.HealthReport report)
            {
                rows.AddRange(report.ToReportRows(includeEntries: !report.Entries.Any(seen.Contains)));
            }
            else
            {
                rows.AddRange(((IReportable)item).ToReportRows());
            }
        }
        return rows.OrderBy(r => r.Outcome).ThenBy(r => r.Kind, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Writes the report; its exit code is the contract's for <paramref name="failOn"/> (<see cref="ExitCodes.Of"/>).</summary>
    public RunbookReport Write(ReportFormat format, string title, DateTimeOffset now, string? path = null, ReportFailOn failOn = ReportFailOn.None)
    {
        var rows = Rows();
        var content = format switch
        {
            ReportFormat.Markdown => Markdown(rows, title, now),
            ReportFormat.JUnit => JUnit(rows, title, now),
            _ => Json(rows, title, now),
        };
        var report = new RunbookReport
        {
            Format = format,
            Title = title,
            Path = path,
            Content = content,
            Rows = rows,
            Failed = rows.Count(r => r.Outcome == ReportOutcome.Fail),
            Warnings = rows.Count(r => r.Outcome == ReportOutcome.Warn),
            Passed = rows.Count(r => r.Outcome == ReportOutcome.Pass),
            Total = rows.Count,
            ExitCode = ExitCodes.Of(rows.Count(r => r.Outcome == ReportOutcome.Fail), rows.Count(r => r.Outcome == ReportOutcome.Warn), failOn),
        };
        return report;
    }

    private static string Icon(ReportOutcome o) => o switch
    {
        ReportOutcome.Fail => "❌",
        ReportOutcome.Warn => "⚠️",
        ReportOutcome.Pass => "✅",
        _ => "ℹ️",
    };

    /// <summary>Markdown: a summary line, then one table per kind, worst first.</summary>
    public static string Markdown(IReadOnlyList<ReportRow> rows, string title, DateTimeOffset now)
    {
        var sb = new StringBuilder();
        sb.Append("## ").AppendLine(Cell(title));
        sb.AppendLine();
        var worst = rows.Count == 0 ? ReportOutcome.Pass : rows.Min(r => r.Outcome);
        sb.Append(Icon(worst == ReportOutcome.Info ? ReportOutcome.Pass : worst)).Append(' ')
          .Append(CultureInfo.InvariantCulture, $"{rows.Count(r => r.Outcome == ReportOutcome.Fail)} failing, {rows.Count(r => r.Outcome == ReportOutcome.Warn)} warning, {rows.Count(r => r.Outcome == ReportOutcome.Pass)} passing")
          .Append(CultureInfo.InvariantCulture, $" — {now.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC").AppendLine();
        foreach (var group in rows.GroupBy(r => r.Kind).OrderBy(g => g.Min(r => r.Outcome)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var extra = group.SelectMany(r => r.Columns.Select(c => c.Key)).Distinct().ToList();
            sb.AppendLine();
            sb.Append("### ").AppendLine(Cell(group.Key));
            sb.AppendLine();
            sb.Append("| | Status | Environment | Name | ").Append(string.Concat(extra.Select(e => Cell(e) + " | "))).AppendLine("Details |");
            sb.Append("|---|---|---|---|").Append(string.Concat(extra.Select(_ => "---|"))).AppendLine("---|");
            foreach (var r in group)
            {
                var cols = r.Columns.ToDictionary(c => c.Key, c => c.Value);
                sb.Append("| ").Append(Icon(r.Outcome)).Append(" | ").Append(Cell(r.Status)).Append(" | ").Append(Cell(r.Environment ?? "")).Append(" | ")
                  .Append(Cell(r.Name)).Append(" | ")
                  .Append(string.Concat(extra.Select(e => Cell(cols.GetValueOrDefault(e) ?? "") + " | ")))
                  .Append(Cell(r.Message)).AppendLine(" |");
            }
        }
        return sb.ToString();
    }

    /// <summary>JUnit XML: a testsuite per kind, a testcase per verdict row; Fail rows carry a failure, Warn rows a note in system-out.</summary>
    public static string JUnit(IReadOnlyList<ReportRow> rows, string title, DateTimeOffset now)
    {
        string Seconds(double? ms) => ((ms ?? 0) / 1000).ToString("0.000", CultureInfo.InvariantCulture);
        var verdicts = rows.Where(r => r.Outcome != ReportOutcome.Info).ToList();
        var suites = verdicts.GroupBy(r => r.Kind).Select(g => new XElement("testsuite",
            new XAttribute("name", X(g.Key)),
            new XAttribute("tests", g.Count()),
            new XAttribute("failures", g.Count(r => r.Outcome == ReportOutcome.Fail)),
            new XAttribute("errors", 0),
            new XAttribute("skipped", 0),
            new XAttribute("time", Seconds(WallMs(g))),
            new XAttribute("timestamp", Timestamp(g.Any() ? g.Min(r => r.Timestamp.AddMilliseconds(-(r.DurationMs ?? 0))) : now)),
            g.Select(r => new XElement("testcase",
                new XAttribute("classname", X($"OpsRunbook.{Identifier(g.Key)}.{Identifier(r.Environment ?? "default")}")),
                new XAttribute("name", X(r.Name)),
                new XAttribute("time", Seconds(r.DurationMs)),
                r.Outcome == ReportOutcome.Fail
                    ? new XElement("failure", new XAttribute("message", X(r.Message)), new XAttribute("type", X(r.Status)), X(Details(r)))
                    : null,
                r.Outcome == ReportOutcome.Warn ? new XElement("system-out", X($"{r.Status}: {r.Message}\n{Details(r)}")) : null))));
        var root = new XElement("testsuites",
            new XAttribute("name", X(title)),
            new XAttribute("tests", verdicts.Count),
            new XAttribute("failures", verdicts.Count(r => r.Outcome == ReportOutcome.Fail)),
            new XAttribute("errors", 0),
            new XAttribute("time", Seconds(Math.Max(WallMs(verdicts), rows.Where(r => r.Outcome == ReportOutcome.Info && r.Kind == "Summary").Select(r => r.DurationMs ?? 0).DefaultIfEmpty(0).Max()))),
            new XAttribute("timestamp", Timestamp(now)),
            suites);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root).Declaration + "\n" + root;

        // Every text of a row may hold what XML cannot (a control character from an endpoint's body).
        static string X(string s) => LogText.XmlSafe(s);
        // With its zone, so a reader in another zone reads the same instant.
        static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The wall time the rows took: checks run in parallel, so from the first one's start to the last one's end (a
    /// row's time is when it finished, its duration how long it took), not the sum of their durations.
    /// </summary>
    public static double WallMs(IEnumerable<ReportRow> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return 0;
        var start = list.Min(r => r.Timestamp.AddMilliseconds(-(r.DurationMs ?? 0)));
        var end = list.Max(r => r.Timestamp);
        return Math.Max(0, (end - start).TotalMilliseconds);
    }

    /// <summary>JSON: generation time, counts, and every row with its columns.</summary>
    public static string Json(IReadOnlyList<ReportRow> rows, string title, DateTimeOffset now)
    {
        var doc = new
        {
            title,
            generatedAt = now,
            summary = new
            {
                failed = rows.Count(r => r.Outcome == ReportOutcome.Fail),
                warnings = rows.Count(r => r.Outcome == ReportOutcome.Warn),
                passed = rows.Count(r => r.Outcome == ReportOutcome.Pass),
                total = rows.Count,
            },
            items = rows.Select(r => new
            {
                kind = r.Kind,
                name = r.Name,
                outcome = r.Outcome.ToString(),
                status = r.Status,
                environment = r.Environment,
                message = r.Message,
                timestamp = r.Timestamp,
                durationMs = r.DurationMs,
                data = r.Columns.ToDictionary(c => c.Key, c => c.Value),
            }),
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
    }

    private static string Details(ReportRow r) => string.Join("\n", r.Columns.Select(c => $"{c.Key}: {c.Value}"));

    private static string Identifier(string s) => new(s.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    // Text in a cell stays text: a server's words cannot become HTML (GitHub renders HTML in summaries), a table
    // border or a line break other than the one <br> this writes.
    private static string Cell(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
        .Replace("\r", "", StringComparison.Ordinal).Replace("\n", "<br>", StringComparison.Ordinal);
}
