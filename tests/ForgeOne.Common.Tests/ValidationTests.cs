using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;

namespace ForgeOne.Common.Tests;

public class ValidationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("orders")]
    [InlineData("payments.eu-west.audit")]
    [InlineData("A_b-9.c")]
    public void Topic_AcceptsDottedSegments(string topic) => Assert.Null(Validate.Topic(topic));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".orders")]
    [InlineData("orders.")]
    [InlineData("a..b")]
    [InlineData("has space")]
    [InlineData("slash/inside")]
    [InlineData("tab\t")]
    [InlineData("ünicode")]
    public void Topic_RejectsBadSyntax(string? topic) =>
        Assert.Equal(ErrorCodes.InvalidTopic, Validate.Topic(topic)?.Code);

    [Fact]
    public void Topic_RejectsOverLongTopic()
    {
        Assert.Null(Validate.Topic(new string('a', 200)));
        Assert.Equal(ErrorCodes.InvalidTopic, Validate.Topic(new string('a', 201))?.Code);
    }

    [Fact]
    public void Timestamp_RejectsFarFutureAndPre2000()
    {
        Assert.Null(Validate.Timestamp(Now.AddMinutes(5), Now));
        Assert.Equal(ErrorCodes.InvalidTimestamp, Validate.Timestamp(Now.AddMinutes(5).AddTicks(1), Now)?.Code);
        Assert.Equal(ErrorCodes.InvalidTimestamp, Validate.Timestamp(DateTimeOffset.FromUnixTimeSeconds(0), Now)?.Code);
    }

    [Fact]
    public void Message_LimitIsInUtf8Bytes()
    {
        var limits = new Limits { MaxMessageBytes = 4 };
        Assert.Null(Validate.Message("abcd", limits));
        Assert.Equal(ErrorCodes.MessageTooLarge, Validate.Message("abcé", limits)?.Code); // é is 2 bytes
        Assert.Equal(ErrorCodes.InvalidArgument, Validate.Message(null)?.Code);
    }

    [Fact]
    public void Payload_RejectsOversized()
    {
        Assert.Null(Validate.Payload(new byte[1024 * 1024]));
        Assert.Equal(ErrorCodes.PayloadTooLarge, Validate.Payload(new byte[(1024 * 1024) + 1])?.Code);
    }

    [Fact]
    public void Metadata_EnforcesCountKeyValueAndTotal()
    {
        var limits = new Limits { MaxMetadataEntries = 2, MaxMetadataValueBytes = 8, MaxMetadataTotalBytes = 12 };
        Assert.Null(Validate.Metadata(new Dictionary<string, string> { ["a"] = "12345678" }, limits));
        Assert.Equal(ErrorCodes.MetadataTooLarge, Validate.Metadata(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" }, limits)?.Code);
        Assert.Equal(ErrorCodes.MetadataTooLarge, Validate.Metadata(new Dictionary<string, string> { ["a"] = "123456789" }, limits)?.Code);
        Assert.Equal(ErrorCodes.MetadataTooLarge, Validate.Metadata(new Dictionary<string, string> { ["a"] = "1234567", ["b"] = "1234" }, limits)?.Code);
        Assert.Equal(ErrorCodes.InvalidMetadata, Validate.Metadata(new Dictionary<string, string> { [""] = "x" })?.Code);
        Assert.Equal(ErrorCodes.InvalidMetadata, Validate.Metadata(new Dictionary<string, string> { ["k\n"] = "x" })?.Code);
        Assert.Equal(ErrorCodes.InvalidMetadata, Validate.Metadata(new Dictionary<string, string> { ["k"] = null! })?.Code);
    }

    [Fact]
    public void Chunk_RejectsNegativeIndexAndOversizedData()
    {
        var limits = new Limits { MaxChunkBytes = 16 };
        Assert.Null(Validate.Chunk(0, new byte[16], limits));
        Assert.Equal(ErrorCodes.InvalidChunk, Validate.Chunk(-1, new byte[1], limits)?.Code);
        Assert.Equal(ErrorCodes.ChunkTooLarge, Validate.Chunk(0, new byte[17], limits)?.Code);
    }

    [Theory]
    [InlineData("text/plain", true)]
    [InlineData("application/vnd.forgeone+json; charset=utf-8", true)]
    [InlineData("text", false)]
    [InlineData("text/", false)]
    [InlineData("a/b/c", false)]
    [InlineData("text/pl ain", false)]
    [InlineData("", false)]
    public void ContentType_RequiresTypeSlashSubtype(string contentType, bool valid) =>
        Assert.Equal(valid ? null : ErrorCodes.InvalidContentType, Validate.ContentType(contentType)?.Code);

    [Fact]
    public void BlobName_RejectsBlankAndControlCharacters()
    {
        Assert.Null(Validate.BlobName("reports/2026/q3.pdf"));
        Assert.Equal(ErrorCodes.InvalidName, Validate.BlobName("  ")?.Code);
        Assert.Equal(ErrorCodes.InvalidName, Validate.BlobName("a\u0000b")?.Code);
    }

    [Fact]
    public void BatchSize_IsBetweenOneAndTheLimit()
    {
        Assert.Equal(ErrorCodes.BatchTooLarge, Validate.BatchSize(0)?.Code);
        Assert.Null(Validate.BatchSize(10_000));
        Assert.Equal(ErrorCodes.BatchTooLarge, Validate.BatchSize(10_001)?.Code);
    }

    [Fact]
    public void Log_ReportsTheFirstFailingField()
    {
        var error = ModelValidation.Log("ok", Now, new string('x', 70_000), null, null, Now);
        Assert.Equal(ErrorCodes.MessageTooLarge, error?.Code);
        Assert.Null(ModelValidation.Log("ok", Now, "fine", new Dictionary<string, string> { ["k"] = "v" }, "cp-1", Now));
    }

    [Fact]
    public void Event_RejectsUndefinedPriority() =>
        Assert.Equal(ErrorCodes.InvalidArgument, ModelValidation.Event("t", Now, (Priority)9, [], null, null, Now)?.Code);

    [Fact]
    public void ThrowIfInvalid_CarriesTheStableCode()
    {
        var ex = Assert.Throws<ForgeOneException>(() => Validate.ThrowIfInvalid(Validate.Topic("bad topic")));
        Assert.Equal(ErrorCodes.InvalidTopic, ex.Code);
    }
}
