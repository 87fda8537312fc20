using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// "Objects from <see cref="Producer"/> pipe into <see cref="Consumer"/>": the producer is a cmdlet of the module
    /// (its [OutputType] types flow) or a .NET type in brackets, e.g. "[System.IO.FileInfo]" for Get-ChildItem.
    /// </summary>
    public sealed record PipelineContract(string Producer, string Consumer)
    {
        /// <summary>
        /// The pipelines the module promises. Only rows whose cmdlets are all in the assembly are checked, so the table
        /// lists the planned pipelines of every issue already; a row lights up when its cmdlets land. Add a row for
        /// every pipeline a help page or the README shows.
        /// </summary>
        public static readonly IReadOnlyList<PipelineContract> Table = new PipelineContract[]
        {
            // Endpoints typed or read from a file, and status objects filtered by role.
            new("[System.String]", "Get-RedisInstanceStatus"),
            new("[System.String]", "Backup-RdbSnapshot"),
            new("Get-RedisInstanceStatus", "Backup-RdbSnapshot"),
            new("Get-RedisBackup", "Get-RedisInstanceStatus"),

            // Files from Get-ChildItem (FullName/PSPath) and paths as strings.
            new("[System.String]", "Test-RdbFile"),
            new("[System.IO.FileInfo]", "Test-RdbFile"),
            new("[System.String]", "Test-AofFile"),
            new("[System.IO.FileInfo]", "Test-AofFile"),
            new("[System.IO.DirectoryInfo]", "Test-AofFile"),
            new("[System.IO.FileInfo]", "Repair-AofFile"),
            new("Test-AofFile", "Repair-AofFile"),
            new("[System.IO.FileInfo]", "Restore-RedisDatabase"),
            new("Test-AofFile", "Restore-RedisDatabase"),

            // Backups from the catalog and from a fresh snapshot.
            new("Get-RedisBackup", "Test-RedisBackup"),
            new("Get-RedisBackup", "Remove-RedisBackup"),
            new("Get-RedisBackup", "Copy-RedisBackup"),
            new("Get-RedisBackup", "Restore-RedisDatabase"),
            new("Backup-RdbSnapshot", "Test-RedisBackup"),
            new("Backup-RdbSnapshot", "Copy-RedisBackup"),
            new("Copy-RedisBackup", "Test-RedisBackup"),
            new("Copy-RedisBackup", "Copy-RedisBackup"),
            new("Backup-RdbSnapshot", "Restore-RedisDatabase"),
            new("Copy-RedisBackup", "Restore-RedisDatabase"),
            new("Test-RedisBackup", "Restore-RedisDatabase"),
        };

        public bool ProducerIsType => Producer.StartsWith('[');

        public override string ToString() => $"{Producer} | {Consumer}";
    }

    /// <summary>Decides whether objects of a type bind to a consumer cmdlet the way PowerShell's parameter binder would.</summary>
    internal static class PipelineBinding
    {
        private static readonly IReadOnlySet<string> Numeric = new HashSet<string>
        {
            "System.Byte", "System.SByte", "System.Int16", "System.UInt16", "System.Int32", "System.UInt32",
            "System.Int64", "System.UInt64", "System.Single", "System.Double", "System.Decimal",
        };

        /// <summary>
        /// Why objects of <paramref name="produced"/> cannot be piped into <paramref name="consumer"/>; empty when they can.
        /// They can when some parameter set binds them: at least one of its pipeline parameters takes the object (by value
        /// with an assignable type, or by property name: a readable property named like the parameter or one of its
        /// aliases, of a type PowerShell converts), and every mandatory pipeline parameter of that set is among those.
        /// A property named like a pipeline parameter but of an unconvertible type is always reported: the binder would
        /// try it and fail at run time.
        /// </summary>
        public static IReadOnlyList<string> Problems(Type produced, CmdletMetadata consumer)
        {
            var problems = new List<string>();
            foreach (var parameter in consumer.Parameters.Where(p => p.Sets.Any(s => s.ValueFromPipelineByPropertyName)))
            {
                var property = MatchingProperty(produced, parameter);
                if (property != null && !Converts(property.PropertyType, parameter.Type))
                {
                    problems.Add($"{produced.Name}.{property.Name} is a {property.PropertyType.Name}, which does not convert to -{parameter.Name} ({parameter.Type.Name})");
                }
            }
            var setProblems = new List<string>();
            var bindingSets = new List<string>();
            foreach (var set in consumer.EffectiveParameterSets)
            {
                var byProperty = consumer.MembersOf(set).Where(m => m.Entry.ValueFromPipelineByPropertyName)
                    .Select(m => (m.Parameter, Property: MatchingProperty(produced, m.Parameter))).Where(m => m.Property != null).ToList();
                foreach (var shared in byProperty.GroupBy(m => m.Property!.Name).Where(g => g.Count() > 1))
                {
                    problems.Add($"{produced.Name}.{shared.Key} binds {string.Join(" and ", shared.Select(m => "-" + m.Parameter.Name))} at once in {DisplaySet(set)}");
                }
                foreach (var (parameter, property) in byProperty.Where(m => TakesAnything(m.Parameter.Type) && m.Property!.PropertyType.FullName == "System.String"))
                {
                    problems.Add($"{produced.Name}.{property!.Name} is a String, bound to -{parameter.Name} ({parameter.Type.Name}) as text, not as the object it names");
                }
                var pipelineMembers = consumer.MembersOf(set).Where(m => m.Entry.TakesPipelineInput).ToList();
                var bound = pipelineMembers.Where(m => Binds(produced, m.Parameter, m.Entry)).Select(m => m.Parameter).ToList();
                var unbound = pipelineMembers.Where(m => m.Entry.Mandatory && !bound.Contains(m.Parameter)).Select(m => m.Parameter).ToList();
                if (bound.Count > 0 && unbound.Count == 0)
                {
                    bindingSets.Add(set);
                    continue;
                }
                var setName = DisplaySet(set);
                setProblems.Add(
                    pipelineMembers.Count == 0 ? $"{setName}: no pipeline input"
                    : unbound.Count > 0 ? $"{setName}: no value for mandatory {string.Join(", ", unbound.Select(p => Expectation(p, pipelineMembers)))}"
                    : $"{setName}: nothing takes it ({string.Join(", ", pipelineMembers.Select(m => Expectation(m.Parameter, pipelineMembers)))})");
            }
            if (bindingSets.Count == 0)
            {
                problems.Add($"{produced.FullName} binds no parameter set of {consumer.Name}: {string.Join("; ", setProblems)}");
            }
            return problems;
        }

        private static string DisplaySet(string set) => set == CmdletMetadata.AllParameterSets ? "its parameters" : $"set {set}";

        /// <summary>Object or PSObject (or arrays of them): the binder hands such a parameter whatever the property holds.</summary>
        private static bool TakesAnything(Type type)
        {
            var element = Unwrap(type.IsArray ? type.GetElementType()! : type);
            return element.FullName is "System.Object" or "System.Management.Automation.PSObject";
        }

        /// <summary>What a parameter takes from the pipeline, e.g. "-Path (a String[] by value, or property Path or FullName)".</summary>
        private static string Expectation(CmdletParameter parameter, IEnumerable<(CmdletParameter Parameter, ParameterSetEntry Entry)> members)
        {
            var entry = members.First(m => m.Parameter == parameter).Entry;
            var ways = new List<string>();
            if (entry.ValueFromPipeline)
            {
                ways.Add($"a {parameter.Type.Name} by value");
            }
            if (entry.ValueFromPipelineByPropertyName)
            {
                ways.Add($"property {string.Join(" or ", parameter.NamesAndAliases)}");
            }
            return $"-{parameter.Name} ({string.Join(", or ", ways)})";
        }

        private static bool Binds(Type produced, CmdletParameter parameter, ParameterSetEntry entry)
        {
            if (entry.ValueFromPipeline && IsAssignable(parameter.Type, produced))
            {
                return true;
            }
            var property = entry.ValueFromPipelineByPropertyName ? MatchingProperty(produced, parameter) : null;
            return property != null && Converts(property.PropertyType, parameter.Type);
        }

        private static PropertyInfo? MatchingProperty(Type produced, CmdletParameter parameter) =>
            produced.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
                .FirstOrDefault(p => parameter.NamesAndAliases.Contains(p.Name, StringComparer.OrdinalIgnoreCase));

        /// <summary>By value, the binder first tries the object as it is: only a real type match counts here.</summary>
        private static bool IsAssignable(Type target, Type source)
        {
            var element = target.IsArray ? target.GetElementType()! : target;
            return target.IsAssignableFrom(source) || element.IsAssignableFrom(source)
                || element.FullName is "System.Object" or "System.Management.Automation.PSObject";
        }

        /// <summary>The conversions the binder applies to a property value: anything to string, numbers between each
        /// other, string to a type with a string constructor or Parse, nullable and array wrapping.</summary>
        private static bool Converts(Type source, Type target)
        {
            source = Unwrap(source);
            target = Unwrap(target);
            if (target.IsArray)
            {
                return Converts(source.IsArray ? source.GetElementType()! : source, target.GetElementType()!);
            }
            if (IsAssignable(target, source) || target.FullName == "System.String")
            {
                return true;
            }
            if (Numeric.Contains(source.FullName!) && Numeric.Contains(target.FullName!))
            {
                return true;
            }
            return source.FullName == "System.String" && (target.IsEnum || AcceptsString(target));
        }

        private static bool AcceptsString(Type target) =>
            target.GetConstructors().Any(c => TakesOneString(c))
            || target.GetMethods(BindingFlags.Public | BindingFlags.Static).Any(m => m.Name == "Parse" && TakesOneString(m));

        private static bool TakesOneString(MethodBase method)
        {
            var parameters = method.GetParameters();
            return parameters.Length == 1 && parameters[0].ParameterType.FullName == "System.String";
        }

        private static Type Unwrap(Type type) =>
            type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1"
                ? type.GetGenericArguments()[0]
                : type;
    }
}
