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
            Head = ReadOnlyMemory<byte>.Empty;
            Body = bytes;
            Tail = ReadOnlyMemory<byte>.Empty;
        }

        private RedisArgument(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail)
        {
            Head = head;
            Body = body;
            Tail = tail;
        }

        /// <summary>The argument's bytes (joined into a new array when it was made with <see cref="Framed"/>).</summary>
        public ReadOnlyMemory<byte> Bytes => Head.IsEmpty && Tail.IsEmpty ? Body : Join();

        public int Length => Head.Length + Body.Length + Tail.Length;

        internal ReadOnlyMemory<byte> Head { get; }

        internal ReadOnlyMemory<byte> Body { get; }

        internal ReadOnlyMemory<byte> Tail { get; }

        /// <summary>
        /// One argument sent as three consecutive pieces, never joined in memory: a DUMP payload is a type byte, the
        /// value as the source file holds it and a footer, and a bulk restore would otherwise copy every value once more.
        /// </summary>
        public static RedisArgument Framed(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail) => new(head, body, tail);

        private ReadOnlyMemory<byte> Join()
        {
            var joined = new byte[Length];
            Head.Span.CopyTo(joined);
            Body.Span.CopyTo(joined.AsSpan(Head.Length));
            Tail.Span.CopyTo(joined.AsSpan(Head.Length + Body.Length));
            return joined;
        }

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
                    length += HeaderLength(argument.Length) + argument.Length + 2;
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
