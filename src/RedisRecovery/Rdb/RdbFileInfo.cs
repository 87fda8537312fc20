using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisRecovery.Rdb
{
    /// <summary>An AUX field (name and value as stored; values are usually short text).</summary>
    public sealed record RdbAuxField(string Name, byte[] Value)
    {
        public string ValueText => Encoding.UTF8.GetString(Value);
    }

    /// <summary>A function library (Redis 7+). Pre-release files (opcode 246) also carry name, engine and description.</summary>
    public sealed record RdbFunctionLibrary(byte[] Code, string? Name = null, string? Engine = null, string? Description = null);

    /// <summary>Module data stored outside keys; opaque, identified by module type.</summary>
    public sealed record RdbModuleAux(ulong ModuleId, ulong When, long Offset)
    {
        public string ModuleName => RdbModuleNames.NameOf(ModuleId);
    }

    /// <summary>Cluster slot sizes written by Redis 7.4+/Valkey before a slot's keys.</summary>
    public sealed record RdbSlotInfo(ulong Slot, ulong Size, ulong ExpiresSize);

    /// <summary>The hash table size hints written before each database's keys.</summary>
    public sealed record RdbResizeDb(int Database, ulong Size, ulong ExpiresSize);

    /// <summary>Everything an RDB says about itself besides its keys: the header and the metadata opcodes. Filled as
    /// the reader meets them; aux fields precede the first key in files Redis writes.</summary>
    public sealed class RdbFileInfo
    {
        /// <summary>"REDIS" or "VALKEY".</summary>
        public string Signature { get; internal set; } = "REDIS";

        public int Version { get; internal set; }

        public List<RdbAuxField> AuxFields { get; } = new();

        public List<RdbFunctionLibrary> Functions { get; } = new();

        public List<RdbModuleAux> ModuleAux { get; } = new();

        public List<RdbSlotInfo> SlotInfo { get; } = new();

        public List<RdbResizeDb> ResizeDb { get; } = new();

        public string? GetAux(string name)
        {
            for (var i = AuxFields.Count - 1; i >= 0; i--)
            {
                if (AuxFields[i].Name == name)
                {
                    return AuxFields[i].ValueText;
                }
            }
            return null;
        }

        /// <summary>The server version that wrote the file: aux valkey-ver first (Valkey 8 also writes redis-ver, fixed
        /// at 7.2.4 for compatibility), else redis-ver.</summary>
        public string? ServerVersion => GetAux("valkey-ver") ?? GetAux("redis-ver");

        public DateTimeOffset? CreatedUtc =>
            long.TryParse(GetAux("ctime"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;

        public long? UsedMemory =>
            long.TryParse(GetAux("used-mem"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;
    }
}
