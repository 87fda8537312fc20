using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisRecovery.Resp
{
    /// <summary>
    /// One command argument as it goes on the wire. Converts implicitly from string (UTF-8), byte[] (sent as is:
    /// keys and values are binary), and numbers (decimal text).
    /// </summary>
    public readonly struct RedisArgument
    {
        private RedisArgument(ReadOnlyMemory<byte> bytes)
        {
            Bytes = bytes;
        }

        public ReadOnlyMemory<byte> Bytes { get; }

        public static implicit operator RedisArgument(string text) => new(Encoding.UTF8.GetBytes(text));

        public static implicit operator RedisArgument(byte[] bytes) => new(bytes);

        public static implicit operator RedisArgument(ReadOnlyMemory<byte> bytes) => new(bytes);

        public static implicit operator RedisArgument(long number) => new(Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture)));

        public static implicit operator RedisArgument(int number) => (long)number;

        public static implicit operator RedisArgument(double number) => new(Encoding.ASCII.GetBytes(number.ToString("R", CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// A command and its arguments. <see cref="ToString"/> gives the name only: arguments can be values or secrets.
    /// </summary>
    public sealed class RedisCommand
    {
        public RedisCommand(string name, params RedisArgument[] arguments)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("A command needs a name.", nameof(name));
            }
            Name = name;
            Arguments = arguments;
        }

        public RedisCommand(string name, IEnumerable<RedisArgument> arguments)
            : this(name, new List<RedisArgument>(arguments).ToArray())
        {
        }

        public string Name { get; }

        public IReadOnlyList<RedisArgument> Arguments { get; }

        /// <summary>
        /// Advice added to the error when the server does not offer this command (disabled or renamed, as managed
        /// services do), e.g. "Use -Method Logical to read keys with SCAN and DUMP instead."
        /// </summary>
        public string? UnavailableAdvice { get; init; }

        /// <summary>Bytes this command takes on the wire.</summary>
        public long EncodedLength
        {
            get
            {
                var nameLength = Encoding.UTF8.GetByteCount(Name);
                long length = HeaderLength(Arguments.Count + 1) + HeaderLength(nameLength) + nameLength + 2;
                foreach (var argument in Arguments)
                {
                    length += HeaderLength(argument.Bytes.Length) + argument.Bytes.Length + 2;
                }
                return length;
            }
        }

        public override string ToString() => Name;

        private static int HeaderLength(long count)
        {
            var digits = 1;
            for (var rest = count; rest >= 10; rest /= 10)
            {
                digits++;
            }
            return 3 + digits;
        }
    }
}
