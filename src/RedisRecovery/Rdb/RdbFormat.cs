namespace RedisRecovery.Rdb
{
    /// <summary>What kind of Redis value an entry holds, whatever its encoding.</summary>
    public enum RdbValueType
    {
        String,
        List,
        Set,
        SortedSet,
        Hash,
        Stream,
        Module,
    }

    /// <summary>How a value is serialized in the file (the RDB type byte, named after the in-memory encoding it came from).</summary>
    public enum RdbValueEncoding
    {
        /// <summary>A plain string.</summary>
        Raw,

        /// <summary>A string stored as an 8/16/32-bit integer.</summary>
        Int,

        /// <summary>An LZF-compressed string.</summary>
        Lzf,
        LinkedList,
        Ziplist,
        Quicklist,
        Quicklist2,
        Hashtable,
        Intset,
        Listpack,
        Skiplist,
        Zipmap,

        /// <summary>A hash with per-field expiration (Redis 7.4+), one field at a time.</summary>
        HashtableWithFieldExpiry,

        /// <summary>A listpack hash with per-field expiration (Redis 7.4+).</summary>
        ListpackWithFieldExpiry,
        StreamListpacks,
        Module,
    }

    /// <summary>Whether the CRC64 trailer of a file (or DUMP payload) matched what was read.</summary>
    public enum RdbChecksumStatus
    {
        /// <summary>The file ended before its trailer, or it was not checked.</summary>
        Unknown,
        Valid,

        /// <summary>The trailer is zero (the writer had checksums off) or the version predates checksums (below 5).</summary>
        NotComputed,
        Mismatch,
    }

    /// <summary>The type bytes and opcodes of the RDB format and what each needs.</summary>
    public static class RdbFormat
    {
        /// <summary>The newest REDIS-signature version this reader knows completely.</summary>
        public const int NewestVersion = 13;

        /// <summary>The version number written after a VALKEY signature (Valkey 9).</summary>
        public const int ValkeyVersion = 80;

        public const byte TypeString = 0;
        public const byte TypeList = 1;
        public const byte TypeSet = 2;
        public const byte TypeZset = 3;
        public const byte TypeHash = 4;
        public const byte TypeZset2 = 5;
        public const byte TypeModulePreGa = 6;
        public const byte TypeModule2 = 7;
        public const byte TypeHashZipmap = 9;
        public const byte TypeListZiplist = 10;
        public const byte TypeSetIntset = 11;
        public const byte TypeZsetZiplist = 12;
        public const byte TypeHashZiplist = 13;
        public const byte TypeListQuicklist = 14;
        public const byte TypeStreamListpacks = 15;
        public const byte TypeHashListpack = 16;
        public const byte TypeZsetListpack = 17;
        public const byte TypeListQuicklist2 = 18;
        public const byte TypeStreamListpacks2 = 19;
        public const byte TypeSetListpack = 20;
        public const byte TypeStreamListpacks3 = 21;
        public const byte TypeHashMetadataPreGa = 22;
        public const byte TypeHashListpackExPreGa = 23;
        public const byte TypeHashMetadata = 24;
        public const byte TypeHashListpackEx = 25;
        public const byte TypeStreamListpacks4 = 26;

        public const byte OpcodeRamLru = 107;
        public const byte OpcodeSlotInfo = 244;
        public const byte OpcodeFunction2 = 245;
        public const byte OpcodeFunctionPreGa = 246;
        public const byte OpcodeModuleAux = 247;
        public const byte OpcodeIdle = 248;
        public const byte OpcodeFreq = 249;
        public const byte OpcodeAux = 250;
        public const byte OpcodeResizeDb = 251;
        public const byte OpcodeExpireTimeMs = 252;
        public const byte OpcodeExpireTime = 253;
        public const byte OpcodeSelectDb = 254;
        public const byte OpcodeEof = 255;

        /// <summary>True for every value type byte this reader can walk.</summary>
        public static bool IsKnownValueType(byte type) =>
            type <= TypeStreamListpacks4 && type != 8 && type != TypeModulePreGa;

        /// <summary>True for a type byte that means something else in Valkey's own RDB versions (80 and up, VALKEY
        /// signature): Valkey 9 numbers its new types from 22 on (22 is a hash with per-field expiry laid out unlike
        /// Redis 7.4's type 22), so reading them with Redis' meaning would misparse.</summary>
        public static bool IsValkeyOwnType(byte type, int rdbVersion) => rdbVersion >= ValkeyVersion && type >= TypeHashMetadataPreGa;

        public static RdbValueType ValueTypeOf(byte type) => type switch
        {
            TypeString => RdbValueType.String,
            TypeList or TypeListZiplist or TypeListQuicklist or TypeListQuicklist2 => RdbValueType.List,
            TypeSet or TypeSetIntset or TypeSetListpack => RdbValueType.Set,
            TypeZset or TypeZset2 or TypeZsetZiplist or TypeZsetListpack => RdbValueType.SortedSet,
            TypeStreamListpacks or TypeStreamListpacks2 or TypeStreamListpacks3 or TypeStreamListpacks4 => RdbValueType.Stream,
            TypeModulePreGa or TypeModule2 => RdbValueType.Module,
            _ => RdbValueType.Hash,
        };

        public static RdbValueEncoding EncodingOf(byte type) => type switch
        {
            TypeString => RdbValueEncoding.Raw,
            TypeList => RdbValueEncoding.LinkedList,
            TypeSet or TypeHash => RdbValueEncoding.Hashtable,
            TypeZset or TypeZset2 => RdbValueEncoding.Skiplist,
            TypeModulePreGa or TypeModule2 => RdbValueEncoding.Module,
            TypeHashZipmap => RdbValueEncoding.Zipmap,
            TypeListZiplist or TypeZsetZiplist or TypeHashZiplist => RdbValueEncoding.Ziplist,
            TypeSetIntset => RdbValueEncoding.Intset,
            TypeListQuicklist => RdbValueEncoding.Quicklist,
            TypeListQuicklist2 => RdbValueEncoding.Quicklist2,
            TypeHashListpack or TypeZsetListpack or TypeSetListpack => RdbValueEncoding.Listpack,
            TypeHashMetadataPreGa or TypeHashMetadata => RdbValueEncoding.HashtableWithFieldExpiry,
            TypeHashListpackExPreGa or TypeHashListpackEx => RdbValueEncoding.ListpackWithFieldExpiry,
            _ => RdbValueEncoding.StreamListpacks,
        };

        /// <summary>The oldest RDB version that can hold a value of this type byte (what a writer or a RESTORE target
        /// must understand).</summary>
        public static int MinimumVersionOf(byte type) => type switch
        {
            <= TypeZset2 => type == TypeZset2 ? 8 : 1,
            TypeModule2 => 8,
            TypeHashZipmap or TypeListZiplist or TypeSetIntset or TypeZsetZiplist or TypeHashZiplist => 2,
            TypeListQuicklist => 7,
            TypeStreamListpacks => 9,
            TypeHashListpack or TypeZsetListpack or TypeListQuicklist2 or TypeStreamListpacks2 => 10,
            TypeSetListpack or TypeStreamListpacks3 => 11,
            TypeHashMetadataPreGa or TypeHashListpackExPreGa or TypeHashMetadata or TypeHashListpackEx => 12,
            _ => 13,
        };
    }
}
