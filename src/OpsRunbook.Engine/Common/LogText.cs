using System.Text;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Common;

/// <summary>
/// Text that came from outside (a health endpoint's body, a server's error, a provider's message) made inert where a CI
/// runner reads it: a check of an attacker's endpoint must not set a pipeline variable or add a mask. Applied where such
/// text enters a result (HealthCheckResult.Reason, every ReportRow, error messages), so every format and every stream
/// that shows it is safe, and nothing that only repeats it has to remember.
/// </summary>
/// <remarks>
/// What the runners act on (their own source):
/// <list type="bullet">
/// <item>Azure Pipelines: <c>##vso[</c> anywhere in a line of stdout or stderr, case-sensitive
/// (microsoft/azure-pipelines-agent, src/Microsoft.VisualStudio.Services.Agent/Command.cs: <c>message.IndexOf("##vso[")</c>).</item>
/// <item>GitHub Actions: <c>##[</c> anywhere in a line (actions/runner, src/Runner.Common/ActionCommand.cs, TryParse:
/// <c>message.IndexOf("##[")</c>), and a line whose first non-blank characters are <c>::</c> (TryParseV2:
/// <c>message.TrimStart().StartsWith("::")</c>).</item>
/// </list>
/// Both are broken visibly: <c>##vso[</c> becomes <c># #vso[</c>, a leading <c>::</c> becomes <c>: :</c>. Runners read a
/// line up to CR or LF, so a line starts after either.
/// </remarks>
public static partial class LogText
{
    /// <summary><paramref name="text"/> with every runner command broken; the same string when it holds none.</summary>
    public static string Inert(string text)
    {
        if (string.IsNullOrEmpty(text) || (!text.Contains("##", StringComparison.Ordinal) && !text.Contains("::", StringComparison.Ordinal))) return text;
        text = HashCommand().Replace(text, "# #");
        return LeadingColons().Replace(text, "$1$2: :");
    }

    /// <summary>
    /// <paramref name="text"/> with what XML 1.0 cannot hold replaced by U+FFFD: C0 controls other than tab, LF and CR,
    /// U+FFFE/U+FFFF and unpaired surrogates (XML 1.0 §2.2 Char). A JUnit file with one of them is not XML, and the
    /// writer threw before writing anything.
    /// </summary>
    public static string XmlSafe(string text)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            bool ok;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb?.Append(c).Append(text[i + 1]);
                i++;
                continue;
            }
            ok = c is '\t' or '\n' or '\r' || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
            if (ok)
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append('\uFFFD');
        }
        return sb?.ToString() ?? text;
    }

    [GeneratedRegex(@"##(?=vso\[|\[)")]
    private static partial Regex HashCommand();

    [GeneratedRegex(@"(^|[\r\n])([^\S\r\n]*)::")]
    private static partial Regex LeadingColons();
}
