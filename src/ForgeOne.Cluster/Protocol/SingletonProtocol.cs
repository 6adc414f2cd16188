using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Messages of the audit sealer singleton.</summary>
public static class SealerProtocol
{
    /// <summary>Seal now instead of waiting for the next tick. Reply: <see cref="SealDone"/> or <see cref="SealFailed"/>.</summary>
    public sealed record SealNow : IForgeOneMessage
    {
        /// <summary>The singleton instance.</summary>
        public static readonly SealNow Instance = new();

        private SealNow()
        {
        }
    }

    /// <summary>A seal was written.</summary>
    public sealed record SealDone(long Number, DateTimeOffset Time, int Heads, string Node) : IForgeOneMessage;

    /// <summary>Sealing failed this round (e.g. a shard did not answer); nothing was written.</summary>
    public sealed record SealFailed(ForgeOneError Error) : IFailureReply;

    /// <summary>Asks for the seal numbers written so far (most recent last). Reply: <see cref="SealHistory"/>.</summary>
    public sealed record GetSealHistory : IForgeOneMessage
    {
        /// <summary>The singleton instance.</summary>
        public static readonly GetSealHistory Instance = new();

        private GetSealHistory()
        {
        }
    }

    /// <summary>The persisted seal history: numbers in order, and the encoded seals (SealCodec) for verifiers.</summary>
    public sealed record SealHistory(long[] Numbers, byte[][] Seals) : IForgeOneMessage;

    /// <summary>Asks for the public key seals verify under. Reply: <see cref="AuditPublicKey"/>.</summary>
    public sealed record GetAuditPublicKey : IForgeOneMessage
    {
        /// <summary>The singleton instance.</summary>
        public static readonly GetAuditPublicKey Instance = new();

        private GetAuditPublicKey()
        {
        }
    }

    /// <summary>The audit public key (SubjectPublicKeyInfo PEM) and its fingerprint; public by nature.</summary>
    public sealed record AuditPublicKey(string Pem, string Fingerprint) : IForgeOneMessage;
}

/// <summary>Messages of the key rotation coordinator singleton.</summary>
public static class KeyRotationProtocol
{
    /// <summary>Rotates every shard's data key now. Reply: <see cref="RotationDone"/>.</summary>
    public sealed record RotateAll(Caller Caller, string Reason) : IForgeOneMessage;

    /// <summary>How many shards rotated, and which failed.</summary>
    public sealed record RotationDone(int Rotated, int Checked, string[] Failures) : IForgeOneMessage;

    /// <summary>Asks for the key-event history. Reply: <see cref="KeyEventHistory"/>.</summary>
    public sealed record GetKeyEventHistory : IForgeOneMessage
    {
        /// <summary>The singleton instance.</summary>
        public static readonly GetKeyEventHistory Instance = new();

        private GetKeyEventHistory()
        {
        }
    }

    /// <summary>Key events recorded by the coordinator, oldest first (<c>time shard event</c>).</summary>
    public sealed record KeyEventHistory(string[] Events) : IForgeOneMessage;
}
