BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'BackupTestFiles.psm1') -Force
}

Describe 'Get-RedisBackup' {
    BeforeEach {
        $script:dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc '2026-11-20T02:00:00Z' | Out-Null
        New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc '2026-11-22T02:00:00Z' | Out-Null
        New-TestBackup -Directory $dir -Name 'sessions-6380' -CreatedUtc '2026-11-21T02:00:00Z' | Out-Null
        Set-Content -Path (Join-Path $dir 'dump.rdb') -Value 'not a backup'
    }

    It 'lists typed backups from their sidecars, newest first, and ignores other files' {
        $backups = @(Get-RedisBackup $dir)
        $backups.Count | Should -Be 3
        # By name: the engine's types live in a private load context, so a [type] literal may not resolve.
        $backups[0].GetType().FullName | Should -Be 'RedisRecovery.Backup.RdbBackup'
        $backups.CreatedUtc | Should -Be @(
            [datetime]::new(2026, 11, 22, 2, 0, 0, 'Utc'),
            [datetime]::new(2026, 11, 21, 2, 0, 0, 'Utc'),
            [datetime]::new(2026, 11, 20, 2, 0, 0, 'Utc'))
        $backups[0].Name | Should -Be 'cache-6379'
        $backups[0].Status | Should -Be 'Ok'
        $backups[0].Path | Should -Be (Join-Path $dir 'cache-6379_20261122T020000Z.rdb')
        $backups[0].Endpoint | Should -Be '127.0.0.1:6379'
        $backups[0].KeysPerDatabase[0] | Should -Be 3
        $backups[0].Sha256 | Should -Match '^[0-9a-f]{64}$'
    }

    It 'filters by name with wildcards' {
        $backups = @(Get-RedisBackup -Path $dir -Name 'sess*')
        $backups.Count | Should -Be 1
        $backups[0].Name | Should -Be 'sessions-6380'
    }

    It 'returns the newest valid backup of each name with -Latest, skipping a newer broken one' {
        $broken = New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc '2026-11-23T02:00:00Z' -NoSidecar
        $latest = @(Get-RedisBackup -Path $dir -Latest)
        $latest.Count | Should -Be 2
        ($latest | Where-Object Name -eq 'cache-6379').CreatedUtc | Should -Be ([datetime]::new(2026, 11, 22, 2, 0, 0, 'Utc'))
        (Get-RedisBackup -Path $dir -Name 'cache-6379')[0].Path | Should -Be $broken.FullName
    }

    It 'keeps backups taken at or after -Since' {
        $backups = @(Get-RedisBackup -Path $dir -Since ([datetime]::new(2026, 11, 21, 2, 0, 0, 'Utc')))
        $backups.Name | Should -Be @('cache-6379', 'sessions-6380')
    }

    It 'reports missing files and sidecars, size mismatches and unreadable sidecars in Status' {
        $noFile = New-TestBackup -Directory $dir -Name 'a' -CreatedUtc '2026-11-22T03:00:00Z'
        Remove-Item -LiteralPath $noFile.FullName
        New-TestBackup -Directory $dir -Name 'b' -CreatedUtc '2026-11-22T03:00:00Z' -NoSidecar | Out-Null
        $resized = New-TestBackup -Directory $dir -Name 'c' -CreatedUtc '2026-11-22T03:00:00Z'
        [System.IO.File]::WriteAllText($resized.FullName, 'shorter')
        $garbled = New-TestBackup -Directory $dir -Name 'd' -CreatedUtc '2026-11-22T03:00:00Z'
        Set-Content -LiteralPath "$($garbled.FullName).json" -Value '{ "schemaVersion": '

        $status = @{}
        Get-RedisBackup -Path $dir -Name a, b, c, d | ForEach-Object { $status[$_.Name] = $_ }

        $status['a'].Status | Should -Be 'MissingFile'
        $status['b'].Status | Should -Be 'MissingSidecar'
        $status['c'].Status | Should -Be 'SizeMismatch'
        $status['d'].Status | Should -Be 'SidecarInvalid'
        $status.Values | ForEach-Object { $_.StatusDetail | Should -Not -BeNullOrEmpty }
    }

    It 'resolves a relative path against the current location' {
        Push-Location $dir
        try { @(Get-RedisBackup .).Count | Should -Be 3 } finally { Pop-Location }
    }

    It 'writes a BackupNotFound error for a name without wildcards that matches nothing' {
        $found = Get-RedisBackup -Path $dir -Name 'nosuch-6379', 'cache-6379' -ErrorVariable problems -ErrorAction SilentlyContinue
        @($found).Count | Should -Be 2
        $problems.Count | Should -Be 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'BackupNotFound,*'
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'stops with BackupStoreNotFound for a directory that does not exist' {
        $caught = $null
        try { Get-RedisBackup -Path (Join-Path $TestDrive 'absent') -ErrorAction Stop } catch { $caught = $_ }
        $caught.FullyQualifiedErrorId | Should -BeLike 'BackupStoreNotFound,*'
        $caught.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'has a default table view' {
        Get-FormatData -TypeName 'RedisRecovery.Backup.RdbBackup' | Should -Not -BeNullOrEmpty
        (Get-RedisBackup -Path $dir | Format-Table | Out-String) | Should -Match 'cache-6379'
    }
}
