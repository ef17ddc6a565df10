using System.Globalization;
using System.Text;

namespace OpsRunbook.Engine.Metrics;

/// <summary>
/// Parses the Prometheus text exposition format (version 0.0.4): # HELP and # TYPE lines, samples with labels
/// (escapes \\ \" \n), NaN/+Inf/-Inf, optional millisecond timestamps. Histogram and summary series are gathered
/// into one <see cref="MetricSample"/> each. Malformed input fails with the line number and what is wrong; given a list
/// of skipped lines, a bad line is skipped and said there instead, so one odd line does not lose a whole scrape.
/// </summary>
/// <remarks>
/// What it accepts follows prometheus/common's expfmt/text_parse.go: blanks and tabs before a line's first character
/// (startOfLine's skipBlankTab), the TYPE in any case (<c>MetricType_value[strings.ToUpper(...)]</c>), including
/// GAUGE_HISTOGRAM, and OpenMetrics' spelling <c>gaugehistogram</c> with its <c>_gcount</c>/<c>_gsum</c> series
/// (prometheus/prometheus model/textparse/openmetricsparse.go).
/// </remarks>
public static class PrometheusTextParser
{
    private sealed class Family(string name)
    {
        public string Name { get; } = name;
        public MetricType Type { get; set; }
        public string? Help { get; set; }
        public bool HasSamples { get; set; }
    }

    private sealed class Series
    {
        public required string Family { get; init; }
        public required SortedDictionary<string, string> Labels { get; init; }
        public double? Value { get; set; }
        public DateTimeOffset? Timestamp { get; set; }
        public List<HistogramBucket> Buckets { get; } = [];
        public Dictionary<double, double> Quantiles { get; } = [];
        public double? Sum { get; set; }
        public double? Count { get; set; }
    }

