# Test-RedisBackup over backups taken from a real redis-server, good and tampered with, and a restore into a
# throwaway redis-server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force

    $script:server = Start-TestRedisServer -Directory (Join-Path $TestDrive 'server')
    redis-cli -p $script:server.Port set greeting hello | Out-Null
    redis-cli -p $script:server.Port hset user:1 name ada | Out-Null
    redis-cli -p $script:server.Port -n 2 rpush queue a b c | Out-Null
    $script:redisServerPath = (Get-Command redis-server).Source

    # A fresh backup in its own directory for each test, so tampering never leaks into the next one.
    function New-TestSnapshot {
        Backup-RdbSnapshot -Endpoint $script:server.Endpoint -Destination (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))
    }
}

AfterAll {
    $script:server | Where-Object { $_ } | Stop-TestRedisServer
}

Describe 'Test-RedisBackup' {
    It 'passes every check of a fresh backup piped from Backup-RdbSnapshot' {
        $result = New-TestSnapshot | Test-RedisBackup
        $result.GetType().FullName | Should -Be 'RedisRecovery.Backup.BackupVerification'
        $result.Passed | Should -BeTrue
        $result.Checks.Name | Should -Be @('Sidecar', 'Sha256', 'RdbParse', 'KeyCounts')
        ($result.Checks | Where-Object { $_.Outcome.ToString() -ne 'Passed' }) | Should -BeNullOrEmpty
    }

    It 'loads the backup into a throwaway redis-server with -RedisServerPath and compares DBSIZE' {
        $result = New-TestSnapshot | Test-RedisBackup -RedisServerPath $script:redisServerPath
        $result.Passed | Should -BeTrue
        $restore = $result.Checks | Where-Object Name -EQ 'Restore'
        $restore.Outcome.ToString() | Should -Be 'Passed'
        $restore.Detail | Should -Match 'db0=2, db2=1'
    }

    It 'checks the newest backup of each series in a directory, and takes Get-RedisBackup -Latest from the pipeline' {
        $backup = New-TestSnapshot
        (Test-RedisBackup -Path $backup.Store).Path | Should -Be $backup.Path
        (Get-RedisBackup -Path $backup.Store -Latest | Test-RedisBackup).Passed | Should -BeTrue
    }

    It 'fails the SHA-256 check when one byte changed, with an error' {
        $backup = New-TestSnapshot
        $bytes = [System.IO.File]::ReadAllBytes($backup.Path)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 1
        [System.IO.File]::WriteAllBytes($backup.Path, $bytes)

        $result = Test-RedisBackup -Path $backup.Path -ErrorVariable failures -ErrorAction SilentlyContinue
        $result.Passed | Should -BeFalse
        ($result.Checks | Where-Object Name -EQ 'Sha256').Outcome.ToString() | Should -Be 'Failed'
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'BackupVerificationFailed,*'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'fails the key count check when the sidecar counts were edited' {
        $backup = New-TestSnapshot
        $sidecar = Get-Content -Raw "$($backup.Path).json" | ConvertFrom-Json
        $sidecar.keysPerDatabase.'0' = 99
        $sidecar | ConvertTo-Json -Depth 5 | Set-Content "$($backup.Path).json"

        $result = Test-RedisBackup -Path $backup.Path -ErrorAction SilentlyContinue
        $result.Passed | Should -BeFalse
        $result.FailedChecks | Should -Be 'KeyCounts'
    }

    It 'errors with BackupStale when the newest backup is older than -MaxAge' {
        $backup = New-TestSnapshot
        Start-Sleep -Milliseconds 1500
        { $backup | Test-RedisBackup -MaxAge ([timespan]::FromSeconds(1)) -ErrorAction Stop } | Should -Throw -ErrorId 'BackupStale,*'
        $fresh = $backup | Test-RedisBackup -MaxAge '01:00:00'
        ($fresh.Checks | Where-Object Name -EQ 'Age').Outcome.ToString() | Should -Be 'Passed'
    }

    It 'checks an encrypted backup with its passphrase on a verified decrypted copy, and names the original' {
        $passphrase = ConvertTo-SecureString 'test passphrase' -AsPlainText -Force
        $sealed = Backup-RdbSnapshot -Endpoint $script:server.Endpoint -Destination (Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))) -Encrypt -Passphrase $passphrase
        $sealed.Encrypted | Should -BeTrue
        $sealed.Verified | Should -BeTrue
        $result = $sealed | Test-RedisBackup -Passphrase $passphrase -RedisServerPath $script:redisServerPath
        $result.Passed | Should -BeTrue
        $result.Path | Should -Be $sealed.Path
        $result.Checks.Name | Should -Be @('Sidecar', 'Sha256', 'RdbParse', 'KeyCounts', 'Restore')

        $sealed | Test-RedisBackup -ErrorVariable problems -ErrorAction SilentlyContinue
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'PassphraseRequired,*'
    }

    It 'reports a missing backup as BackupNotFound' {
        { Test-RedisBackup -Path (Join-Path $TestDrive 'missing_20261122T020000Z.rdb') -ErrorAction Stop } | Should -Throw -ErrorId 'BackupNotFound,*'
    }

    It 'shows a table by default' {
        $view = New-TestSnapshot | Test-RedisBackup | Format-Table | Out-String
        $view | Should -Match 'Passed'
        $view | Should -Match 'FailedChecks'
    }
}
