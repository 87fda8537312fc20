# Backup-RdbSnapshot against real redis-server processes: a plain master, one without SYNC/PSYNC, and a
# managed-service look-alike without SYNC/PSYNC/BGSAVE/CONFIG. Every backup is loaded back into a fresh server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force

    $script:plain = Start-TestRedisServer -Directory (Join-Path $TestDrive 'plain') -ExtraArgs @('--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0')
    $script:noSync = Start-TestRedisServer -Directory (Join-Path $TestDrive 'nosync') -ExtraArgs @(
        '--rename-command', 'SYNC', '', '--rename-command', 'PSYNC', '')
    $script:managed = Start-TestRedisServer -Directory (Join-Path $TestDrive 'managed') -ExtraArgs @(
        '--rename-command', 'SYNC', '', '--rename-command', 'PSYNC', '', '--rename-command', 'BGSAVE', '', '--rename-command', 'CONFIG', '')

    foreach ($server in $script:plain, $script:noSync, $script:managed) {
        $cli = @('-p', $server.Port)
        redis-cli @cli set greeting hello | Out-Null
        redis-cli @cli rpush queue a b c | Out-Null
        redis-cli @cli hset user:1 name ada lang en | Out-Null
        redis-cli @cli zadd scores 1 one 2 two | Out-Null
        redis-cli @cli sadd tags red green | Out-Null
        redis-cli @cli xadd events '1-1' type login | Out-Null
        redis-cli @cli pexpireat greeting 4102444800000 | Out-Null
        redis-cli @cli -n 3 set counter 42 | Out-Null
    }

    # Loads a backup into a new server and returns its DEBUG DIGEST.
    function Get-LoadedDigest([string] $BackupPath) {
        $dir = Join-Path $TestDrive ('load-' + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $dir | Out-Null
        Copy-Item -Path $BackupPath -Destination (Join-Path $dir 'dump.rdb')
        $loaded = Start-TestRedisServer -Directory $dir
        try { redis-cli -p $loaded.Port DEBUG DIGEST } finally { $loaded | Stop-TestRedisServer }
    }

    function New-BackupDirectory { Join-Path $TestDrive ('backups-' + [guid]::NewGuid().ToString('N')) }
}

AfterAll {
    $script:plain, $script:noSync, $script:managed | Where-Object { $_ } | Stop-TestRedisServer
}

