using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// What PowerShell would learn about one cmdlet class from its attributes, read from metadata only
    /// (<see cref="CustomAttributeData"/>), so it works on types from a MetadataLoadContext.
    /// </summary>
    internal sealed class CmdletMetadata
    {
        public const string AllParameterSets = "__AllParameterSets";
        private const string Sma = "System.Management.Automation.";

        private CmdletMetadata(Type type, CustomAttributeData cmdlet)
        {
            Type = type;
            Verb = (string)cmdlet.ConstructorArguments[0].Value!;
            Noun = (string)cmdlet.ConstructorArguments[1].Value!;
            SupportsShouldProcess = NamedArgument(cmdlet, "SupportsShouldProcess", false);
            ConfirmImpact = NamedArgument(cmdlet, "ConfirmImpact", ConfirmImpactMedium);
            DefaultParameterSetName = NamedArgument<string?>(cmdlet, "DefaultParameterSetName", null);

            var outputTypes = new List<Type>();
            var outputTypeNames = new List<string>();
            foreach (var outputType in Attributes(type, "OutputTypeAttribute"))
            {
                foreach (var item in (IEnumerable<CustomAttributeTypedArgument>)outputType.ConstructorArguments[0].Value!)
                {
                    if (item.Value is Type declared)
                    {
                        outputTypes.Add(declared);
                    }
                    else
                    {
                        outputTypeNames.Add((string)item.Value!);
                    }
                }
            }
            OutputTypes = outputTypes;
            OutputTypeNames = outputTypeNames;
            HasDynamicParameters = type.GetInterfaces().Any(i => i.FullName == Sma + "IDynamicParameters");
            DynamicParameterTypes = HasDynamicParameters ? FindDynamicParameterTypes(type) : Array.Empty<Type>();
            Parameters = ReadParameters(type, isDynamic: false).Concat(DynamicParameterTypes.SelectMany(t => ReadParameters(t, isDynamic: true))).ToList();
        }

        /// <summary>System.Management.Automation.ConfirmImpact.Medium, the default of CmdletAttribute.</summary>
        public const int ConfirmImpactMedium = 2;

        /// <summary>System.Management.Automation.ConfirmImpact.High.</summary>
        public const int ConfirmImpactHigh = 3;

        public Type Type { get; }

        public string Verb { get; }

        public string Noun { get; }

        public string Name => Verb + "-" + Noun;

        public bool SupportsShouldProcess { get; }

        public int ConfirmImpact { get; }

        public string? DefaultParameterSetName { get; }

        /// <summary>Types named with typeof in [OutputType].</summary>
        public IReadOnlyList<Type> OutputTypes { get; }

        /// <summary>Types named by string in [OutputType]: they cannot be verified, so the contract rejects them.</summary>
        public IReadOnlyList<string> OutputTypeNames { get; }

        /// <summary>The declared parameters and the dynamic ones (<see cref="DynamicParameterTypes"/>) together, as PowerShell binds them.</summary>
        public IReadOnlyList<CmdletParameter> Parameters { get; }

        /// <summary>Whether the cmdlet implements IDynamicParameters.</summary>
        public bool HasDynamicParameters { get; }

        /// <summary>
        /// The classes of the objects GetDynamicParameters returns, as far as metadata shows them: the module keeps that
        /// object in a field (e.g. a BackupStoreParameters), so the types of fields with [Parameter] members.
        /// </summary>
        public IReadOnlyList<Type> DynamicParameterTypes { get; }

        /// <summary>The parameter set names declared explicitly (not the implicit all-sets one).</summary>
        public IReadOnlyCollection<string> ExplicitParameterSets =>
            Parameters.SelectMany(p => p.Sets).Select(s => s.SetName)
                .Where(name => name != AllParameterSets).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        /// <summary>The sets PowerShell would build: the explicit ones, or the single implicit set.</summary>
        public IReadOnlyCollection<string> EffectiveParameterSets
        {
            get
            {
                var explicitSets = ExplicitParameterSets;
                return explicitSets.Count == 0 ? new[] { AllParameterSets } : explicitSets;
            }
        }

        /// <summary>The parameters that belong to a set, each with its entry for that set.</summary>
        public IEnumerable<(CmdletParameter Parameter, ParameterSetEntry Entry)> MembersOf(string setName)
        {
            foreach (var parameter in Parameters)
            {
                var entry = parameter.Sets.FirstOrDefault(s => string.Equals(s.SetName, setName, StringComparison.OrdinalIgnoreCase))
                    ?? parameter.Sets.FirstOrDefault(s => s.SetName == AllParameterSets);
                if (entry != null)
                {
                    yield return (parameter, entry);
                }
            }
        }

        public override string ToString() => Name;

        /// <summary>Every class with [Cmdlet] in the assembly, public or not (a non-public one is a contract violation).</summary>
        public static IReadOnlyList<CmdletMetadata> FindAll(Assembly assembly, string? inNamespace = null) =>
            assembly.GetTypes()
                .Where(t => t.IsClass && !t.IsAbstract && (inNamespace == null || t.Namespace == inNamespace))
                .Select(t => (Type: t, Cmdlet: Attributes(t, "CmdletAttribute").FirstOrDefault()))
                .Where(c => c.Cmdlet != null)
                .Select(c => new CmdletMetadata(c.Type, c.Cmdlet!))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList();

        private static IReadOnlyList<Type> FindDynamicParameterTypes(Type cmdlet)
        {
            var types = new List<Type>();
            for (var type = cmdlet; type != null && type.Assembly == cmdlet.Assembly; type = type.BaseType)
            {
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (!types.Contains(field.FieldType) && ReadParameters(field.FieldType, isDynamic: true).Count > 0)
                    {
                        types.Add(field.FieldType);
                    }
                }
            }
            return types;
        }

        private static IReadOnlyList<CmdletParameter> ReadParameters(Type type, bool isDynamic)
        {
            if (type.IsPrimitive || type.IsArray || type.FullName == "System.String")
            {
                return Array.Empty<CmdletParameter>();
            }
            const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance;
            var members = type.GetProperties(Flags).Select(p => (Member: (MemberInfo)p, Type: p.PropertyType))
                .Concat(type.GetFields(Flags).Select(f => (Member: (MemberInfo)f, Type: f.FieldType)));
            var parameters = new List<CmdletParameter>();
            foreach (var (member, memberType) in members)
            {
                var sets = Attributes(member, "ParameterAttribute").Select(a => new ParameterSetEntry(
                    NamedArgument(a, "ParameterSetName", AllParameterSets),
                    NamedArgument(a, "Mandatory", false),
                    Position(a),
                    NamedArgument(a, "ValueFromPipeline", false),
                    NamedArgument(a, "ValueFromPipelineByPropertyName", false))).ToList();
                if (sets.Count == 0)
                {
                    continue;
                }
                var aliases = Attributes(member, "AliasAttribute")
                    .SelectMany(a => (IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!)
                    .Select(a => (string)a.Value!).ToList();
                parameters.Add(new CmdletParameter(member.Name, memberType, aliases, sets, isDynamic));
            }
            return parameters;
        }

        /// <summary>PowerShell marks "no position" with int.MinValue.</summary>
        private static int? Position(CustomAttributeData parameter)
        {
            var position = NamedArgument(parameter, "Position", int.MinValue);
            return position == int.MinValue ? null : position;
        }

        private static IEnumerable<CustomAttributeData> Attributes(MemberInfo member, string smaAttributeName) =>
            member.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + smaAttributeName);

        private static T NamedArgument<T>(CustomAttributeData attribute, string name, T defaultValue)
        {
            foreach (var argument in attribute.NamedArguments)
            {
                if (argument.MemberName == name)
                {
                    return (T)argument.TypedValue.Value!;
                }
            }
            return defaultValue;
        }
    }

    internal sealed class CmdletParameter
    {
        public CmdletParameter(string name, Type type, IReadOnlyList<string> aliases, IReadOnlyList<ParameterSetEntry> sets, bool isDynamic)
        {
            Name = name;
            Type = type;
            Aliases = aliases;
            Sets = sets;
            IsDynamic = isDynamic;
        }

        /// <summary>Added by GetDynamicParameters rather than declared on the cmdlet class.</summary>
        public bool IsDynamic { get; }

        public string Name { get; }

        public Type Type { get; }

        public IReadOnlyList<string> Aliases { get; }

        /// <summary>One entry per [Parameter] attribute: a parameter can join several sets with different settings.</summary>
        public IReadOnlyList<ParameterSetEntry> Sets { get; }

        /// <summary>The name and every alias: what pipeline binding by property name matches on.</summary>
        public IEnumerable<string> NamesAndAliases => new[] { Name }.Concat(Aliases);

        public bool IsMandatoryInSomeSet => Sets.Any(s => s.Mandatory);
    }

    internal sealed record ParameterSetEntry(
        string SetName, bool Mandatory, int? Position, bool ValueFromPipeline, bool ValueFromPipelineByPropertyName)
    {
        public bool TakesPipelineInput => ValueFromPipeline || ValueFromPipelineByPropertyName;
    }
}
