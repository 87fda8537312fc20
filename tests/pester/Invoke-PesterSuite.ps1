#Requires -Version 7.4
<#
.SYNOPSIS
Runs every *.Tests.ps1 under tests/pester with Pester 5 against a laid-out module.

.DESCRIPTION
The suites import the module from -ModulePath (passed to them as $env:REDISRECOVERY_MODULE). The last line of output is
always exactly "N passed, N failed, N skipped": tests/run-all.sh adds it to the xUnit totals. A block whose setup or
teardown failed, or a file that could not run at all, counts as a failure. The exit code is 0 only when nothing failed.

.EXAMPLE
pwsh -NoProfile -File tests/pester/Invoke-PesterSuite.ps1 -ModulePath out/RedisRecovery
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    # Suites to run (files or folders); default: every *.Tests.ps1 beside this script.
    [string[]] $Path = @($PSScriptRoot)
)

function Write-Summary([int] $Passed, [int] $Failed, [int] $Skipped) {
    "$Passed passed, $Failed failed, $Skipped skipped"
    exit ([int]($Failed -gt 0))
}

try {
    Import-Module Pester -MinimumVersion 5.3.0 -ErrorAction Stop
    $env:REDISRECOVERY_MODULE = (Resolve-Path -LiteralPath $ModulePath -ErrorAction Stop).ProviderPath
} catch {
    Write-Error "Cannot run the Pester suites: $_" -ErrorAction Continue
    Write-Summary 0 1 0
}

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Run.Exit = $false
$configuration.Output.Verbosity = 'Detailed'
$result = Invoke-Pester -Configuration $configuration

$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
Write-Summary $result.PassedCount $failed ($result.SkippedCount + $result.NotRunCount)
