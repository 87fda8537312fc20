using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace RedisRecovery.Bench
{
    /// <summary>RedisRecovery.Bench &lt;verb&gt; [arguments]: one verb per measured engine operation.</summary>
    public static class Program
    {
        private static readonly Dictionary<string, Func<string[], Task<int>>> Verbs = new(StringComparer.OrdinalIgnoreCase)
        {
            ["s3-upload"] = S3TransferBench.UploadAsync,
            ["s3-download"] = S3TransferBench.DownloadAsync,
        };

        public static async Task<int> Main(string[] args)
        {
            if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
            {
                Console.Error.WriteLine("usage: RedisRecovery.Bench <verb> [arguments]; verbs: " + string.Join(", ", Verbs.Keys));
                return 2;
            }
            try
            {
                return await verb(args.Skip(1).ToArray());
            }
            catch (RedisRecoveryException e)
            {
                Console.Error.WriteLine($"{e.ErrorId}: {e.Message}");
                return 1;
            }
        }
    }
}
