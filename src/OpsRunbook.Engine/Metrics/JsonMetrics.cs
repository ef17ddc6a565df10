using System.Globalization;
using System.Text.Json;

namespace OpsRunbook.Engine.Metrics;

/// <summary>
/// JSON metrics endpoints (runbook 002's /api/metrics, runbook 004's /api/metrics/memory): every numeric or boolean
/// leaf becomes one untyped sample named by its flattened path (<c>memory.heapUsed</c>, <c>queues[0].depth</c>).
/// </summary>
public static class JsonMetrics
{
    /// <summary>Flattens a JSON document; throws <see cref="FormatException"/> for invalid JSON.</summary>
    public static IReadOnlyList<MetricSample> Parse(string json, string? source = null, string? environment = null, DateTimeOffset? scrapedAt = null)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"metrics JSON line {(ex.LineNumber ?? 0) + 1}: {ex.Message.Split(" Path:")[0]}", ex);
        }
        using (doc)
        {
            var samples = new List<MetricSample>();
            var when = scrapedAt ?? DateTimeOffset.UtcNow;
            void Walk(JsonElement e, string path)
            {
                switch (e.ValueKind)
                {
                    case JsonValueKind.Object:
                        foreach (var p in e.EnumerateObject()) Walk(p.Value, path.Length == 0 ? p.Name : path + "." + p.Name);
                        break;
                    case JsonValueKind.Array:
                        var i = 0;
                        foreach (var item in e.EnumerateArray()) Walk(item, $"{path}[{i++}]");
                        break;
                    case JsonValueKind.Number:
                        Add(path, e.GetDouble());
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        Add(path, e.ValueKind == JsonValueKind.True ? 1 : 0);
                        break;
                    case JsonValueKind.String when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var n):
                        Add(path, n);
                        break;
                }
            }
            void Add(string path, double value) => samples.Add(new MetricSample
            {
                Name = path.Length == 0 ? "value" : path,
                Value = value,
                Type = MetricType.Untyped,
                Source = source,
                Environment = environment,
                ScrapedAt = when,
            });
            Walk(doc.RootElement, "");
            return samples;
        }
    }
}
