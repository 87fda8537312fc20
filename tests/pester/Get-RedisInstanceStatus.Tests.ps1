# Get-RedisInstanceStatus against real redis-server processes: plain, password/ACL, a managed-service look-alike, TLS.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force

    $script:password = 'Pester-Pa55'
    $script:aclPassword = 'Alice-Pa55'
    $script:plain = Start-TestRedisServer -Directory (Join-Path $TestDrive 'plain') -ExtraArgs @('--save', '900 1', '--appendonly', 'yes')
    $script:secured = Start-TestRedisServer -Directory (Join-Path $TestDrive 'secured') -ExtraArgs @(
        '--requirepass', $script:password, '--user', 'alice', 'on', ">$($script:aclPassword)", '~*', '+@all')
    $script:managed = Start-TestRedisServer -Directory (Join-Path $TestDrive 'managed') -ExtraArgs @(
        '--rename-command', 'CONFIG', '', '--rename-command', 'SYNC', '', '--rename-command', 'PSYNC', '',
        '--rename-command', 'BGSAVE', '', '--rename-command', 'DEBUG', '')

    redis-cli -p $script:plain.Port set greeting hello | Out-Null
    redis-cli -p $script:plain.Port -n 2 set counter 1 EX 600 | Out-Null

    function New-TestCredential([string] $UserName, [string] $Password) {
        [pscredential]::new($UserName, (ConvertTo-SecureString -String $Password -AsPlainText -Force))
    }
}

AfterAll {
    $script:plain, $script:secured, $script:managed | Where-Object { $_ } | Stop-TestRedisServer
}

