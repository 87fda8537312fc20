# The helper the other suites stand on: if it breaks, their failures would point at the module instead.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestRedisServer.psm1') -Force
}

Describe 'Start-TestRedisServer' {
    It 'starts a server on 127.0.0.1 in its own directory under the test drive' {
        $server = Start-TestRedisServer
        try {
            $server.Endpoint | Should -Be "127.0.0.1:$($server.Port)"
            $server.Directory | Should -BeLike "$((Get-PSDrive TestDrive).Root)*"
            Invoke-TestRedisCli -Server $server set greeting hello | Should -Be 'OK'
            Invoke-TestRedisCli -Server $server get greeting | Should -Be 'hello'
        } finally {
            $server | Stop-TestRedisServer
        }
        $server.Process.HasExited | Should -BeTrue
    }

    It 'loads config lines first: an ACL user, with the default user off' {
        $server = Start-TestRedisServer -ConfigLines 'user alice on >s3cret ~* +@all', 'user default off'
        try {
            $password = ConvertTo-SecureString 's3cret' -AsPlainText -Force
            Invoke-TestRedisCli -Server $server -User alice -Password $password acl whoami | Should -Be 'alice'
            # redis-cli prints the error reply (and exits 0): the connection without a user is refused.
            (Invoke-TestRedisCli -Server $server ping) -join "`n" | Should -BeLike '*NOAUTH*'
        } finally {
            $server | Stop-TestRedisServer
        }
    }

    It 'serves TLS only, with a CA it made' {
        $server = Start-TestRedisServer -Tls
        try {
            $server.Certificates.CaFile | Should -Exist
            Invoke-TestRedisCli -Server $server ping | Should -Be 'PONG'
        } finally {
            $server | Stop-TestRedisServer
        }
    }

    It 'restarts on the same port and directory with the data it saved' {
        $first = Start-TestRedisServer
        Invoke-TestRedisCli -Server $first set kept yes | Out-Null
        Invoke-TestRedisCli -Server $first save | Out-Null
        $first | Stop-TestRedisServer
        $second = Start-TestRedisServer -Directory $first.Directory -Port $first.Port
        try {
            Invoke-TestRedisCli -Server $second get kept | Should -Be 'yes'
        } finally {
            $second | Stop-TestRedisServer
        }
    }

    It 'reports the log tail when the server cannot start' {
        { Start-TestRedisServer -ExtraArgs '--no-such-option', 'x' -Timeout ([timespan]::FromSeconds(3)) } |
            Should -Throw '*redis-server did not start*'
    }
}

Describe 'Get-TestFixture' {
    It 'lists the manifest cases with their full paths' {
        $cases = @(Get-TestFixture -Kind rdb -Expect valid)
        $cases.Count | Should -BeGreaterThan 0
        $cases.kind | Sort-Object -Unique | Should -Be 'rdb'
        $cases | ForEach-Object { $_.FullPath | Should -Exist }
    }
}
