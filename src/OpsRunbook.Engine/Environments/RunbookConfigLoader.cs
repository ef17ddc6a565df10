using System.Text;
using System.Text.Json;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Environments;

/// <summary>
/// Finds and reads <c>runbook.json</c>. Every problem is reported with file, line and field; unknown fields are
/// errors (a typo must not silently drop a check); literal passwords are refused unless the file says
/// <c>"allowPlaintextSecrets": true</c>, and are never echoed back.
/// </summary>
public static partial class RunbookConfigLoader
{
    /// <summary>The file name searched for in the current directory.</summary>
    public const string FileName = "runbook.json";

    /// <summary>The environment variable that points at a configuration file.</summary>
    public const string ConfigVariable = "OPSRUNBOOK_CONFIG";

    /// <summary>
    /// The file to use: <paramref name="explicitPath"/>, else <c>$OPSRUNBOOK_CONFIG</c>, else <c>runbook.json</c>
    /// in <paramref name="currentDirectory"/>. Throws saying all three places when none exists.
    /// </summary>
    public static string Locate(string? explicitPath, string currentDirectory, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var full = System.IO.Path.GetFullPath(explicitPath, currentDirectory);
            return File.Exists(full) ? full : throw new RunbookConfigException($"{full}: the configuration file does not exist.", full, null, null);
        }
        if (environment(ConfigVariable) is { Length: > 0 } fromEnv)
        {
            var full = System.IO.Path.GetFullPath(fromEnv, currentDirectory);
            return File.Exists(full) ? full : throw new RunbookConfigException($"{full}: the file named by ${ConfigVariable} does not exist.", full, null, null);
        }
        var local = System.IO.Path.Combine(currentDirectory, FileName);
        return File.Exists(local)
            ? local
            : throw new RunbookConfigException(
                $"No runbook configuration found: pass -ConfigPath, set ${ConfigVariable}, or create {FileName} in {currentDirectory}.",
                null, null, null);
    }

    /// <summary>Environment names for tab completion: never throws, returns none when no valid file is found.</summary>
    public static IReadOnlyList<string> TryListEnvironmentNames(string? explicitPath, string currentDirectory) =>
        TryLoad(explicitPath, currentDirectory)?.Environments.Select(e => e.Name).ToList() ?? [];

    /// <summary>The configuration a command would use, or null when there is none or it does not load (for completion).</summary>
    public static RunbookConfig? TryLoad(string? explicitPath, string currentDirectory)
    {
        try
        {
            return Load(Locate(explicitPath, currentDirectory));
        }
        catch (RunbookConfigException)
        {
            return null;
        }
    }

    /// <summary>Reads and validates a file.</summary>
    public static RunbookConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RunbookConfigException($"{path}: cannot read the configuration file: {ex.Message}", path, null, null, ex);
        }
        return Parse(text, path);
    }

    /// <summary>Parses configuration text; <paramref name="path"/> is used in messages.</summary>
    public static RunbookConfig Parse(string json, string path)
    {
        var options = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, options);
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? 0) + 1;
            var col = (int)(ex.BytePositionInLine ?? 0) + 1;
            throw new RunbookConfigException($"{path}:{line}:{col}: invalid JSON: {FirstSentence(ex.Message)}", path, line, null, ex);
        }
        using (doc)
        {
            var reader = new Reader(path, LineIndex.Build(json));
            return reader.ReadRoot(doc.RootElement);
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>Maps field paths to the line they start on.</summary>
    internal sealed class LineIndex
    {
        private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

        public int? LineOf(string fieldPath)
        {
            // Walk up to the nearest field that has a recorded line.
            var p = fieldPath;
            while (p.Length > 0)
            {
                if (_lines.TryGetValue(p, out var line)) return line;
                var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
                if (cut <= 0) break;
                p = p[..cut];
            }
            return _lines.TryGetValue(p, out var l) ? l : null;
        }

        public static LineIndex Build(string json)
        {
            var index = new LineIndex();
            var bytes = Encoding.UTF8.GetBytes(json);
            var newlines = new List<int>();
            for (var i = 0; i < bytes.Length; i++) if (bytes[i] == (byte)'\n') newlines.Add(i);
            int LineAt(long offset)
            {
                var pos = newlines.BinarySearch((int)offset);
                return (pos < 0 ? ~pos : pos) + 1;
            }
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var stack = new Stack<(string path, bool isArray, int next)>();
            string? pendingName = null;
            string Child()
            {
                if (stack.Count == 0) return "";
                var (path, isArray, next) = stack.Pop();
                string child;
                if (isArray)
                {
                    child = $"{path}[{next}]";
                    stack.Push((path, true, next + 1));
                }
                else
                {
                    child = path.Length == 0 ? pendingName! : path + "." + pendingName;
                    stack.Push((path, false, next));
                }
                return child;
            }
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingName = reader.GetString();
                        var (p, _, _) = stack.Peek();
                        index._lines.TryAdd(p.Length == 0 ? pendingName! : p + "." + pendingName, LineAt(reader.TokenStartIndex));
                        break;
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        var childPath = Child();
                        index._lines.TryAdd(childPath, LineAt(reader.TokenStartIndex));
                        stack.Push((childPath, reader.TokenType == JsonTokenType.StartArray, 0));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.Pop();
                        break;
                    default:
                        index._lines.TryAdd(Child(), LineAt(reader.TokenStartIndex));
                        break;
                }
            }
            return index;
        }
    }

    private sealed partial class Reader(string file, LineIndex lines)
    {
        private bool _allowPlaintext;

        private RunbookConfigException Error(string field, string what)
        {
            var line = lines.LineOf(field);
            var where = line is null ? file : $"{file}:{line}";
            return new RunbookConfigException($"{where}: {field}: {what}", file, line, field);
        }

        public RunbookConfig ReadRoot(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object) throw Error("", "the file must contain a JSON object");
            Known(root, "", "$schema", "system", "allowPlaintextSecrets", "environments");
            _allowPlaintext = Bool(root, "", "allowPlaintextSecrets") ?? false;
            var system = String(root, "", "system", required: true)!;
            if (!root.TryGetProperty("environments", out var envs) || envs.ValueKind != JsonValueKind.Object)
            {
                throw Error("environments", "an object of environments is required, e.g. \"environments\": { \"production\": { ... } }");
            }
            var list = new List<EnvironmentConfig>();
            foreach (var env in envs.EnumerateObject())
            {
                var envPath = "environments." + env.Name;
                if (list.Any(e => string.Equals(e.Name, env.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    throw Error(envPath, $"environment '{env.Name}' is defined twice (names are case-insensitive)");
                }
                list.Add(ReadEnvironment(env.Value, envPath, env.Name, system));
            }
            if (list.Count == 0) throw Error("environments", "define at least one environment");
            return new RunbookConfig { Path = file, System = system, AllowPlaintextSecrets = _allowPlaintext, Environments = list };
        }

        private EnvironmentConfig ReadEnvironment(JsonElement e, string path, string name, string system)
        {
            RequireObject(e, path);
            Known(e, path, "endpoints", "metrics", "aws", "database", "redis", "backup", "deploy", "thresholdProfile", "thresholds", "notify", "incidents", "secrets");
            var profile = String(e, path, "thresholdProfile");
            if (profile is not null) Spelled(profile, path + ".thresholdProfile", "a built-in profile", [.. Metrics.ThresholdProfile.BuiltIn.Keys]);
            var endpoints = new List<EndpointConfig>();
            if (e.TryGetProperty("endpoints", out var eps))
            {
                if (eps.ValueKind != JsonValueKind.Array) throw Error(path + ".endpoints", "must be an array of endpoints");
                var i = 0;
                foreach (var ep in eps.EnumerateArray())
                {
                    var epPath = $"{path}.endpoints[{i++}]";
                    var endpoint = ReadEndpoint(ep, epPath);
                    if (endpoints.Any(x => string.Equals(x.Name, endpoint.Name, StringComparison.OrdinalIgnoreCase)))
                    {
                        throw Error(epPath + ".name", $"endpoint name '{endpoint.Name}' is used twice in this environment");
                    }
                    endpoints.Add(endpoint);
                }
            }
            var metrics = new List<MetricsEndpointConfig>();
            if (e.TryGetProperty("metrics", out var ms))
            {
                if (ms.ValueKind != JsonValueKind.Array) throw Error(path + ".metrics", "must be an array of metrics endpoints");
                var i = 0;
                foreach (var m in ms.EnumerateArray())
                {
                    var mp = $"{path}.metrics[{i++}]";
                    RequireObject(m, mp);
                    Known(m, mp, "name", "url", "timeout");
                    var url = String(m, mp, "url", required: true)!;
                    if (!IsHttpUrl(url))
                    {
                        throw Error(mp + ".url", "a metrics endpoint is an http:// or https:// URL, e.g. https://app.example/metrics");
                    }
                    metrics.Add(new MetricsEndpointConfig(String(m, mp, "name", required: true)!, url, DurationOf(m, mp, "timeout")));
                }
            }
            return new EnvironmentConfig
            {
                Name = name,
                System = system,
                Endpoints = endpoints,
                Metrics = metrics,
                Aws = e.TryGetProperty("aws", out var aws) ? ReadAws(aws, path + ".aws") : null,
                Database = e.TryGetProperty("database", out var db) ? ReadDatabase(db, path + ".database") : null,
                Redis = e.TryGetProperty("redis", out var r) ? ReadRedis(r, path + ".redis") : null,
                Backup = e.TryGetProperty("backup", out var b) ? ReadBackup(b, path + ".backup") : null,
                Deploy = e.TryGetProperty("deploy", out var d) ? ReadDeploy(d, path + ".deploy") : null,
                Thresholds = e.TryGetProperty("thresholds", out var t) ? ReadThresholds(t, path + ".thresholds") : new Dictionary<string, ThresholdConfig>(),
                ThresholdProfile = profile,
                Notify = e.TryGetProperty("notify", out var n) ? ReadNotify(n, path + ".notify") : [],
                Incidents = e.TryGetProperty("incidents", out var inc) ? ReadIncidents(inc, path + ".incidents") : null,
                Secrets = e.TryGetProperty("secrets", out var sec) ? ReadSecrets(sec, path + ".secrets") : [],
            };
        }

        private List<ManagedSecretConfig> ReadSecrets(JsonElement s, string path)
        {
            RequireObject(s, path);
            var list = new List<ManagedSecretConfig>();
            foreach (var p in s.EnumerateObject())
            {
                var sp = path + "." + p.Name;
                RequireObject(p.Value, sp);
                Known(p.Value, sp, "secretId", "strategy", "adminSecret", "rotationDays", "length", "excludeCharacters", "includePunctuation", "field", "persist", "platformVariable");
                var strategyText = String(p.Value, sp, "strategy") ?? "auto";
                var strategy = Spelled(strategyText, sp + ".strategy", "a strategy", "auto", "postgres-single-user", "postgres-alternating-users", "redis-acl", "redis-requirepass", "generic") switch
                {
                    "postgres-single-user" => Secrets.Rotation.RotationStrategy.PostgresSingleUser,
                    "postgres-alternating-users" => Secrets.Rotation.RotationStrategy.PostgresAlternatingUsers,
                    "redis-acl" => Secrets.Rotation.RotationStrategy.RedisAcl,
                    "redis-requirepass" => Secrets.Rotation.RotationStrategy.RedisRequirePass,
                    "generic" => Secrets.Rotation.RotationStrategy.Generic,
                    _ => Secrets.Rotation.RotationStrategy.Auto,
                };
                var admin = String(p.Value, sp, "adminSecret");
                if (strategy == Secrets.Rotation.RotationStrategy.PostgresAlternatingUsers && admin is null)
                {
                    throw Error(sp + ".adminSecret", "postgres-alternating-users needs adminSecret: the Secrets Manager id of a login with CREATEROLE");
                }
                var policy = new Secrets.Rotation.PasswordPolicy
                {
                    Length = PositiveInt(p.Value, sp, "length") ?? 32,
                    ExcludeCharacters = String(p.Value, sp, "excludeCharacters") ?? "",
                    IncludePunctuation = Bool(p.Value, sp, "includePunctuation") ?? false,
                };
                try
                {
                    policy.Validate();
                }
                catch (ArgumentException ex)
                {
                    throw Error(sp, ex.Message);
                }
                list.Add(new ManagedSecretConfig
                {
                    Name = p.Name,
                    SecretId = String(p.Value, sp, "secretId", required: true)!,
                    Strategy = strategy,
                    AdminSecretId = admin,
                    RotationDays = PositiveInt(p.Value, sp, "rotationDays"),
                    Password = policy,
                    Field = String(p.Value, sp, "field"),
                    Persist = Bool(p.Value, sp, "persist") ?? true,
                    PlatformVariable = String(p.Value, sp, "platformVariable"),
                });
            }
            return list;
        }

        private EndpointConfig ReadEndpoint(JsonElement ep, string path)
        {
            RequireObject(ep, path);
            Known(ep, path, "name", "kind", "url", "timeout", "degradedAfter", "method", "expect", "skipCertificateCheck", "checkCertificate", "writeProbe", "caCertificate", "tags");
            var name = String(ep, path, "name", required: true)!;
            var url = String(ep, path, "url", required: true)!;
            if (url.Any(char.IsWhiteSpace)) throw Error(path + ".url", "must not contain blanks; write a space in a URL as %20");
            TargetKind kind;
            try
            {
                kind = HealthCheckTarget.KindFromAddress(EnvTemplate.Sketch(url));
            }
            catch (ArgumentException ex)
            {
                throw Error(path + ".url", ex.Message);
            }
            if (kind is not (TargetKind.Http or TargetKind.Tcp or TargetKind.Dns or TargetKind.S3 or TargetKind.SecretsManager))
            {
                throw Error(path + ".url", "endpoints are http(s)://, tcp://, dns://, s3:// or secretsmanager:// addresses; put databases under \"database\" and Redis under \"redis\"");
            }
            if (String(ep, path, "kind") is { } declared)
            {
                var declaredKind = Spelled(declared, path + ".kind", "an endpoint kind", "http", "tcp", "dns", "jwks", "s3", "secretsmanager") switch
                {
                    "http" => TargetKind.Http,
                    "tcp" => TargetKind.Tcp,
                    "dns" => TargetKind.Dns,
                    "jwks" => TargetKind.Jwks,
                    "s3" => TargetKind.S3,
                    _ => TargetKind.SecretsManager,
                };
                var fits = declaredKind == kind || (declaredKind == TargetKind.Jwks && kind == TargetKind.Http);
                if (!fits) throw Error(path + ".kind", $"kind '{declared}' does not fit the URL's scheme");
                kind = declaredKind;
            }
            if (SecretValue.ContainsCredential(url) && !EnvTemplate.HasVariables(url) && !_allowPlaintext)
            {
                throw Error(path + ".url", "holds a password; endpoints are checked without credentials in the URL (or set \"allowPlaintextSecrets\": true for a throw-away sandbox)");
            }
            var expect = Strings(ep, path, "expect");
            for (var i = 0; i < expect.Count; i++)
            {
                try
                {
                    Health.Conditions.ConditionParser.Parse(expect[i]);
                }
                catch (Health.Conditions.ConditionSyntaxException ex)
                {
                    throw Error($"{path}.expect[{i}]", ex.Message);
                }
            }
            var method = String(ep, path, "method") ?? "GET";
            if (kind is TargetKind.Http or TargetKind.Jwks)
            {
                Spelled(method, path + ".method", "a health-check method", "GET", "HEAD", "POST", "OPTIONS", "get", "head", "post", "options");
            }
            return new EndpointConfig
            {
                Name = name,
                Url = url,
                Kind = kind,
                Timeout = DurationOf(ep, path, "timeout"),
                DegradedAfter = DurationOf(ep, path, "degradedAfter"),
                Method = method.ToUpperInvariant(),
                Expect = expect,
                SkipCertificateCheck = Bool(ep, path, "skipCertificateCheck") ?? false,
                CheckCertificate = Bool(ep, path, "checkCertificate") ?? false,
                WriteProbe = Bool(ep, path, "writeProbe") ?? false,
                CaCertificate = String(ep, path, "caCertificate"),
                Tags = Strings(ep, path, "tags"),
            };
        }

        private Clients.Aws.AwsSettings ReadAws(JsonElement a, string path)
        {
            RequireObject(a, path);
            Known(a, path, "region", "profile", "accessKeyId", "secretAccessKey", "sessionToken", "s3Endpoint", "s3Compatible", "secretsManagerEndpoint", "requestTimeout");
            string? Url(string name)
            {
                var v = String(a, path, name);
                if (v is not null && !IsHttpUrl(v)) throw Error(path + "." + name, "must be an http:// or https:// URL such as https://s3.example.com");
                return v; // ${VAR} expands when a client is made, as endpoint URLs do

            }
            return new Clients.Aws.AwsSettings
            {
                Region = String(a, path, "region"),
                Profile = String(a, path, "profile"),
                AccessKeyId = Secret(a, path, "accessKeyId"),
                SecretAccessKey = Secret(a, path, "secretAccessKey", alwaysSecret: true),
                SessionToken = Secret(a, path, "sessionToken", alwaysSecret: true),
                S3Endpoint = Url("s3Endpoint"),
                S3Compatible = Bool(a, path, "s3Compatible"),
                SecretsManagerEndpoint = Url("secretsManagerEndpoint"),
                RequestTimeout = DurationOf(a, path, "requestTimeout"),
            };
        }

        private DatabaseConfig ReadDatabase(JsonElement db, string path)
        {
            RequireObject(db, path);
            Known(db, path, "connection", "replica", "timeout", "caCertificate", "fly");
            return new DatabaseConfig
            {
                Connection = Secret(db, path, "connection", required: true, shape: PostgresShape)!,
                Replica = Secret(db, path, "replica", shape: PostgresShape),
                Timeout = DurationOf(db, path, "timeout"),
                CaCertificate = String(db, path, "caCertificate"),
                Fly = db.TryGetProperty("fly", out var fly) ? ReadFlyPostgres(fly, path + ".fly") : null,
            };
        }

        private FlyPostgresConfig ReadFlyPostgres(JsonElement f, string path)
        {
            RequireObject(f, path);
            Known(f, path, "app", "token", "machinesApi");
            var api = String(f, path, "machinesApi");
            if (api is not null && !IsHttpUrl(api)) throw Error(path + ".machinesApi", "must be an http:// or https:// URL such as https://api.machines.dev/v1");
            return new FlyPostgresConfig { App = String(f, path, "app", required: true)!, Token = Secret(f, path, "token", alwaysSecret: true), MachinesApi = api };
        }

        private RedisConfig ReadRedis(JsonElement r, string path)
        {
            RequireObject(r, path);
            Known(r, path, "connection", "timeout", "caCertificate");
            return new RedisConfig
            {
                Connection = Secret(r, path, "connection", required: true, shape: RedisShape)!,
                Timeout = DurationOf(r, path, "timeout"),
                CaCertificate = String(r, path, "caCertificate"),
            };
        }

        private BackupConfig ReadBackup(JsonElement b, string path)
        {
            RequireObject(b, path);
            Known(b, path, "destination", "retention", "rto");
            int? days = null, count = null;
            if (b.TryGetProperty("retention", out var ret))
            {
                RequireObject(ret, path + ".retention");
                Known(ret, path + ".retention", "days", "count");
                days = PositiveInt(ret, path + ".retention", "days");
                count = PositiveInt(ret, path + ".retention", "count");
            }
            return new BackupConfig { Destination = String(b, path, "destination", required: true)!, RetentionDays = days, RetentionCount = count, Rto = DurationOf(b, path, "rto") };
        }

        private static readonly Dictionary<string, string[]> DeploySettings = new(StringComparer.OrdinalIgnoreCase)
        {
            ["fly"] = ["app", "org", "region", "machinesApi", "graphqlApi"],
            ["railway"] = ["project", "service", "environment", "tokenKind", "api"],
            ["compose"] = ["file", "project", "service", "imageVariable", "docker"],
            ["kubernetes"] = ["context", "namespace", "deployment", "kubeconfig", "server", "kubectl", "secret"],
        };

        private DeployConfig ReadDeploy(JsonElement d, string path)
        {
            RequireObject(d, path);
            var provider = Spelled(String(d, path, "provider", required: true)!, path + ".provider", "a known provider", [.. DeploySettings.Keys]);
            var keys = DeploySettings[provider];
            Known(d, path, ["provider", "token", .. keys]);
            if (provider == "railway" && String(d, path, "tokenKind") is { } tokenKind) Spelled(tokenKind, path + ".tokenKind", "a Railway token kind", "account", "team", "project");
            var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var k in keys)
            {
                if (String(d, path, k) is { } v) settings[k] = v;
            }
            return new DeployConfig { Provider = provider.ToLowerInvariant(), Settings = settings, Token = Secret(d, path, "token", alwaysSecret: true) };
        }

        private Dictionary<string, ThresholdConfig> ReadThresholds(JsonElement t, string path)
        {
            RequireObject(t, path);
            var result = new Dictionary<string, ThresholdConfig>(StringComparer.OrdinalIgnoreCase);
            foreach (var p in t.EnumerateObject())
            {
                var tp = path + "." + p.Name;
                RequireObject(p.Value, tp);
                Known(p.Value, tp, "warning", "critical", "direction");
                var w = Number(p.Value, tp, "warning");
                var c = Number(p.Value, tp, "critical");
                if (w is null && c is null) throw Error(tp, "give a warning level, a critical level, or both");
                var direction = String(p.Value, tp, "direction") ?? "above";
                if (direction is not ("above" or "below")) throw Error(tp + ".direction", "must be \"above\" (higher is worse) or \"below\" (lower is worse)");
                result[p.Name] = new ThresholdConfig(w, c, direction == "below");
            }
            return result;
        }

        private IncidentsConfig ReadIncidents(JsonElement i, string path)
        {
            RequireObject(i, path);
            Known(i, path, "path", "profile");
            var profile = String(i, path, "profile");
            if (profile is not null) Spelled(profile, path + ".profile", "an incident profile", [.. Incidents.IncidentProfile.BuiltIn.Select(p => p.Name)]);
            var folder = String(i, path, "path");
            if (folder is { Length: 0 }) throw Error(path + ".path", "must not be empty: a folder, or s3://bucket/prefix/ (leave it out for .opsrunbook/incidents beside runbook.json)");
            if (folder is not null && folder.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    Health.Checks.S3Check.Parse(folder.EndsWith('/') ? folder : folder + "/");
                }
                catch (ArgumentException ex)
                {
                    throw Error(path + ".path", ex.Message);
                }
            }
            return new IncidentsConfig(folder, profile);
        }

        private List<NotifyTarget> ReadNotify(JsonElement n, string path)
        {
            RequireObject(n, path);
            Known(n, path, "slack", "teams", "webhook", "pagerduty");
            var result = new List<NotifyTarget>();
            foreach (var p in n.EnumerateObject())
            {
                var field = path + "." + p.Name;
                var channel = p.Name switch
                {
                    "slack" => Notify.NotificationChannel.Slack,
                    "teams" => Notify.NotificationChannel.Teams,
                    "webhook" => Notify.NotificationChannel.Webhook,
                    _ => Notify.NotificationChannel.PagerDuty,
                };
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    result.Add(new NotifyTarget(channel, Secret(n, path, p.Name, alwaysSecret: true)!));
                    continue;
                }
                RequireObject(p.Value, field);
                if (channel == Notify.NotificationChannel.PagerDuty)
                {
                    Known(p.Value, field, "routingKey", "changeRoutingKey", "endpoint");
                    var endpoint = String(p.Value, field, "endpoint");
                    if (endpoint is not null && !IsHttpUrl(endpoint)) throw Error(field + ".endpoint", "must be an http:// or https:// URL such as https://events.eu.pagerduty.com");
                    var routing = Secret(p.Value, field, "routingKey", alwaysSecret: true);
                    var change = Secret(p.Value, field, "changeRoutingKey", alwaysSecret: true);
                    if (routing is null && change is null) throw Error(field, "needs a routingKey (alerts) or a changeRoutingKey (change events), or both");
                    result.Add(new NotifyTarget(channel, routing ?? change!) { ChangeRoutingKey = change, Endpoint = endpoint });
                }
                else
                {
                    Known(p.Value, field, channel == Notify.NotificationChannel.Webhook ? ["url", "secret"] : ["url"]);
                    result.Add(new NotifyTarget(channel, Secret(p.Value, field, "url", required: true, alwaysSecret: true)!)
                    {
                        SigningSecret = channel == Notify.NotificationChannel.Webhook ? Secret(p.Value, field, "secret", alwaysSecret: true) : null,
                    });
                }
            }
            return result;
        }

        // ---- field helpers -------------------------------------------------------------------------------

        private void RequireObject(JsonElement e, string path)
        {
            if (e.ValueKind != JsonValueKind.Object) throw Error(path, $"must be an object, not {Describe(e.ValueKind)}");
        }

        private void Known(JsonElement e, string path, params string[] names)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (!names.Contains(p.Name, StringComparer.Ordinal))
                {
                    var field = path.Length == 0 ? p.Name : path + "." + p.Name;
                    var near = names.FirstOrDefault(n => string.Equals(n, p.Name, StringComparison.OrdinalIgnoreCase))
                        ?? names.OrderBy(n => Distance(n, p.Name)).First();
                    throw Error(field, $"unknown field '{p.Name}' (did you mean '{near}'? allowed here: {string.Join(", ", names)})");
                }
            }
        }

        private string? String(JsonElement e, string path, string name, bool required = false)
        {
            var field = path.Length == 0 ? name : path + "." + name;
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return required ? throw Error(field, "is required") : null;
            }
            if (v.ValueKind != JsonValueKind.String) throw Error(field, $"must be a string, not {Describe(v.ValueKind)}");
            var s = v.GetString()!;
            if (required && s.Trim().Length == 0) throw Error(field, "must not be empty");
            return s;
        }

        /// <summary>An http(s) URL with a host and no blanks, once ${VAR}s are sketched in (runbook.schema.json's httpUrl).</summary>
        private static bool IsHttpUrl(string text) =>
            !text.Any(char.IsWhiteSpace)
            && Uri.TryCreate(EnvTemplate.Sketch(text), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" && u.Host.Length > 0;

        /// <summary>What a literal connection setting must look like: its URL schemes and the parser the client uses.</summary>
        private sealed record ConnectionShape(string[] Schemes, Action<string> Check);

        private static readonly ConnectionShape PostgresShape = new(["postgres", "postgresql"], v => Clients.Postgres.PostgresConnectionString.Parse(v));
        private static readonly ConnectionShape RedisShape = new(["redis", "rediss"], v => Clients.Redis.RedisEndpoint.Parse(v));

        private static readonly System.Text.RegularExpressions.Regex LeadingScheme = new(@"^([A-Za-z][A-Za-z0-9+.-]*)://", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>
        /// A literal connection setting is read by the client's own parser now, not at the first check: a typo in the
        /// scheme (postgress://), a MySQL URL or a bare host name is a configuration error with its line. A template
        /// (${VAR}) has its literal scheme checked; the rest is known only when it expands.
        /// </summary>
        private void CheckShape(string raw, string field, ConnectionShape shape)
        {
            if (EnvTemplate.HasVariables(raw))
            {
                if (LeadingScheme.Match(raw) is { Success: true } m && !shape.Schemes.Contains(m.Groups[1].Value.ToLowerInvariant()))
                {
                    throw Error(field, $"'{m.Groups[1].Value}://' is not a scheme for this connection; use {string.Join(" or ", shape.Schemes.Select(x => x + "://"))}");
                }
                return;
            }
            try
            {
                shape.Check(raw);
            }
            catch (ArgumentException ex)
            {
                throw Error(field, ex.Message);
            }
        }

        private SecretValue? Secret(JsonElement e, string path, string name, bool required = false, bool alwaysSecret = false, ConnectionShape? shape = null)
        {
            var field = path + "." + name;
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return required ? throw Error(field, "is required (a reference such as env:DATABASE_URL or secret:aws:prod/db)") : null;
            }
            if (v.ValueKind != JsonValueKind.String) throw Error(field, $"must be a string, not {Describe(v.ValueKind)}");
            var raw = v.GetString()!;
            if (SecretReference.LooksLikeReference(raw))
            {
                if (!SecretReference.TryParse(raw, out _, out var problem)) throw Error(field, problem!);
                return SecretValue.Parse(raw);
            }
            var value = SecretValue.Parse(raw);
            var plaintext = value.IsPlaintextSecret || (alwaysSecret && !EnvTemplate.HasVariables(raw));
            if (plaintext && !_allowPlaintext)
            {
                // Never echo the value: say where it is and what to do.
                throw Error(field, "holds a plain-text secret. Move it to an environment variable or a secret store and write a reference " +
                    "(env:NAME, secret:aws:ID[#key], vault:VAULT/NAME), or set \"allowPlaintextSecrets\": true at the top of the file for a throw-away sandbox");
            }
            if (shape is not null) CheckShape(raw, field, shape);
            return value;
        }

        private IReadOnlyList<string> Strings(JsonElement e, string path, string name)
        {
            var field = path + "." + name;
            if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return [];
            if (v.ValueKind != JsonValueKind.Array) throw Error(field, "must be an array of strings");
            var list = new List<string>();
            var i = 0;
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String) throw Error($"{field}[{i}]", $"must be a string, not {Describe(item.ValueKind)}");
                list.Add(item.GetString()!);
                i++;
            }
            return list;
        }

        private bool? Bool(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(path.Length == 0 ? name : path + "." + name, $"must be true or false, not {Describe(v.ValueKind)}"),
            };
        }

        private double? Number(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Error(path + "." + name, $"must be a number, not {Describe(v.ValueKind)}");
        }

        private int? PositiveInt(JsonElement e, string path, string name)
        {
            if (!e.TryGetProperty(name, out var v)) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && i > 0) return i;
            throw Error(path + "." + name, "must be a whole number greater than 0");
        }

        private TimeSpan? DurationOf(JsonElement e, string path, string name)
        {
            var field = path + "." + name;
            if (!e.TryGetProperty(name, out var v)) return null;
            var text = v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Number => v.GetRawText(),
                _ => throw Error(field, $"must be a duration such as \"5s\", not {Describe(v.ValueKind)}"),
            };
            // The grammar runbook.schema.json states (one source of truth with it): digits, an optional fraction, a
            // lower-case unit. Duration.TryParse alone also took "5S", ".5s" and "1e3", which the schema refused.
            if (v.ValueKind == JsonValueKind.String && !DurationText().IsMatch(text!))
            {
                throw Error(field, $"'{text}' is not a duration; write digits and a lower-case unit: 500ms, 5s, 10m, 4h or 30d (or a number of seconds)");
            }
            if (!Duration.TryParse(text, out var d, out var problem)) throw Error(field, problem!);
            if (d <= TimeSpan.Zero) throw Error(field, "must be greater than zero");
            return d;
        }

        [System.Text.RegularExpressions.GeneratedRegex("^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)?$")]
        private static partial System.Text.RegularExpressions.Regex DurationText();

        /// <summary>
        /// A value that must be spelled as runbook.schema.json lists it (the schema is what editors check as people type):
        /// returns it; a value that differs only in case or dashes names the spelling to use.
        /// </summary>
        private string Spelled(string value, string field, string what, params string[] allowed)
        {
            if (allowed.Contains(value, StringComparer.Ordinal)) return value;
            static string Loose(string s) => s.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
            var near = allowed.FirstOrDefault(a => Loose(a) == Loose(value));
            throw Error(field, near is not null
                ? $"'{value}' is spelled '{near}' in runbook.json"
                : $"'{value}' is not {what}; use {string.Join(", ", allowed.Distinct(StringComparer.OrdinalIgnoreCase))}");
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };

        private static int Distance(string a, string b)
        {
            a = a.ToLowerInvariant();
            b = b.ToLowerInvariant();
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (var j = 0; j <= b.Length; j++) d[0, j] = j;
            for (var i = 1; i <= a.Length; i++)
                for (var j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }
    }
}