Describe 'Get-RedisInstanceStatus' {
    Context 'a plain server' {
        It 'returns one typed status object with the facts of the server' {
            $status = Get-RedisInstanceStatus -Endpoint $script:plain.Endpoint
            $status | Should -HaveCount 1
            $status.GetType().FullName | Should -Be 'RedisRecovery.Resp.RedisInstanceStatus'
            $status.Endpoint | Should -Be $script:plain.Endpoint
            $status.Role | Should -Be 'master'
            $status.Version | Should -Match '^\d+\.\d+\.\d+$'
            $status.PersistenceSummary | Should -Be 'RDB+AOF'
            $status.SavePoints | Should -Be '900 1'
            $status.DbFilename | Should -Be 'dump.rdb'
            $status.TotalKeys | Should -Be 2
            ($status.Databases | Where-Object Database -EQ 2).Expires | Should -Be 1
            $status.Warnings | Should -BeNullOrEmpty
        }

        It 'takes endpoints from the pipeline, by value and by property name' {
            $byValue = $script:plain.Endpoint, $script:managed.Endpoint | Get-RedisInstanceStatus
            ($byValue.Endpoint -join ' ') | Should -Be "$($script:plain.Endpoint) $($script:managed.Endpoint)"
            $byProperty = [pscustomobject]@{ Endpoint = $script:plain.Endpoint } | Get-RedisInstanceStatus
            $byProperty.Endpoint | Should -Be $script:plain.Endpoint
        }

        It 'shows the default table view columns' {
            $table = Get-RedisInstanceStatus -Endpoint $script:plain.Endpoint | Format-Table | Out-String
            $table | Should -Match 'Endpoint\s+Role\s+Version\s+Persistence\s+LastSave\s+Keys\s+Warnings'
            $table | Should -Match ([regex]::Escape($script:plain.Endpoint) + '\s+master\s+\S+\s+RDB\+AOF')
        }
    }

    Context 'authentication' {
        It 'logs in with the requirepass password as user "default"' {
            $status = Get-RedisInstanceStatus -Endpoint $script:secured.Endpoint -Credential (New-TestCredential 'default' $script:password)
            $status.Role | Should -Be 'master'
        }

        It 'logs in as an ACL user' {
            $status = Get-RedisInstanceStatus -Endpoint $script:secured.Endpoint -Credential (New-TestCredential 'alice' $script:aclPassword)
            $status.ConfigAvailable | Should -BeTrue
        }

        It 'reports a wrong password as AuthenticationFailed without echoing it' {
            $result = Get-RedisInstanceStatus -Endpoint $script:secured.Endpoint -Credential (New-TestCredential 'alice' 'Not-The-Pa55') -ErrorVariable failures -ErrorAction SilentlyContinue
            $result | Should -BeNullOrEmpty
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
            $failures[0].CategoryInfo.Category | Should -Be 'AuthenticationError'
            $failures[0].TargetObject | Should -Be $script:secured.Endpoint
            ($failures[0] | Out-String) | Should -Not -Match 'Not-The-Pa55'
        }

        It 'reports a missing credential as AuthenticationRequired' {
            Get-RedisInstanceStatus -Endpoint $script:secured.Endpoint -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'AuthenticationRequired,*'
        }

        It 'never shows a password given inside a redis:// endpoint' {
            $status = Get-RedisInstanceStatus -Endpoint "redis://alice:$($script:aclPassword)@$($script:secured.Endpoint)/0"
            $status.Endpoint | Should -Be "redis://alice@$($script:secured.Endpoint)"
            ($status | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($script:aclPassword))
        }
    }

    Context 'failures per endpoint' {
        It 'writes ConnectionRefused for a closed port and still returns the other endpoints' {
            $closed = "127.0.0.1:$(Get-FreeTcpPort)"
            $results = Get-RedisInstanceStatus -Endpoint $closed, $script:plain.Endpoint -ErrorVariable failures -ErrorAction SilentlyContinue
            $results.Endpoint | Should -Be $script:plain.Endpoint
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'ConnectionRefused,*'
            $failures[0].CategoryInfo.Category | Should -Be 'ConnectionError'
            $failures[0].TargetObject | Should -Be $closed
            $failures[0].Exception.Message | Should -Match ([regex]::Escape($closed))
        }

        It 'writes InvalidEndpoint for text that is not an endpoint' {
            Get-RedisInstanceStatus -Endpoint 'host:notaport' -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidEndpoint,*'
            $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'stops the pipeline with -ErrorAction Stop' {
            { Get-RedisInstanceStatus -Endpoint "127.0.0.1:$(Get-FreeTcpPort)" -ErrorAction Stop } | Should -Throw -ErrorId 'ConnectionRefused,*'
        }
    }

    Context 'a managed service that hides CONFIG' {
        It 'reports unknown persistence settings and warns' {
            $status = Get-RedisInstanceStatus -Endpoint $script:managed.Endpoint
            $status.ConfigAvailable | Should -BeFalse
            $status.PersistenceSummary | Should -Be 'unknown'
            $status.SavePoints | Should -BeNullOrEmpty
            $status.Warnings | Should -HaveCount 1
            $status.Warnings[0] | Should -BeLike 'CONFIG is unavailable*'
        }
    }

    Context 'TLS' -Skip:(-not (Get-Command openssl -ErrorAction SilentlyContinue)) {
        BeforeAll {
            $pki = Join-Path $TestDrive 'pki'
            New-Item -ItemType Directory -Path $pki | Out-Null
            Push-Location $pki
            try {
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj '/CN=Pester CA' -keyout ca.key -out ca.crt `
                    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>$null
                openssl req -newkey rsa:2048 -nodes -subj '/CN=Pester server' -keyout server.key -out server.csr 2>$null
                Set-Content -Path server.ext -Value 'subjectAltName=IP:127.0.0.1,DNS:localhost'
                openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out server.crt -extfile server.ext 2>$null
            }
            finally {
                Pop-Location
            }
            $script:caPath = Join-Path $pki 'ca.crt'
            $script:tlsPort = Get-FreeTcpPort
            $script:tls = Start-TestRedisServer -Directory (Join-Path $TestDrive 'tls') -ExtraArgs @(
                '--tls-port', $script:tlsPort, '--tls-cert-file', (Join-Path $pki 'server.crt'),
                '--tls-key-file', (Join-Path $pki 'server.key'), '--tls-ca-cert-file', $script:caPath, '--tls-auth-clients', 'no')
        }

        AfterAll {
            # Here, not in the file's AfterAll: Pester clears this Context's TestDrive files (the server's directory
            # and log) when the Context ends.
            $script:tls | Where-Object { $_ } | Stop-TestRedisServer
        }

        It 'connects over TLS with the CA that signed the server certificate' {
            $status = Get-RedisInstanceStatus -Endpoint "127.0.0.1:$($script:tlsPort)" -UseTls -CaCertificatePath $script:caPath
            $status.Endpoint | Should -Be "rediss://127.0.0.1:$($script:tlsPort)"
            $status.Role | Should -Be 'master'
        }

        It 'refuses an untrusted certificate with TlsHandshakeFailed' {
            Get-RedisInstanceStatus -Endpoint "rediss://127.0.0.1:$($script:tlsPort)" -ErrorVariable failures -ErrorAction SilentlyContinue
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'TlsHandshakeFailed,*'
            $failures[0].Exception.Message | Should -Match 'not trusted'
        }

        It 'accepts any certificate with -SkipCertificateCheck, with a warning' {
            $status = Get-RedisInstanceStatus -Endpoint "rediss://127.0.0.1:$($script:tlsPort)" -SkipCertificateCheck -WarningVariable warnings -WarningAction SilentlyContinue
            $status.Role | Should -Be 'master'
            $warnings | Should -HaveCount 1
            "$($warnings[0])" | Should -Match 'SkipCertificateCheck'
        }
    }
}
