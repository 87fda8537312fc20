# Test-AofFile against every AOF case of the shared fixtures, plus pipeline and error contracts.
BeforeDiscovery {
    $fixtureRoot = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path $PSScriptRoot '../../../shared/fixtures' }
    $script:aofCases = Import-Csv -Path (Join-Path $fixtureRoot 'MANIFEST.tsv') -Delimiter "`t" |
        Where-Object { $_.kind -in 'aof', 'aofdir' } |
        ForEach-Object {
            $expected = if ($_.expect -eq 'corrupt' -or $_.features -like '*aof-lf-only-line-endings*' -or $_.native_load -like 'rejected: bad AOF format*') { 'Corrupt' }
                        elseif ($_.note -like '*truncated tail*') { 'Truncated' }
                        else { 'Valid' }
            @{ RelativePath = $_.path; Kind = $_.kind; Expected = $expected }
        }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    $script:fixtures = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path $PSScriptRoot '../../../shared/fixtures' }
    function New-Command([string[]] $Arguments) {
        $text = "*$($Arguments.Count)`r`n"
        foreach ($argument in $Arguments) { $text += "`$$([Text.Encoding]::UTF8.GetByteCount($argument))`r`n$argument`r`n" }
        $text
    }
}

Describe 'Test-AofFile on the fixture <RelativePath>' -ForEach $aofCases {
    It 'reports <Expected> with the layout of a <Kind>' {
        $result = Test-AofFile -LiteralPath (Join-Path $fixtures $RelativePath) -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $result.Status | Should -Be $Expected
        $result.Layout | Should -Be $(if ($Kind -eq 'aofdir') { 'MultiPart' } else { 'SingleFile' })
        if ($Expected -ne 'Valid') {
            $result.ErrorFile | Should -Not -BeNullOrEmpty
            $result.ErrorOffset | Should -BeGreaterOrEqual $result.ValidUpToOffset
        }
    }
}

Describe 'Test-AofFile input and errors' {
    It 'takes files from Get-ChildItem through the pipeline (FullName)' {
        $files = Get-ChildItem -Path (Join-Path $fixtures 'public/leonchen83__redis-replicator') -Filter '*.aof'
        $results = $files | Test-AofFile -ErrorAction SilentlyContinue
        $results.Count | Should -Be $files.Count
        ($results.Path | Sort-Object) | Should -Be ($files.FullName | Sort-Object)
    }

    It 'expands wildcards in -Path' {
        $results = Test-AofFile -Path (Join-Path $fixtures 'public/HDT3213__rdb/memory*.aof') -ErrorAction SilentlyContinue
        $results.Count | Should -BeGreaterThan 1
    }

    It 'counts commands by name and reads timestamp annotations' {
        $file = Join-Path $TestDrive 'stamped.aof'
        $text = "#TS:1700000000`r`n" + (New-Command 'SET', 'a', '1') + (New-Command 'SET', 'b', '2') + "#TS:1700000060`r`n" + (New-Command 'DEL', 'a')
        [IO.File]::WriteAllText($file, $text)
        $result = Test-AofFile -LiteralPath $file
        $result.Status | Should -Be 'Valid'
        $result.Commands | Should -Be 3
        $result.CommandCounts['SET'] | Should -Be 2
        $result.FirstTimestampUtc | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000000).UtcDateTime)
        $result.LastTimestampUtc | Should -Be ([DateTimeOffset]::FromUnixTimeSeconds(1700000060).UtcDateTime)
    }

    It 'warns, without an error, about a truncated tail' {
        $file = Join-Path $TestDrive 'truncated.aof'
        [IO.File]::WriteAllText($file, (New-Command 'SET', 'a', '1') + '*3' + "`r`n`$3`r`nSE")
        $result = Test-AofFile -LiteralPath $file -WarningVariable warnings -ErrorVariable errors -WarningAction SilentlyContinue
        $result.Status | Should -Be 'Truncated'
        $result.ValidUpToOffset | Should -Be 27
        $warnings.Count | Should -Be 1
        $errors.Count | Should -Be 0
    }

    It 'writes a CorruptData error for a corrupt AOF, and still the object' {
        $file = Join-Path $TestDrive 'corrupt.aof'
        [IO.File]::WriteAllText($file, (New-Command 'SET', 'a', '1') + "garbage`r`n" + (New-Command 'SET', 'b', '2'))
        { Test-AofFile -LiteralPath $file -ErrorAction Stop } | Should -Throw -ErrorId 'CorruptData,*'
        (Test-AofFile -LiteralPath $file -ErrorAction SilentlyContinue).Status | Should -Be 'Corrupt'
    }

    It 'reports an invalid manifest by name' {
        $dir = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'badmanifest')
        [IO.File]::WriteAllText((Join-Path $dir 'appendonly.aof.manifest'), "file appendonly.aof.1.base.aof seq 1 type b`n")
        { Test-AofFile -LiteralPath $dir -ErrorAction Stop } | Should -Throw -ErrorId 'AofManifestInvalid,*'
        $result = Test-AofFile -LiteralPath $dir -ErrorAction SilentlyContinue
        $result.Status | Should -Be 'ManifestInvalid'
        $result.Error | Should -Match 'appendonly\.aof\.1\.base\.aof'
    }

    It 'writes FileNotFound for a path that does not exist' {
        { Test-AofFile -LiteralPath (Join-Path $TestDrive 'nope.aof') -ErrorAction Stop } | Should -Throw -ErrorId 'FileNotFound,*'
    }
}
