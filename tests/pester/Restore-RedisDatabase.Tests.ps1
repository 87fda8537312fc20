# Restore-RedisDatabase against real redis-server processes and the shared fixture files.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    $fixtures = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path $PSScriptRoot '../../../shared/fixtures' }
    $script:rdb = Join-Path $fixtures 'generated/rdb/dump-7.0.15.rdb'
    $script:aofDir = Join-Path $fixtures 'generated/aof-preamble-yes/appendonlydir'
    $script:target = Start-TestRedisServer -Directory (Join-Path $TestDrive 'target')
    function Get-KeyCount([int] $Database = 0) { [int](redis-cli -p $script:target.Port -n $Database dbsize) }
}

AfterAll {
    $script:target | Stop-TestRedisServer
}

Describe 'Restore-RedisDatabase' {
    BeforeEach {
        redis-cli -p $script:target.Port flushall | Out-Null
    }

    It 'restores an RDB online and verifies it' {
        $result = Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -Confirm:$false
        $result.GetType().FullName | Should -Be 'RedisRecovery.Restore.RestoreResult'
        $result.Completed | Should -BeTrue
        $result.KeysRestored | Should -Be 49
        $result.KeysSkipped.Expired | Should -Be 3
        $result.Verified | Should -BeTrue
        Get-KeyCount 0 | Should -Be 40
        Get-KeyCount 3 | Should -Be 6
        Get-KeyCount 15 | Should -Be 3
    }

    It 'verifies by key counts only with -SkipDigest' {
        $result = Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -SkipDigest -Confirm:$false
        $result.Verified | Should -BeTrue
        $result.TargetDigest | Should -BeNullOrEmpty
        $result.DigestDuration | Should -Be ([TimeSpan]::Zero)
        $result.VerificationDetail | Should -Match 'DEBUG DIGEST skipped'
    }

    It 'binds backups from the pipeline by their Path property' {
        $backup = [pscustomobject]@{ Path = $script:rdb; Endpoint = 'not-the-target:1' }
        $result = $backup | Restore-RedisDatabase -Endpoint $script:target.Endpoint -Database 3 -TargetDatabase 5 -Confirm:$false
        $result.KeysRestored | Should -Be 6
        Get-KeyCount 5 | Should -Be 6
    }

    It 'writes nothing into a non-empty target and reports TargetNotEmpty' {
        redis-cli -p $script:target.Port set existing 1 | Out-Null
        $result = Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.WroteNothing | Should -BeTrue
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'RestoreTargetNotEmpty,*'
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        Get-KeyCount 0 | Should -Be 1
    }

    It 'changes nothing with -WhatIf' {
        redis-cli -p $script:target.Port set existing 1 | Out-Null
        Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -FlushTarget -WhatIf
        Get-KeyCount 0 | Should -Be 1
    }

    It 'empties the target first with -FlushTarget' {
        redis-cli -p $script:target.Port set existing 1 | Out-Null
        $result = Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -FlushTarget -Confirm:$false
        $result.Verified | Should -BeTrue
        (redis-cli -p $script:target.Port exists existing) | Should -Be '0'
    }

    It 'replays a multi-part AOF with its RDB preamble' {
        $result = Restore-RedisDatabase -Path $script:aofDir -Endpoint $script:target.Endpoint -Confirm:$false
        $result.CommandsReplayed | Should -BeGreaterThan 0
        $result.CommandsFailed | Should -Be 0
        Get-KeyCount 0 | Should -Be 144
        Get-KeyCount 3 | Should -Be 107
    }

    It 'restores an encrypted backup with its passphrase, and refuses a wrong one before writing' {
        Import-Module (Join-Path $PSScriptRoot 'BackupTestFiles.psm1') -Force
        $plainDir = Join-Path $TestDrive ('plain-' + [guid]::NewGuid().ToString('N'))
        $sealedDir = Join-Path $TestDrive ('sealed-' + [guid]::NewGuid().ToString('N'))
        New-TestBackup -Directory $plainDir -Name 'cache-6379' -CreatedUtc ([datetime]::UtcNow) -Content ([System.IO.File]::ReadAllBytes($script:rdb)) | Out-Null
        $passphrase = ConvertTo-SecureString 'restore passphrase' -AsPlainText -Force
        $sealed = Get-RedisBackup -Path $plainDir | Copy-RedisBackup -Destination $sealedDir -Encrypt -Passphrase $passphrase

        $wrong = ConvertTo-SecureString 'wrong' -AsPlainText -Force
        $sealed | Restore-RedisDatabase -Endpoint $script:target.Endpoint -Passphrase $wrong -Confirm:$false -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'OpenPgpWrongPassphrase,*'
        Get-KeyCount 0 | Should -Be 0

        $result = $sealed | Restore-RedisDatabase -Endpoint $script:target.Endpoint -Passphrase $passphrase -Confirm:$false
        $result.Completed | Should -BeTrue
        $result.Verified | Should -BeTrue
        Get-KeyCount 0 | Should -Be 40
    }

    It 'refuses -ToTimestamp for an RDB source with a stable error id' {
        { Restore-RedisDatabase -Path $script:rdb -Endpoint $script:target.Endpoint -ToTimestamp ([datetimeoffset]::UtcNow) -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RestoreInvalidOptions,*'
    }

    It 'refuses -Mode FileSwap with online parameters up front, before reading the source' {
        # The source does not exist: an error about it would mean the mode was checked only half-way.
        $caught = { Restore-RedisDatabase -Path (Join-Path $TestDrive 'absent.rdb') -Endpoint $script:target.Endpoint -Mode FileSwap -KeyPattern 'user:*' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RestoreInvalidOptions,*' -PassThru
        $caught.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'refuses -StartCommand without -Mode FileSwap up front, without prompting for the mode' {
        { Restore-RedisDatabase -Path (Join-Path $TestDrive 'absent.rdb') -Endpoint $script:target.Endpoint -StartCommand { throw 'must not run' } -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RestoreInvalidOptions,*'
    }

    It 'asks before fetching an encrypted or S3 backup: -WhatIf reads nothing' {
        # Fetching this one would fail (it does not exist); -WhatIf must stop before the download is tried.
        $missing = Join-Path $TestDrive 'cache-6379_20261122T020000Z.rdb.gpg'
        $passphrase = ConvertTo-SecureString 'pester whatif passphrase' -AsPlainText -Force
        { Restore-RedisDatabase -Path $missing -Endpoint $script:target.Endpoint -Passphrase $passphrase -WhatIf -ErrorAction Stop } | Should -Not -Throw
    }

    It 'runs the start command on the pipeline thread in FileSwap mode' {
        $dir = Join-Path $TestDrive 'swap'
        $server = Start-TestRedisServer -Directory $dir -ExtraArgs @('--dbfilename', 'dump.rdb')
        $port = $server.Port
        redis-cli -p $port set old-data 1 | Out-Null
        redis-cli -p $port save | Out-Null
        try {
            $start = {
                Start-Process -FilePath redis-server -ArgumentList @(
                    '--port', $port, '--bind', '127.0.0.1', '--dir', $dir, '--dbfilename', 'dump.rdb', '--save', '""',
                    '--appendonly', 'no', '--enable-debug-command', 'yes', '--logfile', (Join-Path $dir 'redis2.log'))
            }.GetNewClosure()
            $result = Restore-RedisDatabase -Path $script:rdb -Endpoint $server.Endpoint -Mode FileSwap -StartCommand $start -Confirm:$false
            $result.Verified | Should -BeTrue
            [int](redis-cli -p $port dbsize) | Should -Be 40
            (Get-ChildItem $dir -Filter 'dump.rdb.before-restore-*') | Should -Not -BeNullOrEmpty
        }
        finally {
            redis-cli -p $port shutdown nosave 2>$null | Out-Null
        }
    }
}
