using System.Threading.Tasks;
using RedisRecovery.Tests.Infrastructure;

namespace RedisRecovery.Tests.Infrastructure
{
    public sealed class HarnessTests
    {
        [Fact]
        public void Manifest_ListsEveryFixtureFileThatExists()
        {
            Assert.NotEmpty(FixtureManifest.Cases);
            foreach (var fixture in FixtureManifest.Cases)
            {
                Assert.True(System.IO.File.Exists(fixture.FullPath) || System.IO.Directory.Exists(fixture.FullPath), fixture.RelativePath);
            }
        }

        [Fact]
        public async Task RedisServer_StartsOnAFreeLoopbackPort_AndIsKilledOnDispose()
        {
            var server = await RedisServerProcess.StartAsync();
            Assert.StartsWith("127.0.0.1:", server.Endpoint);
            Assert.False(server.HasExited);
            server.Dispose();
            Assert.True(server.HasExited);
        }
    }
}
