# Helpers for the module's Pester 5 suites (PowerShell 7.4+): real redis-server processes on 127.0.0.1 with a free
# port and their own directory (under the test drive unless told otherwise), the module under test, and the shared
# fixture files. Start-TestRedisServer / Stop-TestRedisServer keep the signatures of ../shared/examples/pester.

$script:RepositoryRoot = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)

function Get-RedisRecoveryModulePath {
    # Invoke-PesterSuite.ps1 -ModulePath sets REDISRECOVERY_MODULE; a suite run on its own uses the build output.
    [CmdletBinding()]
    [OutputType([string])]
    param()
    if ($env:REDISRECOVERY_MODULE) { return $env:REDISRECOVERY_MODULE }
    Join-Path $script:RepositoryRoot 'out/RedisRecovery'
}

function Get-FreeTcpPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function New-TestDirectory {
    # A new empty directory under Pester's TestDrive (removed by Pester after the block), or under the temp
    # directory when called outside Pester.
    [CmdletBinding()]
    [OutputType([string])]
    param([string] $Name = 'dir')
    $drive = Get-PSDrive -Name TestDrive -PSProvider FileSystem -ErrorAction SilentlyContinue
    $root = if ($drive) { $drive.Root } else { [System.IO.Path]::GetTempPath() }
    $path = Join-Path $root ('{0}-{1}' -f $Name, [guid]::NewGuid().ToString('N').Substring(0, 8))
    (New-Item -ItemType Directory -Path $path -Force).FullName
}

function New-TestCertificateSet {
    # A CA and a server certificate for localhost/127.0.0.1 signed by it, made with openssl in $Directory.
    param([string] $Directory)
    $file = @{ CaFile = 'ca.crt'; CaKey = 'ca.key'; Certificate = 'server.crt'; Key = 'server.key'; Request = 'server.csr'; Names = 'san.cnf' }
    foreach ($name in @($file.Keys)) { $file[$name] = Join-Path $Directory $file[$name] }
    Set-Content -LiteralPath $file.Names -Value 'subjectAltName=DNS:localhost,IP:127.0.0.1' -Encoding ascii
    $steps = @(
        @('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', $file.CaKey, '-out', $file.CaFile, '-days', '2', '-subj', '/CN=RedisRecovery Test CA'),
        @('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', $file.Key, '-out', $file.Request, '-subj', '/CN=localhost'),
        @('x509', '-req', '-in', $file.Request, '-CA', $file.CaFile, '-CAkey', $file.CaKey, '-CAcreateserial', '-out', $file.Certificate, '-days', '2', '-extfile', $file.Names)
    )
    foreach ($step in $steps) {
        $output = & openssl @step 2>&1
        if ($LASTEXITCODE -ne 0) { throw "openssl $($step[0]) failed: $output" }
    }
    [pscustomobject]$file
}

function Test-RedisAnswers {
    # True once the server answers PING with anything but -LOADING (-NOAUTH also means it is up).
    param([int] $Port, [switch] $Tls)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $client.Connect('127.0.0.1', $Port)
        $stream = $client.GetStream()
        if ($Tls) {
            # Only readiness is checked here; the certificate is the one this module just made.
            $stream = [System.Net.Security.SslStream]::new($stream, $false, { $true })
            $stream.AuthenticateAsClient('localhost')
        }
        $stream.ReadTimeout = 2000
        $ping = [System.Text.Encoding]::ASCII.GetBytes("PING`r`n")
        $stream.Write($ping, 0, $ping.Length)
        $buffer = [byte[]]::new(64)
        $count = $stream.Read($buffer, 0, $buffer.Length)
        $count -gt 0 -and [System.Text.Encoding]::ASCII.GetString($buffer, 0, $count) -notlike '-LOADING*'
    } catch {
        $false
    } finally {
        $client.Dispose()
    }
}

