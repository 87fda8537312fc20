BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'BackupTestFiles.psm1') -Force
}

Describe 'Remove-RedisBackup' {
    BeforeEach {
        $script:dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $now = [datetime]::UtcNow
        # Far enough apart that no hour or day boundary during the run changes the outcome.
        $script:newest = New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc $now.AddMinutes(-1)
        $script:old = New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc $now.AddDays(-400)
        $script:older = New-TestBackup -Directory $dir -Name 'cache-6379' -CreatedUtc $now.AddDays(-401)
        $script:otherOld = New-TestBackup -Directory $dir -Name 'sessions-6380' -CreatedUtc $now.AddDays(-500)
    }

    It 'declares ShouldProcess with ConfirmImpact High' {
        $command = Get-Command Remove-RedisBackup
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $attribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attribute.ConfirmImpact | Should -Be 'High'
        $command.DefaultParameterSet | Should -Be 'Backup'
    }

    Context 'backups piped in' {
        It 'removes each backup and its sidecar and says so' {
            $removed = @(Get-RedisBackup -Path $dir -Name 'cache-6379' | Where-Object CreatedUtc -lt ([datetime]::UtcNow.AddDays(-1)) | Remove-RedisBackup -Confirm:$false)
            $removed.Count | Should -Be 2
            $removed.Removed | Should -Be @($true, $true)
            $removed[0].GetType().FullName | Should -Be 'RedisRecovery.Backup.BackupRemoval'
            $old.FullName | Should -Not -Exist
            "$($old.FullName).json" | Should -Not -Exist
            $older.FullName | Should -Not -Exist
            $newest.FullName | Should -Exist
        }

        It 'accepts files from Get-ChildItem by their path' {
            Get-ChildItem -LiteralPath $old.FullName | Remove-RedisBackup -Confirm:$false | Out-Null
            $old.FullName | Should -Not -Exist
        }

        It 'deletes nothing with -WhatIf' {
            Get-RedisBackup -Path $dir | Remove-RedisBackup -WhatIf
            @(Get-ChildItem -LiteralPath $dir).Count | Should -Be 8
        }

        It 'refuses a file that is not a backup' {
            $dump = Join-Path $dir 'dump.rdb'
            Set-Content -LiteralPath $dump -Value 'x'
            Remove-RedisBackup -Path $dump -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'NotABackupFile,*'
            $dump | Should -Exist
        }
    }

    Context 'retention policy' {
        It 'with -WhatIf returns the plan with a reason for each backup and deletes nothing' {
            $plan = @(Remove-RedisBackup -Path $dir -KeepHourly 48 -KeepDaily 30 -WhatIf)
            $plan.Count | Should -Be 4
            ($plan | Where-Object Action -eq 'Delete').Path | Sort-Object | Should -Be (@($old.FullName, $older.FullName) | Sort-Object)
            $plan.Removed | Should -Not -Contain $true
            $plan.Reason | Should -Not -Contain ''
            @(Get-ChildItem -LiteralPath $dir).Count | Should -Be 8
        }

        It 'removes what no rule keeps and never the newest valid backup of a name' {
            $result = @(Remove-RedisBackup -Path $dir -KeepHourly 48 -KeepDaily 30 -Confirm:$false)
            ($result | Where-Object Removed).Path | Sort-Object | Should -Be (@($old.FullName, $older.FullName) | Sort-Object)
            $newest.FullName | Should -Exist
            # Only backup of its name, far older than every window: kept as the newest valid one.
            $otherOld.FullName | Should -Exist
            ($result | Where-Object Path -eq $otherOld.FullName).KeptBy | Should -Be 'NewestValid'
            @(Get-ChildItem -LiteralPath $dir -Filter *.json).Count | Should -Be 2
        }

        It 'limits the run to the names given' {
            $result = @(Remove-RedisBackup -Path $dir -Name 'sessions*' -KeepDaily 1 -Confirm:$false)
            $result.Count | Should -Be 1
            $result[0].Name | Should -Be 'sessions-6380'
            $old.FullName | Should -Exist
            $older.FullName | Should -Exist
        }

        It 'requires at least one Keep parameter' {
            $caught = $null
            try { Remove-RedisBackup -Path $dir -Name 'cache-6379' -Confirm:$false -ErrorAction Stop } catch { $caught = $_ }
            $caught.FullyQualifiedErrorId | Should -BeLike 'RetentionPolicyMissing,*'
            @(Get-ChildItem -LiteralPath $dir).Count | Should -Be 8
        }
    }
}
