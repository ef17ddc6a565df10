# Times Get-LogPattern -Path in the real pwsh for LogBenchmark (issue 16): each question 5 times in this session
# (the first run is the one a user typing the command once gets), its counts, and the process's memory.
param([string] $Module, [string] $Plain, [string] $Json)
Import-Module $Module
function Rss([string] $field) { [long](@((Get-Content /proc/self/status) -match "^${field}:")[0] -replace '\D', '') / 1024 }
$questions = @(
    @{ Name = 'plain: errors by type'; Args = @{ Path = $Plain; Preset = 'Error' } }
    @{ Name = 'plain: failed logins by source'; Args = @{ Path = $Plain; Preset = 'FailedLogin' } }
    @{ Name = 'json: errors by type'; Args = @{ Path = $Json; Preset = 'Error'; GroupBy = 'Field:error_type' } }
    @{ Name = 'json: failed logins by source'; Args = @{ Path = $Json; Preset = 'FailedLogin' } }
)
$before = Rss VmRSS
foreach ($q in $questions) {
    $a = $q.Args
    $times = foreach ($round in 1..5) {
        $result = $null
        (Measure-Command { $result = Get-LogPattern @a }).TotalMilliseconds
    }
    $counts = @{}
    foreach ($p in $result) { $counts[$p.Pattern] = $p.Count }
    [pscustomobject]@{ Name = $q.Name; Milliseconds = @($times); Counts = $counts; RssBeforeMB = $before; PeakMB = (Rss VmHWM) } | ConvertTo-Json -Compress -Depth 3
}