Describe 'Backup-RdbSnapshot' {
    It 'writes an encrypted backup with -Encrypt that plain gpg decrypts to a loadable RDB' {
        $passphrase = ConvertTo-SecureString 'snapshot passphrase' -AsPlainText -Force
        $directory = New-BackupDirectory
        $sealed = Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination $directory -Encrypt -Passphrase $passphrase
        $sealed.FileName | Should -BeLike '*.rdb.gpg'
        $sealed.Verified | Should -BeTrue
        @(Get-ChildItem -LiteralPath $directory -Force).Name | Sort-Object | Should -Be @($sealed.FileName, "$($sealed.FileName).json")
        if (Get-Command gpg -ErrorAction SilentlyContinue) {
            $gnupgHome = Join-Path $TestDrive ('gnupg-' + [guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $gnupgHome | Out-Null
            $plain = Join-Path $TestDrive ('plain-' + [guid]::NewGuid().ToString('N') + '.rdb')
            'snapshot passphrase' | gpg --homedir $gnupgHome --batch --quiet --pinentry-mode loopback --passphrase-fd 0 --output $plain --decrypt $sealed.Path
            $LASTEXITCODE | Should -Be 0
            Get-LoadedDigest $plain | Should -Be (redis-cli -p $script:plain.Port DEBUG DIGEST)
        }
    }

    It 'refuses -Encrypt without -Passphrase' {
        { Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination (New-BackupDirectory) -Encrypt -ErrorAction Stop } | Should -Throw -ErrorId 'PassphraseMisuse,*'
    }

    It 'takes a replication backup that loads with the source digest, with its sidecar beside it' {
        $dir = New-BackupDirectory
        $backup = Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination $dir
        $backup | Should -HaveCount 1
        $backup.GetType().FullName | Should -Be 'RedisRecovery.Backup.RdbBackup'
        $backup.Method.ToString() | Should -Be 'Replication'
        $backup.PointInTime | Should -BeTrue
        $backup.Status.ToString() | Should -Be 'Ok'
        $backup.Endpoint | Should -Be $script:plain.Endpoint
        $backup.KeysPerDatabase[0] | Should -Be 6
        $backup.KeysPerDatabase[3] | Should -Be 1
        Split-Path -Leaf $backup.Path | Should -Match ('^127\.0\.0\.1-{0}_\d{{8}}T\d{{6}}Z\.rdb$' -f $script:plain.Port)
        Test-Path "$($backup.Path).json" | Should -BeTrue
        (Get-FileHash -Algorithm SHA256 $backup.Path).Hash.ToLowerInvariant() | Should -Be $backup.Sha256
        Get-LoadedDigest $backup.Path | Should -Be (redis-cli -p $script:plain.Port DEBUG DIGEST)
        (Get-ChildItem -Path $dir -Force).Name | Should -Be @((Split-Path -Leaf $backup.Path), "$(Split-Path -Leaf $backup.Path).json")
    }

    It 'uses -Name for the file name and the series' {
        $backup = Backup-RdbSnapshot $script:plain.Endpoint (New-BackupDirectory) -Name 'cache'
        $backup.Name | Should -Be 'cache'
        Split-Path -Leaf $backup.Path | Should -Match '^cache_\d{8}T\d{6}Z\.rdb$'
    }

    It 'falls back to BGSAVE when SYNC and PSYNC are renamed away, and says why' {
        $backup = Backup-RdbSnapshot -Endpoint $script:noSync.Endpoint -Destination (New-BackupDirectory)
        $backup.Method.ToString() | Should -Be 'Bgsave'
        $backup.MethodDetail | Should -Match 'replication refused'
        Get-LoadedDigest $backup.Path | Should -Be (redis-cli -p $script:noSync.Port DEBUG DIGEST)
    }

    It 'falls back to a logical copy on a managed-service look-alike, with a warning' {
        $backup = Backup-RdbSnapshot -Endpoint $script:managed.Endpoint -Destination (New-BackupDirectory) -WarningVariable warnings
        $backup.Method.ToString() | Should -Be 'Logical'
        $backup.PointInTime | Should -BeFalse
        $backup.MethodDetail | Should -Match 'Bgsave:'
        $warnings | Should -Match 'not a single point in time'
        Get-LoadedDigest $backup.Path | Should -Be (redis-cli -p $script:managed.Port DEBUG DIGEST)
    }

    It 'fails with ReplicationUnavailable when -Method Replication is refused, leaving no file' {
        $dir = New-BackupDirectory
        { Backup-RdbSnapshot -Endpoint $script:noSync.Endpoint -Destination $dir -Method Replication -ErrorAction Stop } |
            Should -Throw -ErrorId 'ReplicationUnavailable,*'
        @(Get-ChildItem -Path $dir -Force -ErrorAction SilentlyContinue) | Should -HaveCount 0
    }

    It 'backs up endpoints from the pipeline, and an unreachable one is a per-endpoint error' {
        $unreachable = "127.0.0.1:$(Get-FreeTcpPort)"
        $backups = @($script:plain.Endpoint, $unreachable, $script:noSync.Endpoint |
            Backup-RdbSnapshot -Destination (New-BackupDirectory) -ErrorVariable failures -ErrorAction SilentlyContinue)
        $backups | Should -HaveCount 2
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ConnectionRefused,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'never shows the password of a redis:// endpoint, in -WhatIf text or in errors' {
        $endpoint = "redis://backup:pester-url-secret@127.0.0.1:$(Get-FreeTcpPort)"
        # -WhatIf text goes to the host, not to a stream: read it from a child session's output.
        $pwsh = (Get-Process -Id $PID).Path
        $whatIf = & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$(Get-RedisRecoveryModulePath)'; Backup-RdbSnapshot -Endpoint '$endpoint' -Destination '$(New-BackupDirectory)' -WhatIf" 2>&1 | Out-String
        $whatIf | Should -Match ([regex]::Escape('redis://backup:***@127.0.0.1:'))
        $whatIf | Should -Not -Match 'pester-url-secret'
        foreach ($throttleLimit in 1, 2) {
            Backup-RdbSnapshot -Endpoint $endpoint -Destination (New-BackupDirectory) -ThrottleLimit $throttleLimit -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures | Should -HaveCount 1
            "$($failures[0].TargetObject)" | Should -Not -Match 'pester-url-secret'
            ($failures[0] | Format-List * -Force | Out-String) | Should -Not -Match 'pester-url-secret'
        }
    }

    It 'backs up several endpoints at once with -ThrottleLimit' {
        $backups = @($script:plain.Endpoint, $script:noSync.Endpoint | Backup-RdbSnapshot -Destination (New-BackupDirectory) -ThrottleLimit 2)
        $backups | Should -HaveCount 2
        ($backups.Endpoint | Sort-Object) | Should -Be (@($script:plain.Endpoint, $script:noSync.Endpoint) | Sort-Object)
    }

    It 'takes Get-RedisInstanceStatus objects from the pipeline' {
        $backup = Get-RedisInstanceStatus -Endpoint $script:plain.Endpoint | Backup-RdbSnapshot -Destination (New-BackupDirectory)
        $backup.Endpoint | Should -Be $script:plain.Endpoint
    }

    It 'throttles a logical copy with -MaxOpsPerSecond' {
        $elapsed = Measure-Command {
            Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination (New-BackupDirectory) -Method Logical -MaxOpsPerSecond 20 -WarningAction SilentlyContinue
        }
        # 7 keys: 14 DUMP/PEXPIRETIME commands and a few SCAN/SELECT at 20 per second.
        $elapsed.TotalSeconds | Should -BeGreaterThan 0.7
    }

    It 'writes nothing with -WhatIf' {
        $dir = New-BackupDirectory
        Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination $dir -WhatIf | Should -BeNullOrEmpty
        Test-Path $dir | Should -BeFalse
    }

    It 'shows a table by default' {
        $view = Backup-RdbSnapshot -Endpoint $script:plain.Endpoint -Destination (New-BackupDirectory) | Format-Table | Out-String
        $view | Should -Match 'Method'
        $view | Should -Match 'Replication'
    }
}
