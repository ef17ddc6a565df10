using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Writes the environments of runbook.json (and their systems) as a CI job matrix: one job per environment, or several environments per job.
/// </summary>
/// <remarks>
/// Export-RunbookMatrix is the plan step of a fan-out on the CI system's own engine: it reads the environments (all,
/// or those matching -Environment patterns; piped Get-RunbookEnvironment output brings environments of several
/// runbook.json files, one per system) and returns a RunbookMatrix. Inside GitHub Actions it writes the matrix to
/// $GITHUB_OUTPUT as matrix={"include":[...]} (and matrix-jobs=N) for strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }};
/// inside Azure Pipelines it sets the output variable matrix for strategy.matrix: $[ dependencies.plan.outputs['plan.matrix'] ].
/// Each entry has name, environment, system (with -System) and config (when the environments come from more than one
/// file). A GitHub matrix runs at most 256 jobs: a larger one is refused with the -PerJob that fits, which puts
/// several environments of one system in a job (environment is then a comma-separated list the job checks in one
/// bounded-parallel call).
/// </remarks>
/// <example>
/// <code>Export-RunbookMatrix</code>
/// <para>A job per environment of ./runbook.json; in a GitHub Actions plan job, the matrix output for the next job.</para>
/// </example>
/// <example>
/// <code>Export-RunbookMatrix -Environment prod* -PerJob 4 -System</code>
/// <para>The production environments, four to a job, each entry naming its system.</para>
/// </example>
/// <example>
/// <code>@(Get-RunbookEnvironment -ConfigPath ./shop/runbook.json; Get-RunbookEnvironment -ConfigPath ./billing/runbook.json) | Export-RunbookMatrix -System</code>
/// <para>The environments of two systems' runbook.json files in one matrix (each entry names its file).</para>
/// </example>
[Cmdlet(VerbsData.Export, "RunbookMatrix", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Config")]
[OutputType(typeof(RunbookMatrix))]
public sealed class ExportRunbookMatrixCommand : OpsRunbookCmdlet
{
    private readonly List<(string Environment, string System, string ConfigPath)> _environments = [];

    /// <summary>Environments to include (wildcards allowed). Default: all of runbook.json.</summary>
    [Parameter(Position = 0, ParameterSetName = "Config")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    /// <summary>Environments from Get-RunbookEnvironment (of one or more runbook.json files).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Pipeline")]
    public RunbookEnvironmentInfo[]? InputObject { get; set; }

    /// <summary>Name each entry's system (for a matrix over several systems, or a job name that says it).</summary>
    [Parameter]
    public SwitchParameter System { get; set; }

    /// <summary>Environments per job (default 1); environments of one system and file share a job.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int PerJob { get; set; } = 1;

    /// <summary>Do not write the matrix to $GITHUB_OUTPUT or an Azure output variable, even when running there.</summary>
    [Parameter]
    public SwitchParameter NoCiIntegration { get; set; }

    /// <summary>Collects the environments.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Pipeline")
        {
            foreach (var info in InputObject ?? []) _environments.Add((info.Environment, info.System, info.ConfigPath));
            return;
        }
        var config = LoadConfig();
        try
        {
            foreach (var env in config.FindEnvironments(Environment?.Where(e => !string.IsNullOrEmpty(e)).ToArray()))
            {
                _environments.Add((env.Name, config.System, config.Path));
            }
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
        }
    }

    /// <summary>Builds the matrix and hands it to the CI system.</summary>
    protected override void EndProcessing()
    {
        RunbookMatrix matrix;
        try
        {
            matrix = RunbookMatrix.Build(_environments, PerJob, System);
        }
        catch (MatrixTooLargeException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.MatrixTooLarge, ErrorCategory.LimitsExceeded, _environments.Count));
            return;
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
            return;
        }
        var ci = NoCiIntegration ? CiSystem.None : CiIntegration.Detect(global::System.Environment.GetEnvironmentVariable);
        if (ci == CiSystem.GitHubActions && global::System.Environment.GetEnvironmentVariable("GITHUB_OUTPUT") is { Length: > 0 } output
            && ShouldProcess(output, $"Write the matrix of {matrix.Jobs.Count} jobs to the step outputs"))
        {
            File.AppendAllText(output, CiIntegration.GitHubOutputs(new (string Name, string Value)[] { ("matrix", matrix.GitHub), ("matrix-jobs", matrix.Jobs.Count.ToString(global::System.Globalization.CultureInfo.InvariantCulture)) }));
        }
        else if (ci == CiSystem.AzurePipelines && ShouldProcess("Azure Pipelines", $"Set the output variable matrix ({matrix.Jobs.Count} jobs)"))
        {
            Host.UI.WriteLine($"##vso[task.setvariable variable=matrix;isOutput=true]{CiIntegration.AzureData(matrix.Azure)}");
            Host.UI.WriteLine($"##vso[task.setvariable variable=matrixJobs;isOutput=true]{matrix.Jobs.Count}");
        }
        WriteObject(matrix);
    }
}
