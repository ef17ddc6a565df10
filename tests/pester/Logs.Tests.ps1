#Requires -Version 7.4
# Logs (issue 16): ConvertFrom-LogLine in the real pwsh, on piped text and on files (gzip too).

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'ConvertFrom-LogLine' {
    It 'reads piped lines, each format in its own way' {
        $r = '{"level":"error","msg":"db timeout","took_ms":5012}', 'at=info method=GET path=/ status=200', '2024-03-12 10:15:30,123 WARNING queue is full' | ConvertFrom-LogLine
        $r.Format | Should -Be @('Json', 'Logfmt', 'Plain')
        $r.Level | Should -Be @('ERROR', 'INFO', 'WARN')
        $r[0].Fields['took_ms'] | Should -Be '5012'
        ($r | Where-Object Level -eq ERROR).Message | Should -Be 'db timeout'
    }

    It 'reads files by wildcard, gzip included, and names each record''s source' {
        $dir = New-Item -ItemType Directory (Join-Path $TestDrive 'logs')
        Set-Content (Join-Path $dir 'web.log') -Value 'web-1  | 2024-03-12T10:15:30.5Z {"level":"error","msg":"boom"}', 'web-1  | 2024-03-12T10:15:31Z {"level":"info","msg":"ok"}'
        $gz = Join-Path $dir 'old.log.gz'
        $stream = [IO.Compression.GZipStream]::new([IO.File]::Create($gz), [IO.Compression.CompressionLevel]::Fastest)
        $writer = [IO.StreamWriter]::new($stream); $writer.WriteLine('[pod/app-1/app] 2024-03-12T09:00:00Z ERROR disk full'); $writer.Dispose()
        $r = ConvertFrom-LogLine -Path (Join-Path $dir '*')
        $r.Count | Should -Be 3
        ($r | Where-Object Format -eq Compose).Service | Should -Be @('web', 'web')
        ($r | Where-Object Format -eq Kubectl).Pod | Should -Be 'app-1'
        ($r | Where-Object Pod -eq 'app-1').Source | Should -Be $gz
        { ConvertFrom-LogLine -Path (Join-Path $dir 'missing.log') -ErrorAction Stop } | Should -Throw '*missing.log*'
    }

    It 'masks secrets a line carries' {
        $line = '2024-03-12 10:15:30 ERROR connect to postgres://app:hunter2@db:5432/app failed; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig'
        $text = $line | ConvertFrom-LogLine | Format-List * | Out-String
        $text | Should -Not -Match 'hunter2'
        $text | Should -Not -Match 'eyJhbGciOiJIUzI1NiJ9'
        $text | Should -Match 'postgres://app:\*\*\*@db'
    }

    It 'reads in the format it is told, and what does not fit it in its own' {
        $r = 'at=error msg="x y"', 'plain words' | ConvertFrom-LogLine -Format Logfmt
        $r[0].Message | Should -Be 'x y'
        $r[1].Format | Should -Be 'Plain'
    }
}
