using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisRecovery.Storage
{
    /// <summary>
    /// A place where backup files live: a local directory or an S3 prefix. Object names are relative to the store
    /// (for example "cache-6379_20261122T020000Z.rdb" and its sidecar "cache-6379_20261122T020000Z.rdb.json").
    /// </summary>
    public interface IBackupStore
    {
        /// <summary>Where the store is, as a user would type it: a directory path or s3://bucket/prefix.</summary>
        string Location { get; }

        /// <summary>Every object in the store (not recursive), in no particular order, paging as needed.</summary>
        IAsyncEnumerable<StoredObject> ListAsync(CancellationToken cancellationToken);

        /// <summary>The object's facts, or null when it does not exist.</summary>
        Task<StoredObject?> GetAsync(string name, CancellationToken cancellationToken);

        /// <summary>
        /// A readable stream of the object's bytes; a NotFound RedisRecoveryException when it is absent. With
        /// <see cref="ReadIntegrity.StoreChecks"/> the read that would end the stream fails unless the bytes match what the
        /// store knows of them; with <see cref="ReadIntegrity.CallerChecks"/> the store checks their size only.
        /// </summary>
        Task<Stream> OpenReadAsync(string name, ReadIntegrity integrity, CancellationToken cancellationToken);

        /// <summary>
        /// Stores <paramref name="content"/> (read to its end) under <paramref name="name"/> atomically: the name
        /// appears only once the bytes are complete and durable; on failure or cancellation nothing is left behind.
        /// </summary>
        Task<StoredObject> PutAsync(string name, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken);

        /// <summary>Deletes the object; deleting an absent object is not an error.</summary>
        Task DeleteAsync(string name, CancellationToken cancellationToken);
    }

    /// <summary>Who checks that the bytes read are the bytes stored.</summary>
    public enum ReadIntegrity
    {
        /// <summary>The store: size, and the SHA-256 the server or the object's metadata recorded (an S3 object's composite checksum).</summary>
        StoreChecks,

        /// <summary>
        /// The caller, against a SHA-256 of the whole object it holds already (a backup's sidecar): the store checks the size and
        /// skips what would hash every byte a second time.
        /// </summary>
        CallerChecks,
    }

    /// <summary>A store reached over the network: what a client needs besides its location to reach it again (never credentials).</summary>
    public interface IRemoteBackupStore : IBackupStore
    {
        /// <summary>The region given when the store was opened; null for the default.</summary>
        string? Region { get; }

        /// <summary>The S3-compatible server; null for AWS itself.</summary>
        Uri? EndpointUrl { get; }
    }

    /// <summary>What a store knows about one object.</summary>
    public sealed class StoredObject
    {
        public StoredObject(string name, long size, DateTimeOffset lastModifiedUtc, string fullLocation)
        {
            Name = name;
            Size = size;
            LastModifiedUtc = lastModifiedUtc;
            FullLocation = fullLocation;
        }

        public string Name { get; }

        public long Size { get; }

        public DateTimeOffset LastModifiedUtc { get; }

        /// <summary>A full path or s3://bucket/key, for people and for the objects the cmdlets emit.</summary>
        public string FullLocation { get; }
    }
}
