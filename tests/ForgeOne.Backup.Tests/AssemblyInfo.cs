// Targets, key files and read-only backups are POSIX file modes: these tests run where they exist.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