function Start-TestRedisServer {
    <#
    .SYNOPSIS
    Starts redis-server on 127.0.0.1 and waits until it answers.
    .PARAMETER Directory
    The server's working directory (dump.rdb, appendonlydir, redis.log). Default: a new directory under TestDrive.
    .PARAMETER ExtraArgs
    Command-line options, e.g. '--appendonly', 'yes'.
    .PARAMETER ConfigLines
    redis.conf lines written to Directory/redis.conf and loaded first: use it for values that are awkward on a
    command line, e.g. 'rename-command CONFIG ""' or 'user alice on >secret ~* +@all'.
    .PARAMETER Port
    A fixed port, e.g. to restart a server where it was; default a free one.
    .PARAMETER Tls
    Serve TLS only on the port, with a CA and a localhost/127.0.0.1 server certificate made with openssl in Directory
    (client certificates optional; pass '--tls-auth-clients', 'yes' in ExtraArgs to require them).
    .OUTPUTS
    An object with Endpoint (127.0.0.1:port), Port, Process, Directory, Log, and for -Tls Certificates (CaFile,
    CaKey, Certificate, Key: paths, to sign client certificates too).
    #>
    [CmdletBinding()]
    param(
        [string] $Directory,
        [string[]] $ExtraArgs = @(),
        [string[]] $ConfigLines = @(),
        [int] $Port = 0,
        [switch] $Tls,
        [string] $RedisServerPath = 'redis-server',
        [timespan] $Timeout = [timespan]::FromSeconds(10)
    )
    if (-not $Directory) { $Directory = New-TestDirectory -Name 'redis' }
    New-Item -ItemType Directory -Path $Directory -Force | Out-Null
    $Directory = (Resolve-Path -LiteralPath $Directory).ProviderPath
    if ($Port -eq 0) { $Port = Get-FreeTcpPort }
    $log = Join-Path $Directory 'redis.log'

    $start = [System.Diagnostics.ProcessStartInfo]::new($RedisServerPath)
    $start.UseShellExecute = $false
    if ($ConfigLines.Count -gt 0) {
        $config = Join-Path $Directory 'redis.conf'
        Set-Content -LiteralPath $config -Value $ConfigLines -Encoding ascii
        $start.ArgumentList.Add($config)
    }
    # ArgumentList passes each value as one argument, so the empty save list needs no shell quoting.
    $arguments = @('--port', $Port, '--bind', '127.0.0.1', '--dir', $Directory, '--save', '',
                   '--appendonly', 'no', '--enable-debug-command', 'yes', '--logfile', $log)
    $certificates = $null
    if ($Tls) {
        $certificates = New-TestCertificateSet -Directory $Directory
        $arguments += @('--port', '0', '--tls-port', $Port, '--tls-cert-file', $certificates.Certificate,
                        '--tls-key-file', $certificates.Key, '--tls-ca-cert-file', $certificates.CaFile, '--tls-auth-clients', 'optional')
    }
    $arguments += $ExtraArgs
    foreach ($argument in $arguments) { $start.ArgumentList.Add([string]$argument) }
    $process = [System.Diagnostics.Process]::Start($start)

    $deadline = [datetime]::UtcNow + $Timeout
    while ([datetime]::UtcNow -lt $deadline -and -not $process.HasExited) {
        if (Test-RedisAnswers -Port $Port -Tls:$Tls) {
            return [pscustomobject]@{
                Endpoint     = "127.0.0.1:$Port"
                Port         = $Port
                Process      = $process
                Directory    = $Directory
                Log          = $log
                Certificates = $certificates
            }
        }
        Start-Sleep -Milliseconds 50
    }
    $tail = if (Test-Path -LiteralPath $log) { (Get-Content -LiteralPath $log -Tail 5) -join "`n" } else { '(no log)' }
    if (-not $process.HasExited) { $process.Kill() }
    throw "redis-server did not start on port $Port`n$tail"
}

function Stop-TestRedisServer {
    param([Parameter(ValueFromPipeline)] $Server)
    process {
        if ($Server -and -not $Server.Process.HasExited) {
            $Server.Process.Kill()
            $Server.Process.WaitForExit(5000) | Out-Null
        }
    }
}

function Invoke-TestRedisCli {
    <#
    .SYNOPSIS
    Runs one redis-cli command against a test server and returns its output lines; throws when redis-cli fails.
    .EXAMPLE
    Invoke-TestRedisCli -Server $server set greeting hello
    #>
    # Not positional: every word after the named parameters belongs to the command.
    [CmdletBinding(PositionalBinding = $false)]
    param(
        [Parameter(Mandatory)] $Server,
        [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Command,
        [string] $User,
        [securestring] $Password
    )
    $arguments = @('-h', '127.0.0.1', '-p', $Server.Port)
    if ($Server.Certificates) { $arguments += @('--tls', '--cacert', $Server.Certificates.CaFile) }
    if ($User) { $arguments += @('--user', $User) }
    if ($Password) {
        # REDISCLI_AUTH keeps the password off the command line (and out of process listings).
        $env:REDISCLI_AUTH = [System.Net.NetworkCredential]::new('', $Password).Password
    }
    try {
        $output = & redis-cli @arguments @Command
        if ($LASTEXITCODE -ne 0) { throw "redis-cli $($Command -join ' ') failed with exit code $LASTEXITCODE" }
        $output
    } finally {
        Remove-Item Env:REDISCLI_AUTH -ErrorAction SilentlyContinue
    }
}

function Get-TestFixture {
    <#
    .SYNOPSIS
    The cases of the shared fixtures' MANIFEST.tsv ($env:REDISRECOVERY_FIXTURES, default ../shared/fixtures beside the
    repository), each with FullPath added. The files are read-only: copy one before a test changes it.
    .EXAMPLE
    Get-TestFixture -Kind rdb -Expect valid | Where-Object native_load -eq 'ok'
    #>
    [CmdletBinding()]
    param(
        [ValidateSet('rdb', 'aof', 'aofdir')] [string] $Kind,
        [ValidateSet('valid', 'corrupt')] [string] $Expect
    )
    $root = if ($env:REDISRECOVERY_FIXTURES) { $env:REDISRECOVERY_FIXTURES } else { Join-Path (Split-Path -Parent $script:RepositoryRoot) 'shared/fixtures' }
    Import-Csv -LiteralPath (Join-Path $root 'MANIFEST.tsv') -Delimiter "`t" |
        Where-Object { (-not $Kind -or $_.kind -eq $Kind) -and (-not $Expect -or $_.expect -eq $Expect) } |
        ForEach-Object { $_ | Add-Member -NotePropertyName FullPath -NotePropertyValue (Join-Path $root $_.path) -PassThru }
}

Export-ModuleMember -Function Get-RedisRecoveryModulePath, Get-FreeTcpPort, New-TestDirectory, Start-TestRedisServer,
    Stop-TestRedisServer, Invoke-TestRedisCli, Get-TestFixture
