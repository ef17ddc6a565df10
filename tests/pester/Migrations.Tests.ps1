#Requires -Modules Pester
# Get-DatabaseMigration (issue 18, runbook 003's alembic flow as a gate) in the real pwsh, against the sandbox's
# PostgreSQL: the shop's alembic_version (tests/servers.sh) and its project in examples/migrations/alembic, and a
# Flyway history made with Flyway's own DDL in a schema of the test's own.

BeforeDiscovery { . (Join-Path $PSScriptRoot 'TestSetup.ps1') -Discovery }
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSetup.ps1')
    $script:Alembic = Join-Path $RepoRoot 'examples' 'migrations' 'alembic'
}

Describe 'Get-DatabaseMigration' -Skip:(-not $env:OPSRUNBOOK_SERVERS_ENV) {
    It 'reads the shop''s alembic head and the revision still to run, as a table and a report row' {
        $all = Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Path $Alembic -Verbose 4>&1
        $status = $all | Where-Object { $_.PSObject.TypeNames -contains 'OpsRunbook.Engine.Database.DatabaseMigrationStatus' }
        $Settings.OPSRUNBOOK_PG_PASSWORD | Should -Not -BeNullOrEmpty
        ($all | Out-String -Width 300) + ($status | Format-List * | Out-String -Width 300) | Should -Not -BeLike "*$($Settings.OPSRUNBOOK_PG_PASSWORD)*"
        $status.PSObject.TypeNames | Should -Contain 'OpsRunbook.Engine.Database.DatabaseMigrationStatus'
        ($status.Tool, $status.Current, $status.Applied, $status.Status) | Should -Be @('Alembic', '52732b96f95f', 2, 'Healthy')
        $status.Pending | Should -Be @('bed5dafc6c7e add_order_status')
        $status.Migrations.State | Should -Be @('Applied', 'Applied', 'Pending')
        ($status | Out-String -Width 200) | Should -BeLike '*Status*Tool*Current*Applied*Pending*Reason*Healthy*Alembic*52732b96f95f*2*1*1 pending: bed5dafc6c7e*'
        $after = Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Path $Alembic -RequireCurrent
        $after.Status | Should -Be 'Degraded'
        $json = Join-Path $TestDrive 'migrations.json'
        $after | Export-RunbookReport -Format Json -Path $json
        $row = (Get-Content $json -Raw | ConvertFrom-Json).items[0]
        ($row.kind, $row.outcome, $row.data.Tool, $row.data.Pending) | Should -Be @('Database migrations', 'Warn', 'Alembic', '1')
    }

    It 'finds a Flyway history in another schema and says what failed and what changed' {
        $schema = "mig_$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $folder = Join-Path $TestDrive 'flyway'
        New-Item -ItemType Directory -Path $folder | Out-Null
        Set-Content -Path (Join-Path $folder 'V1__create_orders.sql') -Value 'CREATE TABLE orders (id int);' -NoNewline
        Set-Content -Path (Join-Path $folder 'V2__add_status.sql') -Value 'ALTER TABLE orders ADD status text;' -NoNewline
        $sql = @"
CREATE SCHEMA $schema;
CREATE TABLE $schema.flyway_schema_history ("installed_rank" INT NOT NULL PRIMARY KEY, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL,
  "type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" INT, "installed_by" VARCHAR(100) NOT NULL,
  "installed_on" TIMESTAMP NOT NULL DEFAULT now(), "execution_time" INT NOT NULL, "success" BOOLEAN NOT NULL);
INSERT INTO $schema.flyway_schema_history VALUES (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', 1, 'app', now(), 5, true),
  (2, '2', 'add status', 'SQL', 'V2__add_status.sql', NULL, 'app', now(), 5, false);
"@
        $env:PGPASSWORD = $Settings.OPSRUNBOOK_PG_PASSWORD
        try {
            $sql | psql -h 127.0.0.1 -p $Settings.OPSRUNBOOK_PG_PORT -U opsrunbook -d opsrunbook -v ON_ERROR_STOP=1 -q | Out-Null
            $status = Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Schema $schema -Path $folder
            ($status.Tool, $status.Status) | Should -Be @('Flyway', 'Unhealthy')
            $status.Failed | Should -Be @('2 add status')
            $status.Modified | Should -Be @('1 create orders')
            $status.Reason | Should -BeLike '*failed: 2 add status*changed since applied: 1 create orders*'
        }
        finally {
            "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" | psql -h 127.0.0.1 -p $Settings.OPSRUNBOOK_PG_PORT -U opsrunbook -d opsrunbook -q | Out-Null
            Remove-Item Env:PGPASSWORD
        }
    }

    It 'says what to fix: no table where it looked, a missing folder, -Table without -Tool' {
        $err = $null
        Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Schema shop -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'OpsRunbook.MigrationTableNotFound*'
        $err[0].Exception.Message | Should -BeLike '*No migration table in schema shop: looked for alembic_version, _prisma_migrations*'
        { Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Path (Join-Path $TestDrive 'nope') } | Should -Throw "*migrations folder*does not exist*"
        { Get-DatabaseMigration sandbox -ConfigPath $SandboxConfig -Table app_migrations } | Should -Throw '*say which with -Tool*'
    }
}
