namespace ForgeOne.Storage;

/// <summary>What an integrity walk found in one table.</summary>
/// <param name="Table">The table name.</param>
/// <param name="Records">Records visited.</param>
/// <param name="CorruptRecords">Records whose envelope or checksum did not verify.</param>
public sealed record TableIntegrity(string Table, long Records, long CorruptRecords);

/// <summary>One problem found by an integrity walk.</summary>
/// <param name="Table">The table it was found in.</param>
/// <param name="KeyHex">The record key in hex, or null for a table-level problem.</param>
/// <param name="Code">The stable error code (e.g. <c>storage.corrupt_record</c>).</param>
/// <param name="Message">What is wrong.</param>
public sealed record IntegrityError(string Table, string? KeyHex, string Code, string Message);

/// <summary>
/// The result of <see cref="IShardStore.CheckIntegrity()"/>: per-table counts and the first
/// <see cref="MaxErrors"/> errors (counts stay exact beyond that).
/// </summary>
public sealed record IntegrityReport(string FilePath, IReadOnlyList<TableIntegrity> Tables, IReadOnlyList<IntegrityError> Errors)
{
    /// <summary>How many errors a report lists; a badly damaged file would otherwise produce millions.</summary>
    public const int MaxErrors = 100;

    /// <summary>True when every record of every table verified.</summary>
    public bool IsHealthy => Errors.Count == 0 && Tables.All(t => t.CorruptRecords == 0);

    /// <summary>Records visited across all tables.</summary>
    public long TotalRecords => Tables.Sum(t => t.Records);
}
