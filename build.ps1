<#
.SYNOPSIS
Builds RedisRecovery and lays out the importable module in out/RedisRecovery; -Test also runs every test suite.

.DESCRIPTION
Works in Windows PowerShell 5.1 and PowerShell 7. Needs the .NET SDK on the PATH. `dotnet build` does all the work
(the cmdlet project lays out out/RedisRecovery); this script only adds the test run:
- where bash exists (Linux, macOS), tests/run-all.sh, the same command CI runs, which prints one summary line;
- elsewhere, `dotnet test` and then the Pester suites in a child pwsh (they need PowerShell 7.4+ and Pester 5).

.EXAMPLE
./build.ps1
Import-Module ./out/RedisRecovery

.EXAMPLE
./build.ps1 -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',

    [switch] $Test
)

$ErrorActionPreference = 'Stop'

function Invoke-Native([string] $FilePath, [string[]] $Arguments) {
    & $FilePath @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

$solution = Join-Path $PSScriptRoot 'RedisRecovery.sln'
$module = Join-Path $PSScriptRoot 'out/RedisRecovery'
Invoke-Native 'dotnet' @('build', $solution, '-c', $Configuration, '-nologo')
Write-Host "Module laid out in $module"

if (-not $Test) {
    return
}

# $IsWindows does not exist in Windows PowerShell 5.1, which only runs on Windows.
$onWindows = $PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows
$bash = Get-Command -Name bash -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if ($bash -and -not $onWindows) {
    # run-all.sh builds Release itself; it is what CI and the README run.
    Invoke-Native $bash.Source @((Join-Path $PSScriptRoot 'tests/run-all.sh'))
    return
}

Invoke-Native 'dotnet' @('test', $solution, '-c', $Configuration, '--no-build', '-nologo')
$pwsh = Get-Command -Name pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
if (-not $pwsh) {
    Write-Warning 'Pester suites not run: they need pwsh (PowerShell 7.4+) with Pester 5 on the PATH.'
    return
}
Invoke-Native $pwsh.Source @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'tests/pester/Invoke-PesterSuite.ps1'), '-ModulePath', $module)
