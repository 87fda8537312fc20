using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// Finds calls that wait for a person (ShouldContinue, the host's prompts and reads, the console) in an assembly's
    /// member references: cmdlets run in scheduled tasks and runbooks, where nobody answers, so they must never prompt
    /// (ShouldProcess with -Confirm is PowerShell's own and allowed).
    /// </summary>
    internal static class PromptFinder
    {
        private static readonly IReadOnlyDictionary<string, string[]> Prompting = new Dictionary<string, string[]>
        {
            ["Cmdlet"] = new[] { "ShouldContinue" },
            ["PSCmdlet"] = new[] { "ShouldContinue" },
            ["ICommandRuntime"] = new[] { "ShouldContinue" },
            ["PSHostUserInterface"] = new[] { "Prompt", "PromptForChoice", "PromptForCredential", "ReadLine", "ReadLineAsSecureString" },
            ["PSHostRawUserInterface"] = new[] { "ReadKey" },
            ["Console"] = new[] { "Read", "ReadLine", "ReadKey" },
        };

        /// <summary>"Type.Member" for every prompting member the assembly references.</summary>
        public static IReadOnlyList<string> PromptingCalls(string assemblyPath)
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            var metadata = pe.GetMetadataReader();
            var calls = new List<string>();
            foreach (var handle in metadata.MemberReferences)
            {
                var member = metadata.GetMemberReference(handle);
                if (member.Parent.Kind != HandleKind.TypeReference)
                {
                    continue;
                }
                var type = metadata.GetString(metadata.GetTypeReference((TypeReferenceHandle)member.Parent).Name);
                var name = metadata.GetString(member.Name);
                if (Prompting.TryGetValue(type, out var members) && members.Contains(name))
                {
                    calls.Add($"{type}.{name}");
                }
            }
            return calls.Distinct().OrderBy(c => c).ToList();
        }
    }
}
