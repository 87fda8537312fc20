# Test-RdbFile against the shared fixture files and a damaged copy made in $TestDrive.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    $fixtures = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path $PSScriptRoot '../../../shared/fixtures' }
    $script:generated = Join-Path $fixtures 'generated/rdb/dump-7.0.15.rdb'
    # Split by hand: the notes hold quotes that a CSV reader would take as field delimiters.
    $manifest = Get-Content -Path (Join-Path $fixtures 'MANIFEST.tsv')
    $digestColumn = [array]::IndexOf(($manifest[0] -split "`t"), 'digest')
    $generatedRow = $manifest | Where-Object { $_.StartsWith("generated/rdb/dump-7.0.15.rdb`t") }
    $script:generatedDigest = ($generatedRow -split "`t")[$digestColumn]
    $script:publicKeyDb = Join-Path $fixtures 'public/Snapchat__KeyDB'
    $script:corrupt = Join-Path $TestDrive 'damaged.rdb'
    $bytes = [System.IO.File]::ReadAllBytes($script:generated)
    # Cut the file in the middle of its keys: the check must stop there with an offset.
    $half = [System.IO.File]::Create($script:corrupt)
    try { $half.Write($bytes, 0, [int]($bytes.Length / 2)) } finally { $half.Dispose() }
}

Describe 'Test-RdbFile' {
    It 'reports the keys, expiries and databases of a valid file' {
        $check = Test-RdbFile -Path $script:generated
        $check.IsValid | Should -BeTrue
        $check.RdbVersion | Should -Be 10
        $check.RedisVersion | Should -Be '7.0.15'
        $check.Keys | Should -Be 52
        $check.Expires | Should -Be 8
        $check.ChecksumStatus.ToString() | Should -Be 'Valid'
        $check.KeysPerDatabase[0] + $check.KeysPerDatabase[3] + $check.KeysPerDatabase[15] | Should -Be 52
        $check.ErrorOffset | Should -BeNullOrEmpty
    }

    It 'computes the DEBUG DIGEST a Redis 7.0 reports after loading the file, with -Digest' {
        $script:generatedDigest | Should -Match '^[0-9a-f]{40}$'
        $check = Test-RdbFile -Path $script:generated -Digest
        $check.Digest | Should -Be $script:generatedDigest
        $check.DigestUnknownReason | Should -BeNullOrEmpty
        (Test-RdbFile -Path $script:generated).Digest | Should -BeNullOrEmpty
        ($check | Format-Table -View Digest | Out-String) | Should -Match $script:generatedDigest
    }

    It 'says why there is no digest for a damaged file' {
        $check = Test-RdbFile -Path $script:corrupt -Digest -ErrorAction SilentlyContinue
        $check.Digest | Should -BeNullOrEmpty
        $check.DigestUnknownReason | Should -Match 'damaged'
    }

    It 'emits an error and an invalid result for a damaged file' {
        $check = Test-RdbFile -Path $script:corrupt -ErrorVariable failures -ErrorAction SilentlyContinue
        $check.IsValid | Should -BeFalse
        $check.ErrorOffset | Should -BeGreaterThan 0
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'CorruptData,*'
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $failures[0].TargetObject | Should -Be $script:corrupt
    }

    It 'throws the error with -ErrorAction Stop' {
        { Test-RdbFile -Path $script:corrupt -ErrorAction Stop } | Should -Throw -ErrorId 'CorruptData,*'
    }

    It 'returns only booleans with -Quiet' {
        Test-RdbFile -Path $script:generated -Quiet | Should -BeTrue
        $result = Test-RdbFile -Path $script:corrupt -Quiet -ErrorVariable failures
        $result | Should -BeFalse
        $result | Should -BeOfType [bool]
        $failures.Count | Should -Be 0
    }

    It 'expands wildcards and takes many files' {
        $checks = Test-RdbFile -Path (Join-Path $script:publicKeyDb '*.rdb')
        $checks.Count | Should -Be (Get-ChildItem $script:publicKeyDb -Filter *.rdb).Count
        $checks | Where-Object IsValid -eq $false | Should -BeNullOrEmpty
    }

    It 'takes files from Get-ChildItem through the pipeline' {
        $checks = Get-ChildItem -Path $TestDrive -Filter *.rdb | Test-RdbFile -ErrorAction SilentlyContinue
        $checks.Count | Should -Be 1
        $checks[0].Path | Should -Be $script:corrupt
    }

    It 'takes path strings through the pipeline' {
        ($script:generated, $script:generated | Test-RdbFile).Count | Should -Be 2
    }

    It 'reports a missing literal path as FileNotFound' {
        { Test-RdbFile -LiteralPath (Join-Path $TestDrive 'missing[1].rdb') -ErrorAction Stop } | Should -Throw -ErrorId 'FileNotFound,*'
    }

    It 'reports a directory named as -Path as FileNotFound instead of skipping it silently' {
        $checks = Test-RdbFile -Path $TestDrive -ErrorVariable failures -ErrorAction SilentlyContinue
        $checks | Should -BeNullOrEmpty
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'FileNotFound,*'
    }

    It 'reports a file it cannot open as an IOError and goes on with the next file' {
        # In a folder of its own, so the other cases that list $TestDrive see only the damaged file.
        $locked = Join-Path (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'locked')).FullName 'locked.rdb'
        Copy-Item -LiteralPath $script:generated -Destination $locked
        # FileShare None: the check's own open fails with an IOException (flock on Linux, a sharing violation on Windows).
        $held = [System.IO.File]::Open($locked, 'Open', 'Read', 'None')
        try {
            $checks = Test-RdbFile -LiteralPath $locked, $script:generated -ErrorVariable failures -ErrorAction SilentlyContinue
            $quiet = Test-RdbFile -LiteralPath $locked -Quiet -ErrorAction SilentlyContinue
        }
        finally { $held.Dispose() }
        @($checks).Count | Should -Be 1
        $checks.IsValid | Should -BeTrue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'IOError,*'
        $failures[0].TargetObject | Should -Be $locked
        $quiet | Should -BeFalse
    }

    It 'shows a table by default' {
        $view = Test-RdbFile -Path $script:generated | Format-Table | Out-String
        $view | Should -Match 'IsValid'
        $view | Should -Match 'Checksum'
    }
}
