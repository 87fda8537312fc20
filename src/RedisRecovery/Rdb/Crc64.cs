using System;

namespace RedisRecovery.Rdb
{
    /// <summary>
    /// CRC-64 with the Jones polynomial, reflected, initial value 0, no final xor: the checksum Redis puts after an
    /// RDB's EOF opcode and at the end of DUMP payloads. Table-driven eight bytes at a time so that checking runs at
    /// disk speed.
    /// </summary>
    public static class Crc64
    {
        private const ulong ReflectedPolynomial = 0x95ac9329ac4bc9b5UL;
        private static readonly ulong[][] s_tables = BuildTables();

        public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
        {
            var t0 = s_tables[0];
            var t1 = s_tables[1];
            var t2 = s_tables[2];
            var t3 = s_tables[3];
            var t4 = s_tables[4];
            var t5 = s_tables[5];
            var t6 = s_tables[6];
            var t7 = s_tables[7];
            var i = 0;
            for (; i + 8 <= data.Length; i += 8)
            {
                crc ^= (ulong)data[i] | (ulong)data[i + 1] << 8 | (ulong)data[i + 2] << 16 | (ulong)data[i + 3] << 24
                    | (ulong)data[i + 4] << 32 | (ulong)data[i + 5] << 40 | (ulong)data[i + 6] << 48 | (ulong)data[i + 7] << 56;
                crc = t7[crc & 0xff] ^ t6[(crc >> 8) & 0xff] ^ t5[(crc >> 16) & 0xff] ^ t4[(crc >> 24) & 0xff]
                    ^ t3[(crc >> 32) & 0xff] ^ t2[(crc >> 40) & 0xff] ^ t1[(crc >> 48) & 0xff] ^ t0[crc >> 56];
            }
            for (; i < data.Length; i++)
            {
                crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
            }
            return crc;
        }

        public static ulong Compute(ReadOnlySpan<byte> data) => Update(0, data);

        private static ulong[][] BuildTables()
        {
            var tables = new ulong[8][];
            for (var t = 0; t < 8; t++)
            {
                tables[t] = new ulong[256];
            }
            for (var n = 0; n < 256; n++)
            {
                var crc = (ulong)n;
                for (var bit = 0; bit < 8; bit++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
                }
                tables[0][n] = crc;
            }
            for (var n = 0; n < 256; n++)
            {
                var crc = tables[0][n];
                for (var t = 1; t < 8; t++)
                {
                    crc = tables[0][crc & 0xff] ^ (crc >> 8);
                    tables[t][n] = crc;
                }
            }
            return tables;
        }
    }
}
