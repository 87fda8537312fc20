@{
    # ModuleVersion is stamped from Directory.Build.props <Version> when the build lays out out/RedisRecovery.
    RootModule             = 'RedisRecovery.PowerShell.dll'
    ModuleVersion          = '0.0.0'
    GUID                   = '5d0f3a52-8a4e-4f5e-9c53-0b7c9e2f6a41'
    Author                 = 'RedisRecovery contributors'
    CompanyName            = 'RedisRecovery'
    Copyright              = '(c) RedisRecovery contributors. All rights reserved.'
    Description            = 'Back up, verify and recover Redis databases: RDB/AOF checks and repair, snapshots, off-site copies, restores and Redis Cluster segment recovery.'
    PowerShellVersion      = '5.1'
    CompatiblePSEditions   = @('Desktop', 'Core')
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess       = @(
        'RedisRecovery.format.ps1xml'
        'RedisRecovery.Backup.format.ps1xml'
        'RedisRecovery.Rdb.format.ps1xml'
        'RedisRecovery.Aof.format.ps1xml'
        'RedisRecovery.Instance.format.ps1xml'
        'RedisRecovery.Restore.format.ps1xml'
        'RedisRecovery.Snapshot.format.ps1xml'
    )
    CmdletsToExport        = @(
        'Get-RedisBackup'
        'Remove-RedisBackup'
        'Test-RdbFile'
        'Test-AofFile'
        'Repair-AofFile'
        'Get-RedisInstanceStatus'
        'Restore-RedisDatabase'
        'Backup-RdbSnapshot'
        'Test-RedisBackup'
    )
    FunctionsToExport      = @()
    AliasesToExport        = @()
    VariablesToExport      = @()
    PrivateData            = @{
        PSData = @{
            Tags       = @('Redis', 'Backup', 'Recovery', 'RDB', 'AOF', 'Cluster', 'PSEdition_Core', 'PSEdition_Desktop')
        }
    }
}
