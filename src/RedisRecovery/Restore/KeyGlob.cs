using System;
using System.Text;

namespace RedisRecovery.Restore
{
    /// <summary>
    /// Matches binary keys against a glob with the rules of Redis KEYS/SCAN MATCH: * any run, ? one byte,
    /// [abc] [^abc] [a-z] classes, \ escapes the next character. Works on bytes, as Redis does.
    /// </summary>
    public sealed class KeyGlob
    {
        private readonly byte[] _pattern;

        public KeyGlob(string pattern)
        {
            Pattern = pattern ?? throw new ArgumentNullException(nameof(pattern));
            _pattern = Encoding.UTF8.GetBytes(pattern);
        }

        public string Pattern { get; }

        public bool IsMatch(ReadOnlySpan<byte> key) => Match(_pattern, key);

        private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> key)
        {
            var p = 0;
            var k = 0;
            while (p < pattern.Length)
            {
                switch (pattern[p])
                {
                    case (byte)'*':
                        while (p + 1 < pattern.Length && pattern[p + 1] == '*')
                        {
                            p++;
                        }
                        if (p + 1 == pattern.Length)
                        {
                            return true;
                        }
                        for (var start = k; start <= key.Length; start++)
                        {
                            if (Match(pattern.Slice(p + 1), key.Slice(start)))
                            {
                                return true;
                            }
                        }
                        return false;
                    case (byte)'?':
                        if (k >= key.Length)
                        {
                            return false;
                        }
                        k++;
                        break;
                    case (byte)'[':
                        if (k >= key.Length)
                        {
                            return false;
                        }
                        p = MatchClass(pattern, p + 1, key[k], out var matched);
                        if (!matched)
                        {
                            return false;
                        }
                        k++;
                        break;
                    case (byte)'\\' when p + 1 < pattern.Length:
                        p++;
                        if (k >= key.Length || pattern[p] != key[k])
                        {
                            return false;
                        }
                        k++;
                        break;
                    default:
                        if (k >= key.Length || pattern[p] != key[k])
                        {
                            return false;
                        }
                        k++;
                        break;
                }
                p++;
            }
            return k == key.Length;
        }

        /// <summary>Reads a class starting after '['; returns the index of its closing ']' (or the last byte).</summary>
        private static int MatchClass(ReadOnlySpan<byte> pattern, int p, byte c, out bool matched)
        {
            var negate = p < pattern.Length && pattern[p] == '^';
            if (negate)
            {
                p++;
            }
            var found = false;
            while (p < pattern.Length && pattern[p] != ']')
            {
                if (pattern[p] == '\\' && p + 1 < pattern.Length)
                {
                    p++;
                    found |= pattern[p] == c;
                }
                else if (p + 2 < pattern.Length && pattern[p + 1] == '-' && pattern[p + 2] != ']')
                {
                    var low = Math.Min(pattern[p], pattern[p + 2]);
                    var high = Math.Max(pattern[p], pattern[p + 2]);
                    found |= c >= low && c <= high;
                    p += 2;
                }
                else
                {
                    found |= pattern[p] == c;
                }
                p++;
            }
            if (p >= pattern.Length)
            {
                p = pattern.Length - 1;
            }
            matched = negate ? !found : found;
            return p;
        }
    }
}
