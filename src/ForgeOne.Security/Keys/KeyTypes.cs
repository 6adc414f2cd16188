namespace ForgeOne.Security;

/// <summary>
/// Lifecycle of a data-key version. Only forward moves exist:
/// <code>
///   Active --rotate--> DecryptOnly --retire (min_decryption_version)--> Retired --destroy--> Destroyed
///   encrypt+decrypt     decrypt            no decrypt, key kept wrapped      key material gone
/// </code>
/// </summary>
public enum KeyState : byte
{
    /// <summary>The one version new records are encrypted with.</summary>
    Active = 1,

    /// <summary>An older version that still decrypts; rewrap moves its records to the active one.</summary>
    DecryptOnly = 2,

    /// <summary>Below <c>min_decryption_version</c>: decrypting fails with <c>crypto.retired_version</c>.</summary>
    Retired = 3,

    /// <summary>Key material erased (crypto-shredding): <c>crypto.destroyed_version</c>.</summary>
    Destroyed = 4,
}

/// <summary>Public, secret-free view of one data-key version.</summary>
/// <param name="Version">1..n, never reused.</param>
/// <param name="State">Current state.</param>
/// <param name="CreatedAt">When the version was generated.</param>
/// <param name="StateChangedAt">When it entered <paramref name="State"/>.</param>
/// <param name="Encryptions">Encryptions counted as of the last <see cref="Keyring.WithUsage"/> (persisted).</param>
public sealed record KeyVersionInfo(int Version, KeyState State, DateTimeOffset CreatedAt, DateTimeOffset StateChangedAt, long Encryptions);

/// <summary>What a key event was; the cluster turns each into an audit record.</summary>
public enum KeyEventKind
{
    /// <summary>A keyring (and its first data key) was created.</summary>
    Created = 1,

    /// <summary>A new active version replaced the previous one.</summary>
    Rotated = 2,

    /// <summary>A version fell below <c>min_decryption_version</c>.</summary>
    Retired = 3,

    /// <summary>A retired version's key material was erased.</summary>
    Destroyed = 4,

    /// <summary>All data keys were re-wrapped under a new KEK version (records untouched).</summary>
    KekRewrapped = 5,

    /// <summary>A batch of records was re-encrypted from an old version to the active one.</summary>
    RecordsRewrapped = 6,
}

/// <summary>A key lifecycle event produced by a <see cref="Keyring"/> operation.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="StoreId">The shard (keyring) it happened to.</param>
/// <param name="KeyVersion">The data-key version concerned (the new one for rotations).</param>
/// <param name="KekVersion">KEK version in force after the event.</param>
/// <param name="Time">When, from the injected <see cref="TimeProvider"/>.</param>
/// <param name="Detail">Human-readable detail (versions, counts, reason; never key bytes).</param>
public sealed record KeyEvent(KeyEventKind Kind, string StoreId, int KeyVersion, int KekVersion, DateTimeOffset Time, string Detail)
{
    /// <summary>Audit action name, e.g. <c>keys.rotated</c>.</summary>
    public string AuditAction => Kind switch
    {
        KeyEventKind.Created => "keys.created",
        KeyEventKind.Rotated => "keys.rotated",
        KeyEventKind.Retired => "keys.retired",
        KeyEventKind.Destroyed => "keys.destroyed",
        KeyEventKind.KekRewrapped => "keys.kek_rewrapped",
        KeyEventKind.RecordsRewrapped => "keys.records_rewrapped",
        _ => "keys.unknown",
    };

    /// <summary>Audit resource name, e.g. <c>keys/logs-0003/v2</c>.</summary>
    public string AuditResource => $"keys/{StoreId}/v{KeyVersion}";
}

/// <summary>The result of a keyring operation: the new value and the events to audit.</summary>
public sealed record KeyringChange(Keyring Keyring, IReadOnlyList<KeyEvent> Events);

/// <summary>A keyring's versions, read without its KEK (<see cref="Keyring.ReadInfo"/>).</summary>
/// <param name="StoreId">The shard the keyring belongs to.</param>
/// <param name="KekVersion">KEK version its data keys are wrapped under.</param>
/// <param name="ActiveVersion">The version new records are encrypted with.</param>
/// <param name="MinDecryptionVersion">Versions below this no longer decrypt.</param>
/// <param name="Versions">Every data-key version, ascending.</param>
public sealed record KeyringInfo(string StoreId, int KekVersion, int ActiveVersion, int MinDecryptionVersion, IReadOnlyList<KeyVersionInfo> Versions);
