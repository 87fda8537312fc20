# The module as PowerShell itself sees it: what it exports, its help, -WhatIf, repeated imports and the dependency
# isolation next to modules that load their own AWSSDK.Core or System.Text.Json. The static contract (verbs, parameter
# sets, views, docs) is checked without PowerShell in tests/RedisRecovery.PowerShell.Tests.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    $manifest = Import-PowerShellDataFile (Join-Path (Get-RedisRecoveryModulePath) 'RedisRecovery.psd1')
    $cmdletNames = @($manifest.CmdletsToExport)
    # Modules known to bring their own copies of assemblies we ship too; each case runs only where it is installed.
    $conflictingModules = @('AWS.Tools.Common', 'Az.Accounts') | ForEach-Object {
        @{ Name = $_; Installed = [bool](Get-Module -ListAvailable -Name $_) }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    $script:modulePath = Get-RedisRecoveryModulePath
    $script:manifest = Import-PowerShellDataFile (Join-Path $modulePath 'RedisRecovery.psd1')
    $script:module = Import-Module $modulePath -Force -PassThru -ErrorAction Stop
    $script:pwsh = (Get-Process -Id $PID).Path

    function Invoke-FreshSession([string] $Script) {
        # A new process, so that what one case loads cannot hide what another case needs.
        $output = & $script:pwsh -NoProfile -NonInteractive -Command $Script 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }
}

Describe 'importing RedisRecovery' {
    It 'imports the laid-out module with the manifest version' {
        $module.Name | Should -Be 'RedisRecovery'
        $module.Version | Should -Be ([version]$manifest.ModuleVersion)
        (Get-Item -LiteralPath $module.ModuleBase).FullName.TrimEnd('\', '/') |
            Should -Be (Get-Item -LiteralPath $modulePath).FullName.TrimEnd('\', '/')
    }

    It 'exports exactly the cmdlets the manifest lists' {
        $exported = @(Get-Command -Module RedisRecovery -CommandType Cmdlet | ForEach-Object Name | Sort-Object)
        ($exported -join ', ') | Should -BeExactly ((@($manifest.CmdletsToExport) | Sort-Object) -join ', ')
    }

    It 'exports no functions' {
        @(Get-Command -Module RedisRecovery -CommandType Function).Count | Should -Be 0
    }

    It 'imports a second time into the same session' {
        { Import-Module $modulePath -Force -ErrorAction Stop } | Should -Not -Throw
        @(Get-Module RedisRecovery).Count | Should -Be 1
    }

    It 'removes and imports again' {
        Remove-Module RedisRecovery -ErrorAction Stop
        { Import-Module $modulePath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'imports in a fresh session and lists its cmdlets' {
        $session = Invoke-FreshSession "Import-Module '$modulePath' -ErrorAction Stop; (Get-Command -Module RedisRecovery).Count"
        $session.ExitCode | Should -Be 0 -Because $session.Output
        [int]($session.Output.Trim() -split "`n")[-1] | Should -Be @($manifest.CmdletsToExport).Count
    }

    It 'loads the engine into its private load context' -Skip:($PSVersionTable.PSEdition -ne 'Core') {
        # The cmdlets resolve the engine by name from the default context, exactly like this.
        $engine = [System.Runtime.Loader.AssemblyLoadContext]::Default.LoadFromAssemblyName([System.Reflection.AssemblyName]::new('RedisRecovery'))
        [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name | Should -Be 'RedisRecovery.Engine'
        $engine.Location | Should -Be ([System.IO.Path]::Combine($module.ModuleBase, 'bin', 'Core', 'RedisRecovery.dll'))
    }
}

Describe 'next to <Name>, which loads its own dependencies' -ForEach $conflictingModules {
    It 'imports after <Name>' -Skip:(-not $Installed) {
        $session = Invoke-FreshSession "Import-Module $Name -ErrorAction Stop; Import-Module '$modulePath' -ErrorAction Stop; (Get-Command -Module RedisRecovery).Count"
        $session.ExitCode | Should -Be 0 -Because $session.Output
    }

    It 'lets <Name> import after it' -Skip:(-not $Installed) {
        $session = Invoke-FreshSession "Import-Module '$modulePath' -ErrorAction Stop; Import-Module $Name -ErrorAction Stop; (Get-Command -Module $Name).Count"
        $session.ExitCode | Should -Be 0 -Because $session.Output
    }
}

Describe '<_>' -ForEach $cmdletNames {
    BeforeAll {
        $command = Get-Command -Name $_ -Module RedisRecovery -ErrorAction Stop
        $cmdletAttribute = $command.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
    }

    It 'has help with its syntax' {
        $help = Get-Help -Name $_ -Full -ErrorAction Stop
        $help.Name | Should -Be $_
        $help.Syntax | Should -Not -BeNullOrEmpty
    }

    It 'has -WhatIf and -Confirm when it supports ShouldProcess' {
        if (-not $cmdletAttribute.SupportsShouldProcess) {
            Set-ItResult -Skipped -Because 'it does not change state'
            return
        }
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.Parameters.Keys | Should -Contain 'Confirm'
    }

    It 'declares an output type' {
        $command.OutputType | Should -Not -BeNullOrEmpty
    }
}
