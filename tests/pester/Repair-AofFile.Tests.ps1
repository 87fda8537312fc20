# Repair-AofFile on copies of the shared fixtures and on AOFs written by a real redis-server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    $script:fixtures = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path $PSScriptRoot '../../../shared/fixtures' }
    $script:manifestRows = Import-Csv -Path (Join-Path $fixtures 'MANIFEST.tsv') -Delimiter "`t"

    # A writable copy of a fixture directory inside a fresh server directory.
    function Copy-AofFixture([string] $RelativePath, [string] $Name) {
        $serverDir = New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name) -Force
        Copy-Item -LiteralPath (Join-Path $fixtures $RelativePath) -Destination (Join-Path $serverDir 'appendonlydir') -Recurse
        Get-ChildItem -LiteralPath (Join-Path $serverDir 'appendonlydir') | ForEach-Object { $_.IsReadOnly = $false }
        Join-Path $serverDir 'appendonlydir'
    }

    function Get-DbSize($Server) { [long](redis-cli -p $Server.Port dbsize) }

    function Get-ExpectedKeys([string] $DbSize) { ($DbSize -split ';' | ForEach-Object { [long]($_ -split '=')[1] } | Measure-Object -Sum).Sum }

    function Get-Fingerprint([string] $Directory) {
        Get-ChildItem -LiteralPath $Directory -File | Sort-Object Name | ForEach-Object { '{0}:{1}' -f $_.Name, (Get-FileHash -LiteralPath $_.FullName).Hash }
    }
}

Describe 'Repair-AofFile on a truncated tail' {
    BeforeAll {
        $script:row = $manifestRows | Where-Object path -eq 'generated/aof-truncated-tail/appendonlydir'
        $script:aofDir = Copy-AofFixture $row.path 'truncated'
    }

    It '-WhatIf shows the plan and changes nothing' {
        $before = Get-Fingerprint $aofDir
        $output = Repair-AofFile -Path $aofDir -WhatIf
        $output | Should -BeNullOrEmpty
        Get-Fingerprint $aofDir | Should -Be $before
    }

    It 'cuts the incomplete command in place, keeps a backup, and the result loads with the expected keys' {
        $result = Repair-AofFile -Path $aofDir -Confirm:$false
        $result.Action | Should -Be 'CutTruncatedTail'
        $result.BytesRemoved | Should -BeGreaterThan 0
        $result.BackupPath | Should -Exist
        (Test-AofFile -LiteralPath $aofDir).Status | Should -Be 'Valid'
        $server = Start-TestRedisServer -Directory (Split-Path $aofDir) -ExtraArgs '--appendonly', 'yes', '--appendfilename', 'fixture.aof', '--aof-load-truncated', 'no'
        try {
            Get-DbSize $server | Should -Be (Get-ExpectedKeys $row.dbsize)
            (redis-cli -p $server.Port debug digest) | Should -Be $row.digest
        } finally {
            $server | Stop-TestRedisServer
        }
    }
}

Describe 'Repair-AofFile in a runbook' {
    It 'never prompts under the default $ConfirmPreference: no -Confirm:$false needed' {
        $file = Join-Path $TestDrive 'runbook.aof'
        [IO.File]::WriteAllText($file, "*1`r`n`$4`r`nPING`r`n*3`r`n`$3`r`nSE")
        $ConfirmPreference = 'High'
        $result = Repair-AofFile -Path $file
        $result.Action | Should -Be 'CutTruncatedTail'
        (Get-Item -LiteralPath $file).Length | Should -Be 14
        $result.BackupPath | Should -Exist
    }
}

Describe 'Repair-AofFile on a corrupt middle' {
    BeforeAll {
        $script:aofDir = Copy-AofFixture 'generated/aof-corrupt-middle/appendonlydir' 'corrupt'
    }

    It 'refuses without -Force, says how much would be lost, and changes nothing' {
        $before = Get-Fingerprint $aofDir
        { Repair-AofFile -Path $aofDir -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AofRepairNeedsForce,*'
        Get-Fingerprint $aofDir | Should -Be $before
    }

    It '-WhatIf shows even a plan that needs -Force, without an error' {
        $before = Get-Fingerprint $aofDir
        Repair-AofFile -Path $aofDir -WhatIf -ErrorVariable errors
        $errors.Count | Should -Be 0
        Get-Fingerprint $aofDir | Should -Be $before
    }

    It 'with -Force and -Destination writes a loadable copy and leaves the original alone' {
        $before = Get-Fingerprint $aofDir
        $destination = Join-Path $TestDrive 'corrupt-fixed/appendonlydir'
        $result = Repair-AofFile -Path $aofDir -Force -Destination $destination -Confirm:$false
        $result.Action | Should -Be 'CutAtCorruption'
        $result.OutputPath | Should -Be $destination
        Get-Fingerprint $aofDir | Should -Be $before
        (Test-AofFile -LiteralPath $destination).Status | Should -Be 'Valid'
    }
}

Describe 'Repair-AofFile -BeforeCommand FLUSHALL on an AOF written by redis-server' {
    BeforeAll {
        $liveDir = Join-Path $TestDrive 'live'
        $live = Start-TestRedisServer -Directory $liveDir -ExtraArgs '--appendonly', 'yes', '--aof-timestamp-enabled', 'yes', '--appendfsync', 'always'
        try {
            1..40 | ForEach-Object { redis-cli -p $live.Port set "before:$_" "value $_" | Out-Null }
            redis-cli -p $live.Port flushall | Out-Null
            1..5 | ForEach-Object { redis-cli -p $live.Port set "after:$_" 'x' | Out-Null }
        } finally {
            $live | Stop-TestRedisServer
        }
        $script:original = Join-Path $liveDir 'appendonlydir'
    }

    It 'writes a copy without the FLUSHALL that a server loads with the data from before it' {
        $before = Get-Fingerprint $original
        $destination = Join-Path $TestDrive 'rescued/appendonlydir'
        $result = Repair-AofFile -Path $original -BeforeCommand FLUSHALL -Destination $destination -Confirm:$false
        $result.Action | Should -Be 'CutBeforeCommand'
        $result.CommandsRemoved | Should -Be 6
        Get-Fingerprint $original | Should -Be $before
        $server = Start-TestRedisServer -Directory (Join-Path $TestDrive 'rescued') -ExtraArgs '--appendonly', 'yes'
        try {
            Get-DbSize $server | Should -Be 40
            (redis-cli -p $server.Port get 'before:7') | Should -Be 'value 7'
        } finally {
            $server | Stop-TestRedisServer
        }
    }

    It 'refuses -ToTimestamp on an AOF without annotations' {
        $file = Join-Path $TestDrive 'plain.aof'
        [IO.File]::WriteAllText($file, "*1`r`n`$4`r`nPING`r`n")
        { Repair-AofFile -Path $file -ToTimestamp (Get-Date) -Destination (Join-Path $TestDrive 'plain-cut.aof') -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AofHasNoTimestamps,*'
    }
}
