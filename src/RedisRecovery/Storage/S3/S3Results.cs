namespace RedisRecovery.Storage.S3
{
    /// <summary>What an upload stored and how it was checked after the last byte went up.</summary>
    public sealed class S3UploadResult
    {
        internal S3UploadResult(StoredObject stored, string sha256, int partCount, bool serverChecksumVerified)
        {
            Object = stored;
            Sha256 = sha256;
            PartCount = partCount;
            ServerChecksumVerified = serverChecksumVerified;
        }

        public StoredObject Object { get; }

        /// <summary>SHA-256 (lowercase hex) of every byte uploaded, for the backup's sidecar.</summary>
        public string Sha256 { get; }

        /// <summary>1 for a single PUT, else the number of multipart parts.</summary>
        public int PartCount { get; }

        /// <summary>
        /// True when the server reported a SHA-256 checksum (full or composite) equal to ours; the size is always checked.
        /// False when checksums are off or the server does not report them: compare <see cref="Sha256"/> on download.
        /// </summary>
        public bool ServerChecksumVerified { get; }
    }

    /// <summary>What a download delivered and what it was verified against.</summary>
    public sealed class S3DownloadResult
    {
        internal S3DownloadResult(long size, string? sha256, string verifiedAgainst)
        {
            Size = size;
            Sha256 = sha256;
            VerifiedAgainst = verifiedAgainst;
        }

        public long Size { get; }

        /// <summary>
        /// SHA-256 (lowercase hex) of the bytes delivered, checked against the expected or recorded one; null when the object
        /// was verified against the server's composite checksum of its parts alone (hashing it whole would be a second pass).
        /// </summary>
        public string? Sha256 { get; }

        /// <summary>What the bytes were checked against, e.g. "size, expected SHA-256, server SHA-256 (composite)".</summary>
        public string VerifiedAgainst { get; }
    }
}
