namespace RedisRecovery.Storage.Encryption
{
    internal static class OpenPgpErrors
    {
        public const string WrongPassphrase = "OpenPgpWrongPassphrase";
        public const string NotSupported = "OpenPgpNotSupported";

        public static RedisRecoveryException Unsupported(string source, string what) =>
            new(NotSupported, FailureKind.NotSupported,
                $"{source}: {what} is not supported; decrypt it with gpg (`gpg --decrypt`).") { Target = source };

        public static CorruptDataException Corrupt(string source, long offset, string expectation) =>
            new(source, offset, expectation);
    }
}