    /// <summary>Parses a whole exposition; samples come back in the order their series first appear.</summary>
    public static IReadOnlyList<MetricSample> Parse(string text, string? source = null, string? environment = null, DateTimeOffset? scrapedAt = null,
        ICollection<string>? skipped = null)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var series = new Dictionary<string, Series>(StringComparer.Ordinal);
        var order = new List<Series>();
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimStart(' ', '\t');
            var number = i + 1;
            if (line.Trim().Length == 0) continue;
            try
            {
                ParseLine(line, number, families, series, order);
            }
            catch (FormatException ex) when (skipped is not null)
            {
                skipped.Add(ex.Message);
            }
        }
        var when = scrapedAt ?? DateTimeOffset.UtcNow;
        return order.Select(s =>
        {
            var family = families[s.Family];
            return new MetricSample
            {
                Name = s.Family,
                Labels = new Dictionary<string, string>(s.Labels, StringComparer.Ordinal),
                Type = family.Type,
                Help = family.Help,
                Value = s.Value ?? s.Sum ?? 0,
                Timestamp = s.Timestamp,
                Buckets = s.Buckets.OrderBy(b => b.UpperBound).ToList(),
                Quantiles = s.Quantiles,
                Sum = s.Sum,
                Count = s.Count,
                Source = source,
                Environment = environment,
                ScrapedAt = when,
            };
        }).ToList();
    }

    private static void ParseLine(string line, int number, Dictionary<string, Family> families, Dictionary<string, Series> series, List<Series> order)
    {
        if (line.StartsWith('#'))
        {
            ParseComment(line, number, families);
            return;
        }
        var (name, labels, value, timestamp) = ParseSample(line, number);
        var (familyName, role) = Resolve(name, families);
        var family = families.TryGetValue(familyName, out var f) ? f : families[familyName] = new Family(familyName);
        family.HasSamples = true;

        string? le = null, quantile = null;
        if (role == "bucket" && !labels.Remove("le", out le)) throw Error(number, $"{name} is a histogram bucket without an le label");
        if (family.Type == MetricType.Summary && role == "" && !labels.Remove("quantile", out quantile)) throw Error(number, $"{name} is a summary sample without a quantile label");
        var key = familyName + "{" + string.Join(",", labels.Select(l => l.Key + "=" + l.Value)) + "}";
        if (!series.TryGetValue(key, out var s))
        {
            s = new Series { Family = familyName, Labels = labels };
            series[key] = s;
            order.Add(s);
        }
        s.Timestamp = timestamp ?? s.Timestamp;
        switch (role)
        {
            case "bucket":
                s.Buckets.Add(new HistogramBucket(ParseValue(le!, number, "le"), value));
                break;
            case "sum":
                s.Sum = value;
                break;
            case "count":
                s.Count = value;
                break;
            default:
                if (quantile is not null) s.Quantiles[ParseValue(quantile, number, "quantile")] = value;
                else s.Value = value;
                break;
        }
    }

    /// <summary>Which family a sample name belongs to: x_bucket/x_sum/x_count go to histogram or summary x when TYPE said so.</summary>
    private static (string family, string role) Resolve(string name, Dictionary<string, Family> families)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count", "_gsum", "_gcount" })
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal))
            {
                var baseName = name[..^suffix.Length];
                if (families.TryGetValue(baseName, out var f) && f.Type switch
                {
                    MetricType.Histogram => suffix is "_bucket" or "_sum" or "_count",
                    MetricType.GaugeHistogram => true,
                    MetricType.Summary => suffix is "_sum" or "_count",
                    _ => false,
                })
                {
                    return (baseName, suffix switch { "_gsum" => "sum", "_gcount" => "count", _ => suffix[1..] });
                }
            }
        }
        return (name, "");
    }

    private static void ParseComment(string line, int number, Dictionary<string, Family> families)
    {
        var parts = line[1..].TrimStart().Split((char[])[' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts[0] is not ("HELP" or "TYPE")) return; // an ordinary comment
        var name = parts[1];
        if (!IsMetricName(name)) throw Error(number, $"'{name}' is not a valid metric name");
        var family = families.TryGetValue(name, out var f) ? f : families[name] = new Family(name);
        if (parts[0] == "HELP")
        {
            family.Help = parts.Length > 2 ? Unescape(parts[2], help: true, number) : "";
            return;
        }
        if (family.HasSamples) throw Error(number, $"# TYPE {name} comes after samples of {name}; it must come before them");
        var type = parts.Length > 2 ? parts[2].Trim() : "";
        family.Type = type.ToUpperInvariant() switch
        {
            "COUNTER" => MetricType.Counter,
            "GAUGE" => MetricType.Gauge,
            "HISTOGRAM" => MetricType.Histogram,
            "SUMMARY" => MetricType.Summary,
            "UNTYPED" or "UNKNOWN" => MetricType.Untyped,
            "GAUGE_HISTOGRAM" or "GAUGEHISTOGRAM" => MetricType.GaugeHistogram,
            _ => throw Error(number, $"'{type}' is not a metric type (counter, gauge, histogram, gaugehistogram, summary, untyped)"),
        };
    }

    private static (string name, SortedDictionary<string, string> labels, double value, DateTimeOffset? timestamp) ParseSample(string line, int number)
    {
        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':')) i++;
        var name = line[..i];
        if (!IsMetricName(name)) throw Error(number, $"a sample must start with a metric name, found '{Shorten(line)}'");
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        while (i < line.Length && line[i] is ' ' or '\t') i++;
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && line[i] is ' ' or '\t' or ',') i++;
                if (i >= line.Length) throw Error(number, "labels are not closed with '}'");
                if (line[i] == '}') { i++; break; }
                var start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_')) i++;
                var label = line[start..i];
                if (label.Length == 0 || char.IsAsciiDigit(label[0])) throw Error(number, $"expected a label name or '}}' at column {start + 1}");
                while (i < line.Length && line[i] is ' ' or '\t') i++;
                if (i >= line.Length || line[i] != '=') throw Error(number, $"'=' expected after label {label}");
                i++;
                while (i < line.Length && line[i] is ' ' or '\t') i++;
                if (i >= line.Length || line[i] != '"') throw Error(number, $"the value of label {label} must be in double quotes");
                i++;
                var sb = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) throw Error(number, $"the value of label {label} is not closed with '\"'");
                    var c = line[i++];
                    if (c == '"') break;
                    if (c == '\\')
                    {
                        if (i >= line.Length) throw Error(number, "a label value ends with a lone backslash");
                        var e = line[i++];
                        sb.Append(e switch
                        {
                            'n' => '\n',
                            '\\' => '\\',
                            '"' => '"',
                            _ => throw Error(number, $"'\\{e}' is not an escape in a label value (use \\\\, \\\" or \\n)"),
                        });
                        continue;
                    }
                    sb.Append(c);
                }
                if (!labels.TryAdd(label, sb.ToString())) throw Error(number, $"label {label} appears twice");
            }
        }
        var rest = line[i..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is 0 or > 2) throw Error(number, rest.Length == 0 ? $"{name} has no value" : $"unexpected '{rest[2]}' after the timestamp");
        var value = ParseValue(rest[0], number, "value");
        DateTimeOffset? timestamp = null;
        if (rest.Length == 2)
        {
            if (!long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms)) throw Error(number, $"'{rest[1]}' is not a timestamp in milliseconds");
            timestamp = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        return (name, labels, value, timestamp);
    }

    /// <summary>A Prometheus float: Go's ParseFloat forms plus NaN, +Inf, -Inf (any case).</summary>
    public static double ParseValue(string text, int line, string what)
    {
        switch (text.ToLowerInvariant())
        {
            case "nan": return double.NaN;
            case "+inf" or "inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Error(line, $"'{text}' is not a number ({what})");
    }

    private static string Unescape(string text, bool help, int line)
    {
        if (!text.Contains('\\')) return text;
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i == text.Length - 1)
            {
                sb.Append(text[i]);
                continue;
            }
            var e = text[++i];
            sb.Append(e switch
            {
                'n' => "\n",
                '\\' => "\\",
                _ when help => "\\" + e,
                _ => throw Error(line, $"'\\{e}' is not an escape"),
            });
        }
        return sb.ToString();
    }

    private static bool IsMetricName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "..." : s;

    private static FormatException Error(int line, string what) => new($"metrics line {line}: {what}");
}
