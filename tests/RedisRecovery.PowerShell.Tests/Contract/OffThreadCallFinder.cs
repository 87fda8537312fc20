using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace RedisRecovery.PowerShell.Tests.Contract
{
    /// <summary>
    /// Finds PowerShell members reached from the delegates a cmdlet hands to its engine runner (RunEngine), which runs
    /// them on a worker thread: session state, the runtime's Write* and ShouldProcess, the host, belong to the pipeline
    /// thread, and touching them elsewhere fails or corrupts state at run time, rarely in a test. The IL is walked from
    /// each delegate through every method of the same assembly it calls, creates or loads (lambdas, local functions,
    /// async and iterator state machines); a delegate handed straight to InvokeOnPipelineThread runs on the pipeline
    /// thread and is not followed.
    /// </summary>
    internal static class OffThreadCallFinder
    {
        public const string Runner = "RunEngine";
        public const string PipelineThreadCall = "InvokeOnPipelineThread";

        /// <summary>PowerShell types whose instance members belong to the pipeline thread.</summary>
        private static readonly IReadOnlySet<string> PipelineThreadTypes = new HashSet<string>(StringComparer.Ordinal)
        {
            "Cmdlet", "PSCmdlet", "InternalCommand", "ICommandRuntime", "SessionState", "PathIntrinsics", "PSVariableIntrinsics",
            "ProviderIntrinsics", "CommandInvocationIntrinsics", "EngineIntrinsics", "PSHost", "PSHostUserInterface",
        };

        private static readonly IReadOnlyDictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => (OpCode)field.GetValue(null)!)
            .ToDictionary(code => code.Value);

        /// <summary>"Caller: the delegate passed to RunEngine reaches Type.Member (via A, B)", one line per member and caller.</summary>
        public static IReadOnlyList<string> Find(string assemblyPath)
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            var reader = new Reader(pe);
            var findings = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var caller in reader.Metadata.MethodDefinitions)
            {
                foreach (var root in reader.DelegatesPassedToRunner(caller))
                {
                    foreach (var (member, via) in reader.PipelineThreadMembersReachedFrom(root))
                    {
                        var path = via.Count == 0 ? string.Empty : $" (via {string.Join(", ", via)})";
                        findings.Add($"{reader.DisplayName(caller)}: the delegate passed to {Runner} reaches {member}{path}");
                    }
                }
            }
            return findings.ToList();
        }

        private sealed class Reader
        {
            private readonly PEReader _pe;

            public Reader(PEReader pe)
            {
                _pe = pe;
                Metadata = pe.GetMetadataReader();
            }

            public MetadataReader Metadata { get; }

            /// <summary>The method each call to the runner in <paramref name="caller"/> receives: the last ldftn before the call.</summary>
            public IEnumerable<MethodDefinitionHandle> DelegatesPassedToRunner(MethodDefinitionHandle caller)
            {
                MethodDefinitionHandle? lastFunction = null;
                foreach (var (code, operand) in Instructions(caller))
                {
                    if (code == OpCodes.Ldftn || code == OpCodes.Ldvirtftn)
                    {
                        lastFunction = AsMethodDefinition(operand);
                    }
                    else if ((code == OpCodes.Call || code == OpCodes.Callvirt) && CalleeName(operand) == Runner && lastFunction is { } function)
                    {
                        yield return function;
                        lastFunction = null;
                    }
                }
            }

            /// <summary>Every pipeline-thread member reachable from <paramref name="root"/>, with the methods of ours in between.</summary>
            public IEnumerable<(string Member, IReadOnlyList<string> Via)> PipelineThreadMembersReachedFrom(MethodDefinitionHandle root)
            {
                var visited = new HashSet<MethodDefinitionHandle>();
                var pending = new Stack<(MethodDefinitionHandle Method, IReadOnlyList<string> Via)>();
                pending.Push((root, Array.Empty<string>()));
                while (pending.Count > 0)
                {
                    var (method, via) = pending.Pop();
                    if (!visited.Add(method))
                    {
                        continue;
                    }
                    var next = method == root ? via : via.Append(DisplayName(method)).ToList();
                    var instructions = Instructions(method).ToList();
                    for (var i = 0; i < instructions.Count; i++)
                    {
                        var (code, operand) = instructions[i];
                        if (code == OpCodes.Ldftn || code == OpCodes.Ldvirtftn)
                        {
                            if (AsMethodDefinition(operand) is { } function && !HandedToPipelineThread(instructions, i))
                            {
                                pending.Push((function, next));
                            }
                        }
                        else if (code == OpCodes.Call || code == OpCodes.Callvirt || code == OpCodes.Newobj)
                        {
                            if (PipelineThreadMember(operand) is { } member)
                            {
                                yield return (member, next);
                            }
                            else if (AsMethodDefinition(operand) is { } callee)
                            {
                                pending.Push((callee, next));
                                PushStateMachine(Metadata.GetMethodDefinition(callee).GetDeclaringType(), pending, next);
                            }
                        }
                        else if (code.OperandType == OperandType.InlineField && MetadataTokens.EntityHandle(operand) is { Kind: HandleKind.FieldDefinition } field)
                        {
                            // An async method's stub only fills the fields of its state machine; the body is its MoveNext.
                            PushStateMachine(Metadata.GetFieldDefinition((FieldDefinitionHandle)field).GetDeclaringType(), pending, next);
                        }
                    }
                }
            }

            /// <summary>"Outer+Inner.Method": a lambda's closure or state machine is named inside the class the user wrote.</summary>
            public string DisplayName(MethodDefinitionHandle handle)
            {
                var method = Metadata.GetMethodDefinition(handle);
                var names = new List<string>();
                for (var type = method.GetDeclaringType(); !type.IsNil; type = Metadata.GetTypeDefinition(type).GetDeclaringType())
                {
                    names.Insert(0, Metadata.GetString(Metadata.GetTypeDefinition(type).Name));
                }
                return $"{string.Join("+", names)}.{Metadata.GetString(method.Name)}";
            }

            /// <summary>Whether the delegate made at <paramref name="index"/> goes straight into InvokeOnPipelineThread (the next call).</summary>
            private bool HandedToPipelineThread(IReadOnlyList<(OpCode Code, int Operand)> instructions, int index)
            {
                for (var i = index + 1; i < instructions.Count; i++)
                {
                    var (code, operand) = instructions[i];
                    if (code == OpCodes.Call || code == OpCodes.Callvirt)
                    {
                        return CalleeName(operand) == PipelineThreadCall;
                    }
                }
                return false;
            }

            private void PushStateMachine(TypeDefinitionHandle type, Stack<(MethodDefinitionHandle, IReadOnlyList<string>)> pending, IReadOnlyList<string> via)
            {
                foreach (var handle in Metadata.GetTypeDefinition(type).GetMethods())
                {
                    if (Metadata.GetString(Metadata.GetMethodDefinition(handle).Name) == "MoveNext")
                    {
                        pending.Push((handle, via));
                    }
                }
            }

            /// <summary>"PSCmdlet.get_SessionState" when the token is a member of a pipeline-thread PowerShell type.</summary>
            private string? PipelineThreadMember(int token)
            {
                var handle = MetadataTokens.EntityHandle(token);
                if (handle.Kind == HandleKind.MethodSpecification)
                {
                    handle = Metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method;
                }
                if (handle.Kind != HandleKind.MemberReference)
                {
                    return null;
                }
                var member = Metadata.GetMemberReference((MemberReferenceHandle)handle);
                if (member.Parent.Kind != HandleKind.TypeReference)
                {
                    return null;
                }
                var type = Metadata.GetTypeReference((TypeReferenceHandle)member.Parent);
                var name = Metadata.GetString(type.Name);
                return Metadata.GetString(type.Namespace).StartsWith("System.Management.Automation", StringComparison.Ordinal) && PipelineThreadTypes.Contains(name)
                    ? $"{name}.{Metadata.GetString(member.Name)}"
                    : null;
            }

            private MethodDefinitionHandle? AsMethodDefinition(int token)
            {
                var handle = MetadataTokens.EntityHandle(token);
                if (handle.Kind == HandleKind.MethodSpecification)
                {
                    handle = Metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method;
                }
                return handle.Kind == HandleKind.MethodDefinition ? (MethodDefinitionHandle)handle : null;
            }

            private string? CalleeName(int token)
            {
                var handle = MetadataTokens.EntityHandle(token);
                if (handle.Kind == HandleKind.MethodSpecification)
                {
                    handle = Metadata.GetMethodSpecification((MethodSpecificationHandle)handle).Method;
                }
                return handle.Kind switch
                {
                    HandleKind.MethodDefinition => Metadata.GetString(Metadata.GetMethodDefinition((MethodDefinitionHandle)handle).Name),
                    HandleKind.MemberReference => Metadata.GetString(Metadata.GetMemberReference((MemberReferenceHandle)handle).Name),
                    _ => null,
                };
            }

            /// <summary>The opcodes of a method body with their operand (a token, or 0 when the operand is not one).</summary>
            private IEnumerable<(OpCode Code, int Operand)> Instructions(MethodDefinitionHandle handle)
            {
                var rva = Metadata.GetMethodDefinition(handle).RelativeVirtualAddress;
                if (rva == 0)
                {
                    yield break;
                }
                var il = _pe.GetMethodBody(rva).GetILReader();
                while (il.RemainingBytes > 0)
                {
                    short value = il.ReadByte();
                    if (value == 0xFE)
                    {
                        value = unchecked((short)(0xFE00 | il.ReadByte()));
                    }
                    var code = OpCodesByValue[value];
                    var operand = 0;
                    switch (code.OperandType)
                    {
                        case OperandType.InlineNone:
                            break;
                        case OperandType.ShortInlineBrTarget:
                        case OperandType.ShortInlineI:
                        case OperandType.ShortInlineVar:
                            il.ReadByte();
                            break;
                        case OperandType.InlineVar:
                            il.ReadInt16();
                            break;
                        case OperandType.InlineI8:
                        case OperandType.InlineR:
                            il.ReadInt64();
                            break;
                        case OperandType.InlineSwitch:
                            var targets = il.ReadInt32();
                            il.Offset += 4 * targets;
                            break;
                        default:
                            operand = il.ReadInt32();
                            break;
                    }
                    yield return (code, operand);
                }
            }
        }
    }
}
