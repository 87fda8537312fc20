using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using RedisRecovery.PowerShell.Tests.Contract;

namespace RedisRecovery.PowerShell.Tests.Isolation
{
    /// <summary>
    /// Import-Module (5.1 and 7.x alike) lists the cmdlet assembly's exported types before it runs the module
    /// initializer that makes the engine loadable (PSSnapInHelpers: GetExportedTypes, then ExecuteModuleInitializer,
    /// then the cmdlet scan). Listing a type loads its base types, interfaces and the types of its value-type fields
    /// (the runtime needs their size); if any of them is an engine type, the engine is requested from the default
    /// context before our resolver exists and the import fails with FileNotFoundException. Engine types may appear in
    /// signatures, attributes and method bodies, which are resolved later.
    /// </summary>
    public sealed class ImportOrderTests
    {
        private const BindingFlags DeclaredFields =
            BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

        [Fact]
        public void ExportedTypes_LoadWithoutTheEngine_SoTheModuleInitializerRunsFirst()
        {
            var module = BuiltModule.Instance;
            var cmdlets = module.Cmdlets.Select(c => c.Type.Assembly).First();
            var engine = module.FindShippedType("RedisRecovery.RedisRecoveryException")!.Assembly;

            var violations = cmdlets.GetExportedTypes()
                .SelectMany(exported => TypesLoadedWith(exported)
                    .Where(loaded => Mentions(loaded.Type, engine))
                    .Select(loaded => $"{exported.FullName}: {loaded.Path}"))
                .Distinct()
                .ToList();

            Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
        }

        /// <summary>The types the runtime loads to load <paramref name="type"/>, each with how it was reached.</summary>
        private static IEnumerable<(string Path, Type Type)> TypesLoadedWith(Type type)
        {
            for (var current = type; current != null; current = current.BaseType)
            {
                if (current.BaseType != null)
                {
                    yield return ($"{current.Name} derives from {current.BaseType}", current.BaseType);
                }
                foreach (var contract in current.GetInterfaces())
                {
                    yield return ($"{current.Name} implements {contract}", contract);
                }
                foreach (var field in current.GetFields(DeclaredFields).Where(f => f.FieldType.IsValueType))
                {
                    yield return ($"{current.Name}.{field.Name} is a {field.FieldType}", field.FieldType);
                }
            }
        }

        private static bool Mentions(Type type, Assembly engine) =>
            type.Assembly == engine
            || (type.HasElementType && Mentions(type.GetElementType()!, engine))
            || (type.IsGenericType && type.GetGenericArguments().Any(argument => Mentions(argument, engine)));
    }
}
