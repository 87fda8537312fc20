using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>The rules every cmdlet class must satisfy, each checkable on its own.</summary>
    public enum CmdletRule
    {
        PublicClass,
        BaseClass,
        ApprovedVerb,
        OutputType,
        ParameterSets,
        ParameterSetAmbiguity,
        DynamicParameters,
        ParameterNames,
        ShouldProcess,
        ConfirmImpact,
        SecretParameters,
    }

    internal sealed record ContractViolation(string Subject, string Rule, string Detail)
    {
        public override string ToString() => $"{Subject} [{Rule}]: {Detail}";
    }

    /// <summary>
    /// Checks one cmdlet's declared shape against the house rules (ARCHITECTURE.md, "The cmdlets") from metadata
    /// alone, and says what is wrong in terms the author can act on.
    /// </summary>
    internal sealed class CmdletContractChecker
    {
        /// <summary>Verbs whose cmdlets change or delete something, so -WhatIf/-Confirm must exist.</summary>
        public static readonly IReadOnlySet<string> StateChangingVerbs = new HashSet<string>(StringComparer.Ordinal)
        {
            "Add", "Backup", "Block", "Clear", "Copy", "Disable", "Dismount", "Enable", "Export", "Grant", "Import",
            "Initialize", "Install", "Invoke", "Lock", "Merge", "Mount", "Move", "New", "Protect", "Publish", "Register",
            "Remove", "Rename", "Repair", "Reset", "Restart", "Restore", "Resume", "Revoke", "Save", "Set", "Start",
            "Stop", "Suspend", "Sync", "Unblock", "Uninstall", "Unlock", "Unprotect", "Unpublish", "Unregister", "Update",
        };

        /// <summary>Verbs whose cmdlets destroy or overwrite data: they must ask by default (ConfirmImpact.High).</summary>
        public static readonly IReadOnlySet<string> DestructiveVerbs = new HashSet<string>(StringComparer.Ordinal)
        {
            "Clear", "Remove", "Restore",
        };

        /// <summary>Words that mark a parameter as carrying a secret (matched anywhere in the name, any case).</summary>
        private static readonly string[] SecretWords = { "Password", "Secret", "Credential", "Passphrase", "PrivateKey", "ApiKey", "EncryptionKey" };

        /// <summary>Endings that make such a name refer to where a secret lives, or to its id, not to the secret itself.</summary>
        private static readonly string[] NonSecretEndings = { "Path", "File", "Id", "Name", "Arn", "Uri", "Url" };

        private static readonly string[] SecretTypes = { "System.Management.Automation.PSCredential", "System.Security.SecureString" };

        /// <summary>Common parameters and their aliases: PowerShell refuses a cmdlet that declares one of these again.</summary>
        private static readonly IReadOnlySet<string> CommonParameterNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "Verbose", "vb", "Debug", "db", "ErrorAction", "ea", "WarningAction", "wa", "InformationAction", "infa",
            "ErrorVariable", "ev", "WarningVariable", "wv", "InformationVariable", "iv", "OutVariable", "ov",
            "OutBuffer", "ob", "PipelineVariable", "pv", "ProgressAction", "proga", "WhatIf", "wi", "Confirm", "cf",
        };

        private readonly IReadOnlySet<string> _approvedVerbs;
        private readonly string _baseClassFullName;

        public CmdletContractChecker(IReadOnlySet<string> approvedVerbs, string baseClassFullName)
        {
            _approvedVerbs = approvedVerbs;
            _baseClassFullName = baseClassFullName;
        }

        public IEnumerable<ContractViolation> Check(CmdletMetadata cmdlet, CmdletRule rule)
        {
            var details = rule switch
            {
                CmdletRule.PublicClass => PublicClass(cmdlet),
                CmdletRule.BaseClass => BaseClass(cmdlet),
                CmdletRule.ApprovedVerb => ApprovedVerb(cmdlet),
                CmdletRule.OutputType => OutputType(cmdlet),
                CmdletRule.ParameterSets => ParameterSets(cmdlet),
                CmdletRule.ParameterSetAmbiguity => ParameterSetAmbiguity(cmdlet),
                CmdletRule.DynamicParameters => DynamicParameters(cmdlet),
                CmdletRule.ParameterNames => ParameterNames(cmdlet),
                CmdletRule.ShouldProcess => ShouldProcess(cmdlet),
                CmdletRule.ConfirmImpact => ConfirmImpact(cmdlet),
                CmdletRule.SecretParameters => SecretParameters(cmdlet),
                _ => throw new ArgumentOutOfRangeException(nameof(rule)),
            };
            return details.Select(detail => new ContractViolation(cmdlet.Name, rule.ToString(), detail)).ToList();
        }

        public IEnumerable<ContractViolation> CheckAll(CmdletMetadata cmdlet) =>
            Enum.GetValues<CmdletRule>().SelectMany(rule => Check(cmdlet, rule));

        private static IEnumerable<string> PublicClass(CmdletMetadata cmdlet)
        {
            if (!cmdlet.Type.IsPublic)
            {
                yield return $"{cmdlet.Type.FullName} is not a public top-level class, so PowerShell will not export it";
            }
        }

        private IEnumerable<string> BaseClass(CmdletMetadata cmdlet)
        {
            for (var type = cmdlet.Type.BaseType; type != null; type = type.BaseType)
            {
                if (type.FullName == _baseClassFullName)
                {
                    yield break;
                }
            }
            yield return $"{cmdlet.Type.FullName} does not derive from {_baseClassFullName} (cancellation, progress and error mapping live there)";
        }

        private IEnumerable<string> ApprovedVerb(CmdletMetadata cmdlet)
        {
            if (!_approvedVerbs.Contains(cmdlet.Verb))
            {
                yield return $"'{cmdlet.Verb}' is not an approved verb (Get-Verb lists them)";
            }
        }

        private static IEnumerable<string> OutputType(CmdletMetadata cmdlet)
        {
            if (cmdlet.OutputTypes.Count == 0 && cmdlet.OutputTypeNames.Count == 0)
            {
                yield return "has no [OutputType]";
            }
            foreach (var name in cmdlet.OutputTypeNames)
            {
                yield return $"[OutputType(\"{name}\")] names a type by string; use typeof so the type can be checked";
            }
            foreach (var type in cmdlet.OutputTypes.Where(t => !IsVisible(t)))
            {
                yield return $"output type {type.FullName} is not public";
            }
        }

        private static IEnumerable<string> ParameterSets(CmdletMetadata cmdlet)
        {
            var explicitSets = cmdlet.ExplicitParameterSets;
            var defaultSet = cmdlet.DefaultParameterSetName;
            if (explicitSets.Count > 1 && defaultSet == null)
            {
                yield return $"has parameter sets {string.Join(", ", explicitSets)} but no DefaultParameterSetName";
            }
            if (defaultSet != null && explicitSets.Count > 0 && !explicitSets.Contains(defaultSet, StringComparer.OrdinalIgnoreCase))
            {
                yield return $"DefaultParameterSetName '{defaultSet}' is none of its parameter sets ({string.Join(", ", explicitSets)})";
            }
            foreach (var set in cmdlet.EffectiveParameterSets)
            {
                var members = cmdlet.MembersOf(set).ToList();
                foreach (var clash in members.Where(m => m.Entry.Position != null).GroupBy(m => m.Entry.Position).Where(g => g.Count() > 1))
                {
                    yield return $"{Names(clash.Select(m => m.Parameter))} share position {clash.Key} in set {DisplaySet(set)}";
                }
                foreach (var clash in members.Where(m => m.Entry.ValueFromPipeline).GroupBy(m => m.Parameter.Type.FullName).Where(g => g.Count() > 1))
                {
                    yield return $"{Names(clash.Select(m => m.Parameter))} all take {clash.Key} from the pipeline in set {DisplaySet(set)}";
                }
            }
        }

        /// <summary>
        /// Two sets, neither the default, where every parameter of one is in the other and the other needs nothing more
        /// (no extra mandatory parameter): a call giving only the smaller set's parameters fits both, and PowerShell
        /// fails with "Parameter set cannot be resolved" instead of choosing.
        /// </summary>
        private static IEnumerable<string> ParameterSetAmbiguity(CmdletMetadata cmdlet)
        {
            var sets = cmdlet.ExplicitParameterSets
                .Where(set => !string.Equals(set, cmdlet.DefaultParameterSetName, StringComparison.OrdinalIgnoreCase))
                .OrderBy(set => set, StringComparer.Ordinal).ToList();
            foreach (var smaller in sets)
            {
                var smallerMembers = cmdlet.MembersOf(smaller).Select(m => m.Parameter).ToList();
                foreach (var larger in sets.Where(set => set != smaller))
                {
                    var largerMembers = cmdlet.MembersOf(larger).ToList();
                    var contains = smallerMembers.All(p => largerMembers.Any(m => m.Parameter == p));
                    var addsMandatory = largerMembers.Any(m => m.Entry.Mandatory && !smallerMembers.Contains(m.Parameter));
                    // Equal sets would be reported twice; report them once, in name order.
                    var equal = contains && largerMembers.Count == smallerMembers.Count;
                    if (contains && !addsMandatory && (!equal || string.CompareOrdinal(smaller, larger) < 0))
                    {
                        var given = smallerMembers.Where(p => p.Sets.All(s => s.SetName != CmdletMetadata.AllParameterSets)).ToList();
                        yield return $"sets {smaller} and {larger} cannot be told apart: a call with only {(given.Count == 0 ? "the common parameters" : Names(given))} fits both, and neither is the default";
                    }
                }
            }
        }

        private static IEnumerable<string> DynamicParameters(CmdletMetadata cmdlet)
        {
            if (cmdlet.HasDynamicParameters && cmdlet.DynamicParameterTypes.Count == 0)
            {
                yield return "implements IDynamicParameters but holds no field of a class with [Parameter] members, so its dynamic parameters cannot be checked; keep the object GetDynamicParameters returns in a field";
            }
        }

        private static IEnumerable<string> ParameterNames(CmdletMetadata cmdlet)
        {
            foreach (var parameter in cmdlet.Parameters)
            {
                foreach (var name in parameter.NamesAndAliases.Where(CommonParameterNames.Contains))
                {
                    yield return $"-{parameter.Name} uses the name '{name}' of a common parameter";
                }
            }
            var claimed = cmdlet.Parameters.SelectMany(p => p.NamesAndAliases.Select(name => (Name: name, Parameter: p.Name)));
            foreach (var clash in claimed.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            {
                yield return $"the name '{clash.Key}' is claimed more than once (by {string.Join(", ", clash.Select(c => "-" + c.Parameter))})";
            }
        }

        private static IEnumerable<string> ShouldProcess(CmdletMetadata cmdlet)
        {
            if (StateChangingVerbs.Contains(cmdlet.Verb) && !cmdlet.SupportsShouldProcess)
            {
                yield return $"verb '{cmdlet.Verb}' changes state but the cmdlet does not declare SupportsShouldProcess";
            }
        }

        private static IEnumerable<string> ConfirmImpact(CmdletMetadata cmdlet)
        {
            if (DestructiveVerbs.Contains(cmdlet.Verb) && cmdlet.ConfirmImpact != CmdletMetadata.ConfirmImpactHigh)
            {
                yield return $"verb '{cmdlet.Verb}' destroys or overwrites data but ConfirmImpact is not High";
            }
        }

        private static IEnumerable<string> SecretParameters(CmdletMetadata cmdlet)
        {
            foreach (var parameter in cmdlet.Parameters.Where(p => IsSecretName(p.Name) && !IsSecretType(p.Type)))
            {
                if (parameter.Type.FullName == "System.Management.Automation.SwitchParameter")
                {
                    continue;
                }
                yield return $"-{parameter.Name} is a {parameter.Type.Name}; secrets must be PSCredential or SecureString";
            }
        }

        private static bool IsSecretName(string name) =>
            SecretWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase))
            && !NonSecretEndings.Any(ending => name.EndsWith(ending, StringComparison.OrdinalIgnoreCase));

        private static bool IsSecretType(Type type) =>
            SecretTypes.Contains((type.IsArray ? type.GetElementType()! : type).FullName);

        private static bool IsVisible(Type type) =>
            type.IsConstructedGenericType
                ? IsVisible(type.GetGenericTypeDefinition()) && type.GetGenericArguments().All(IsVisible)
                : type.IsArray ? IsVisible(type.GetElementType()!) : type.IsPublic || (type.IsNestedPublic && IsVisible(type.DeclaringType!));

        private static string Names(IEnumerable<CmdletParameter> parameters) =>
            string.Join(" and ", parameters.Select(p => "-" + p.Name));

        private static string DisplaySet(string set) => set == CmdletMetadata.AllParameterSets ? "(all)" : set;
    }
}
