using System.Management.Automation;
using System.Security;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell.Cmdlets;

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
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
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
