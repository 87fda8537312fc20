using System;
#if NET8_0_OR_GREATER
using System.Runtime.InteropServices;
#endif

namespace RedisRecovery.Storage
{
    /// <summary>
    /// Makes renames in a directory survive a power loss. On POSIX systems a rename is durable only once the directory
    /// itself is fsynced, which .NET has no API for; Windows (NTFS journals the rename) needs nothing.
    /// </summary>
    internal static class DirectoryDurability
    {
        /// <summary>fsyncs the directory where that means something; false where it is not needed or not possible.</summary>
        public static bool TryFlush(string directory)
        {
#if NET8_0_OR_GREATER
            if (OperatingSystem.IsWindows())
            {
                return false;
            }
            try
            {
                var descriptor = Open(directory, ReadOnly);
                if (descriptor < 0)
                {
                    return false;
                }
                var synced = Fsync(descriptor) == 0;
                Close(descriptor);
                return synced;
            }
            catch (Exception ex) when (ex is DllNotFoundException || ex is EntryPointNotFoundException)
            {
                // An unusual C library: the file's own bytes are durable already, only the rename may not be.
                return false;
            }
#else
            // The netstandard2.0 build serves Windows PowerShell, on Windows.
            return false;
#endif
        }

#if NET8_0_OR_GREATER
        private const int ReadOnly = 0;

        [DllImport("libc", EntryPoint = "open", SetLastError = true)]
        private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
        private static extern int Fsync(int descriptor);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        private static extern int Close(int descriptor);
#endif
    }
}
