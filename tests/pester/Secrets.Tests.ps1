#Requires -Version 7.4
# Secrets (issue 6), end to end in pwsh against the sandbox of tests/servers.sh: real PostgreSQL and Redis, and the
# fake Secrets Manager process (tests/OpsRunbook.FakeCloud) at $env:OPSRUNBOOK_SM_ENDPOINT.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }

BeforeAll { . (Join-Path $PSScriptRoot 'TestSetup.ps1') }

Describe 'AWS credentials from the SDK''s chain' -Skip:(-not $HaveServers) {
    # Each source runs in a child pwsh whose environment is set before it starts, as a CI job's or a user's is: the
    # SDK reads AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and HOME once per process. The sandbox's fake STS/SSO
    # (tests/OpsRunbook.Engine.Tests/Fakes/FakeAwsIdentity.cs) hands out the fake Secrets Manager's keys, so the answer
    # below proves the whole hop: credentials from the source, then a request Secrets Manager verified.
    BeforeAll {
        function Invoke-WithAwsSource([hashtable] $Environment, [string] $AwsProfile) {
            $config = Get-Content -Raw $SandboxConfig | ConvertFrom-Json -AsHashtable
            $config.Remove('$schema')
            $config.environments.sandbox.aws.Remove('accessKeyId'); $config.environments.sandbox.aws.Remove('secretAccessKey')
            if ($AwsProfile) { $config.environments.sandbox.aws.profile = $AwsProfile }
            $path = Join-Path $TestDrive "aws-$([guid]::NewGuid()).json"
            $config | ConvertTo-Json -Depth 32 | Set-Content $path
            $script = "Import-Module '$ModuleDir/OpsRunbook.psd1'; Get-SecretRotationStatus sandbox -ConfigPath '$path' -Secret database -Verbose -ErrorAction Stop 4>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.VerboseRecord]) { 'VERBOSE: ' + `$_.Message } else { `$_.SecretId + '|' + `$_.State } }"
            $saved = @{}
            foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
            try { $out = pwsh -NoProfile -NonInteractive -Command $script 2>&1 }
            finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Text = ($out -join "`n") }
        }
    }

    It 'exchanges a GitHub OIDC token at STS inside the module''s own load context and signs with what it gets' {
        # The SDK's chain loads AWSSDK.SecurityToken by name; the module ships it in Dependencies/ and its load context
        # must find it there.
        $token = Join-Path $TestDrive 'oidc-token'
        Set-Content -Path $token -Value 'eyJhbGciOiJSUzI1NiJ9.pester-oidc.sig' -NoNewline
        $r = Invoke-WithAwsSource @{
            AWS_WEB_IDENTITY_TOKEN_FILE = $token; AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/deploy'
            AWS_ROLE_SESSION_NAME = 'pester'; AWS_ENDPOINT_URL_STS = $env:OPSRUNBOOK_STS_ENDPOINT
        }
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match '(?m)^sandbox/database\|(Current|DueSoon|Overdue)'
    }

    It 'assumes the role of an assume-role profile named in runbook.json, signing AssumeRole with the source profile' {
        # role_arn + source_profile: STS AssumeRole signed with the source keys (the fake checks that signature).
        $aws = New-Item -ItemType Directory (Join-Path $TestDrive 'assume-role')
        Set-Content (Join-Path $aws 'credentials') "[ci-source]`naws_access_key_id = AKIDSOURCEPROFILE`naws_secret_access_key = source/profile/secret/key/0123456789"
        Set-Content (Join-Path $aws 'config') "[profile deploy]`nrole_arn = arn:aws:iam::123456789012:role/opsrunbook-deploy`nsource_profile = ci-source`nregion = us-east-1"
        $r = Invoke-WithAwsSource -AwsProfile deploy @{
            AWS_CONFIG_FILE = "$aws/config"; AWS_SHARED_CREDENTIALS_FILE = "$aws/credentials"; AWS_ENDPOINT_URL_STS = $env:OPSRUNBOOK_STS_ENDPOINT
        }
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match '(?m)^sandbox/database\|(Current|DueSoon|Overdue)'
        $r.Text | Should -Not -Match 'source/profile/secret'
    }

    It 'uses an SSO profile''s cached `aws sso login` token to get role credentials from the portal' {
        # An sso-session profile as `aws configure sso` writes it; the token cache file is named by the SHA-1 of the
        # session name (aws-sdk-net SSOTokenFileCache.GetCacheFilename). The SDK loads AWSSDK.SSO and AWSSDK.SSOOIDC by
        # name for it. The access token is a secret: it must not show in the verbose stream.
        $home_ = New-Item -ItemType Directory (Join-Path $TestDrive 'sso-home')
        $cache = New-Item -ItemType Directory (Join-Path $home_ '.aws/sso/cache')
        Set-Content (Join-Path $home_ '.aws/config') @"
[profile sso-dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = OpsRunbookReadOnly
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
"@
        $sha1 = [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([Text.Encoding]::UTF8.GetBytes('corp'))).ToLowerInvariant()
        @{ accessToken = 'aoaAAAAAGfakeSsoAccessToken0123456789'; expiresAt = [datetime]::UtcNow.AddHours(1).ToString('yyyy-MM-ddTHH:mm:ssZ')
           region = 'us-east-1'; startUrl = 'https://corp.awsapps.com/start' } | ConvertTo-Json | Set-Content (Join-Path $cache "$sha1.json")
        $r = Invoke-WithAwsSource @{
            HOME = "$home_"; AWS_PROFILE = 'sso-dev'; AWS_ENDPOINT_URL_SSO = $env:OPSRUNBOOK_STS_ENDPOINT
            AWS_CONFIG_FILE = $null; AWS_SHARED_CREDENTIALS_FILE = $null
        }
        $r.ExitCode | Should -Be 0 -Because $r.Text
        $r.Text | Should -Match '(?m)^sandbox/database\|(Current|DueSoon|Overdue)'
        $r.Text | Should -Not -Match 'fakeSsoAccessToken'
    }

    It 'says what to do when the SSO login has expired, without the token' {
        $home_ = New-Item -ItemType Directory (Join-Path $TestDrive 'sso-expired')
        $cache = New-Item -ItemType Directory (Join-Path $home_ '.aws/sso/cache')
        Set-Content (Join-Path $home_ '.aws/config') "[profile old]`nsso_start_url = https://corp.awsapps.com/start`nsso_region = us-east-1`nsso_account_id = 123456789012`nsso_role_name = OpsRunbookReadOnly`nregion = us-east-1"
        $sha1 = [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([Text.Encoding]::UTF8.GetBytes('https://corp.awsapps.com/start'))).ToLowerInvariant()
        @{ accessToken = 'aoaAAAAAGexpiredSsoToken987'; expiresAt = [datetime]::UtcNow.AddHours(-2).ToString('yyyy-MM-ddTHH:mm:ssZ')
           region = 'us-east-1'; startUrl = 'https://corp.awsapps.com/start' } | ConvertTo-Json | Set-Content (Join-Path $cache "$sha1.json")
        $r = Invoke-WithAwsSource @{
            HOME = "$home_"; AWS_PROFILE = 'old'; AWS_ENDPOINT_URL_SSO = $env:OPSRUNBOOK_STS_ENDPOINT
            AWS_CONFIG_FILE = $null; AWS_SHARED_CREDENTIALS_FILE = $null
        }
        $r.ExitCode | Should -Not -Be 0
        $r.Text | Should -Match 'sso login'
        $r.Text | Should -Not -Match 'expiredSsoToken'
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
