#Requires -Version 7.4
# Secrets (issue 6), end to end in pwsh against the sandbox of tests/servers.sh: real PostgreSQL and Redis, and the
# fake Secrets Manager process (tests/OpsRunbook.FakeCloud) at $env:OPSRUNBOOK_SM_ENDPOINT.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'AWS credentials from a web identity' -Skip:(-not $HaveServers) {
    It 'exchanges a GitHub OIDC token at STS inside the module''s own load context and signs with what it gets' {
        # The SDK's chain loads AWSSDK.SecurityToken by name; the module ships it in Dependencies/ and its load context
        # must find it there. The sandbox's fake STS hands out the fake Secrets Manager's keys.
        $config = Get-Content -Raw $SandboxConfig | ConvertFrom-Json -AsHashtable
        $config.Remove('$schema')
        $config.environments.sandbox.aws.Remove('accessKeyId'); $config.environments.sandbox.aws.Remove('secretAccessKey')
        $path = Join-Path $TestDrive 'oidc.json'
        $config | ConvertTo-Json -Depth 32 | Set-Content $path
        $token = Join-Path $TestDrive 'oidc-token'
        Set-Content -Path $token -Value 'eyJhbGciOiJSUzI1NiJ9.pester-oidc.sig' -NoNewline
        $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; Get-SecretRotationStatus sandbox -ConfigPath '$path' -Secret database -ErrorAction Stop | ForEach-Object { `$_.SecretId + '|' + `$_.State }"
        $env:AWS_WEB_IDENTITY_TOKEN_FILE = $token; $env:AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/deploy'
        $env:AWS_ROLE_SESSION_NAME = 'pester'; $env:AWS_ENDPOINT_URL_STS = $env:OPSRUNBOOK_STS_ENDPOINT
        try { $out = pwsh -NoProfile -NonInteractive -Command $script 2>&1 }
        finally { Remove-Item env:AWS_WEB_IDENTITY_TOKEN_FILE, env:AWS_ROLE_ARN, env:AWS_ROLE_SESSION_NAME, env:AWS_ENDPOINT_URL_STS }
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        ($out -join "`n") | Should -Match '^sandbox/database\|(Current|DueSoon|Overdue)'
    }
}

Describe 'New-RandomSecret' {
    It 'returns a SecureString by default' {
        $value = New-RandomSecret
        $value | Should -BeOfType [securestring]
        $value.Length | Should -Be 32
    }

    It 'returns URL-safe text only with -AsPlainText' {
        $values = New-RandomSecret -Length 48 -Count 5 -AsPlainText
        $values.Count | Should -Be 5
        foreach ($v in $values) {
            $v.Length | Should -Be 48
            [uri]::EscapeDataString($v) | Should -BeExactly $v
        }
        ($values | Sort-Object -Unique).Count | Should -Be 5
    }

    It 'refuses a policy that leaves too few characters' {
        { New-RandomSecret -ExcludeCharacters 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789' -ErrorAction Stop } |
            Should -Throw '*leave at least 16*'
    }
}

Describe 'Secret rotation in the sandbox' -Skip:(-not $HaveServers) {
    It 'reports rotation status from the policy in runbook.json' {
        $status = Get-SecretRotationStatus sandbox -ConfigPath $SandboxConfig
        $status.Name | Should -Be @('database', 'redis', 'jwt')
        ($status | Where-Object Name -EQ 'jwt').PolicyDays | Should -Be 90
        ($status | Where-Object Name -EQ 'database').PolicySource | Should -Be 'runbook.json'
        $status.State | Should -Not -Contain 'Unknown'
    }

    It 'plans under -WhatIf and changes nothing' {
        $before = (Get-SecretRotationStatus sandbox -ConfigPath $SandboxConfig -Secret database).LastRotated
        Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret database -WhatIf | Should -BeNullOrEmpty
        (Get-SecretRotationStatus sandbox -ConfigPath $SandboxConfig -Secret database).LastRotated | Should -Be $before
    }

    It 'rotates the database secret and the environment stays healthy' {
        $results = Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret database -Force |
            Invoke-HealthCheck -ConfigPath $SandboxConfig
        $results | Should -Not -BeNullOrEmpty
        $results | Where-Object Status -NE 'Healthy' | Should -BeNullOrEmpty
        (Get-SecretRotationStatus sandbox -ConfigPath $SandboxConfig -Secret database).State | Should -Be 'Current'
    }

    It 'rotates Redis and the JWT secret, with every step reported' {
        $results = Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret redis, jwt -Force
        $results.Count | Should -Be 2
        $results.Status | Should -Be @('Rotated', 'Rotated')
        ($results | Where-Object SecretId -EQ 'sandbox/redis').Strategy | Should -Be 'RedisAcl'
        ($results | Where-Object SecretId -EQ 'sandbox/redis').Steps.Step | Should -Contain 'Cleanup'
    }

    It 'never writes a secret value to any stream' {
        $out = Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret database -Force -Verbose 4>&1 3>&1 2>&1 | Out-String
        $out += Get-SecretRotationStatus sandbox -ConfigPath $SandboxConfig | Format-List * | Out-String
        # The sandbox's first values (now AWSPREVIOUS or older) are known canaries.
        $seed = Get-Content -Raw -Path (Join-Path $Settings.OPSRUNBOOK_SERVERS_DIR 'secrets-seed.json') | ConvertFrom-Json
        foreach ($value in $seed.secrets.PSObject.Properties.Value) {
            $password = if ($value -match '://[^:]*:([^@]+)@') { $Matches[1] } else { $value }
            $out | Should -Not -Match ([regex]::Escape($password))
        }
        $out | Should -Not -Match 'postgres://sandbox_app:[^*]'
        $out | Should -Not -Match 'redis://sandbox_app:[^*]'
    }

    It 'names the known secrets when asked for one that is not configured' {
        { Invoke-SecretRotation sandbox -ConfigPath $SandboxConfig -Secret stripe -Force -ErrorAction Stop } |
            Should -Throw '*it has database, redis, jwt*'
    }

    It 'writes a metadata-only inventory and refuses values without KMS' {
        $folder = Join-Path $TestDrive 'inventory'
        $export = Export-SecretInventory sandbox -ConfigPath $SandboxConfig -Destination $folder -NamePrefix sandbox/ -Force
        $export.SecretCount | Should -Be 3
        $export.IncludesValues | Should -BeFalse
        $doc = Get-Content -Raw -Path $export.Destination | ConvertFrom-Json
        $doc.secrets.name | Should -Be @('sandbox/database', 'sandbox/jwt', 'sandbox/redis')
        # No value key at all (member enumeration would read a missing key as $null per entry, so look at the keys).
        @($doc.secrets | ForEach-Object { $_.PSObject.Properties.Name }) | Should -Not -Contain 'value'
        (Get-Content -Raw -Path $export.Destination) | Should -Not -Match '"value"\s*:' 
        { Export-SecretInventory sandbox -ConfigPath $SandboxConfig -Destination $folder -IncludeValues -Force -ErrorAction Stop } |
            Should -Throw '*KmsKeyId*'
    }
}
