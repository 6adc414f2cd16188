using ForgeOne.Cluster.Security;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Shards.Events;

// TEMPORARY until branch `logs` lands IShardSecurity.EncryptField/RevealField and
// AccessDecision.ReadableFields: instance members win over these extensions, and this file is
// deleted in the merge.
internal static class FieldSecurityShim
{
    extension(IShardSecurity security)
    {
        public byte[] EncryptField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext) =>
            security.Encrypt($"{table}#{cls.Name()}", key, plaintext);

        public byte[]? RevealField(FieldClass cls, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> ciphertext, IReadOnlySet<FieldClass> readable) =>
            readable.Contains(cls) ? security.Decrypt($"{table}#{cls.Name()}", key, ciphertext) : null;
    }

    extension(AccessDecision decision)
    {
        public IReadOnlySet<FieldClass> ReadableFields => decision.Allowed ? FieldClasses.All : FieldClasses.None;
    }
}
