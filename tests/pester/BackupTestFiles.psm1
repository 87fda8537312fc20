# Lays out backups by hand for the catalog and retention suites: a backup file named
# <name>_<yyyyMMddTHHmmssZ>.rdb and its sidecar <file>.json (schema 1), written without the module so the suites
# test the cmdlets against files they did not produce themselves.

function New-TestBackup {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Directory,
        [Parameter(Mandatory)] [string] $Name,
        [Parameter(Mandatory)] [datetime] $CreatedUtc,
        [byte[]] $Content = [System.Text.Encoding]::ASCII.GetBytes('REDIS0011 test backup'),
        [switch] $NoSidecar
    )
    $invariant = [System.Globalization.CultureInfo]::InvariantCulture
    $utc = if ($CreatedUtc.Kind -eq 'Unspecified') { [datetime]::SpecifyKind($CreatedUtc, 'Utc') } else { $CreatedUtc.ToUniversalTime() }
    New-Item -ItemType Directory -Path $Directory -Force | Out-Null
    $file = Join-Path $Directory ('{0}_{1}.rdb' -f $Name, $utc.ToString("yyyyMMdd'T'HHmmss'Z'", $invariant))
    [System.IO.File]::WriteAllBytes($file, $Content)
    if (-not $NoSidecar) {
        $sha = [System.Security.Cryptography.SHA256]::Create()
        $hex = -join ($sha.ComputeHash($Content) | ForEach-Object { $_.ToString('x2') })
        $sidecar = [ordered]@{
            schemaVersion   = 1
            name            = $Name
            endpoint        = '127.0.0.1:6379'
            method          = 'Replication'
            createdUtc      = $utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", $invariant)
            sizeBytes       = $Content.Length
            sha256          = $hex
            rdbVersion      = 11
            redisVersion    = '7.0.15'
            keysPerDatabase = @{ '0' = 3 }
            pointInTime     = $true
            encrypted       = $false
        }
        # UTF-8 without a byte order mark, as the module writes it.
        [System.IO.File]::WriteAllText("$file.json", ($sidecar | ConvertTo-Json))
    }
    Get-Item -LiteralPath $file
}

Export-ModuleMember -Function New-TestBackup
