using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using P = ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client.Http;

/// <summary>Logs.</summary>
public sealed partial class ForgeOneHttpClient
{
    /// <inheritdoc />
    public async Task<RecordId> AppendLogAsync(string topic, P.LogInput entry, CancellationToken cancellationToken = default) =>
        RecordId.Parse((await PostJsonAsync<LogEntryInput, LogAppended>($"/v1/logs/{Escape(topic)}", ToApi(entry), idempotent: true, cancellationToken).ConfigureAwait(false)).Id);

    /// <inheritdoc />
    public async Task<RecordId[]> AppendLogBatchAsync(string topic, P.LogInput[] entries, CancellationToken cancellationToken = default) =>
        [.. (await PostJsonAsync<LogEntryInput[], LogBatchAppended>($"/v1/logs/{Escape(topic)}/batch", [.. entries.Select(ToApi)], idempotent: true, cancellationToken).ConfigureAwait(false)).Ids.Select(RecordId.Parse)];

    /// <summary>
    /// Appends entries of any topics as one NDJSON bulk request: lines are grouped per topic into
    /// batches on the edge; the result says, per line and in order, its id or its error.
    /// Retried with one Idempotency-Key, so every batch applies once.
    /// </summary>
    public Task<BulkResult> BulkAppendLogsAsync(IEnumerable<(string Topic, P.LogInput Entry)> entries, CancellationToken cancellationToken = default)
    {
        var body = new StringBuilder();
        foreach (var (topic, e) in entries)
        {
            body.Append(JsonSerializer.Serialize(new BulkLogLine(topic, e.Severity, e.Message, e.Timestamp, e.Metadata, e.CheckpointMarker), ApiJsonContext.Default.BulkLogLine)).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToString());
        return SendAsync<BulkResult>(HttpMethod.Post, "/v1/bulk/logs", () =>
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-ndjson");
            return content;
        }, retryable: true, NewKey(), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<LogEntry> GetLogAsync(RecordId id, CancellationToken cancellationToken = default) =>
        FromApi(await GetAsync<LogEntryView>($"/v1/log-entries/{id}", cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<P.LogPage> QueryLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Severity minSeverity = Severity.Trace, int limit = 1000, string? continuation = null, CancellationToken cancellationToken = default)
    {
        var page = await GetAsync<LogPage>($"/v1/logs/{Escape(topic)}?{Range(from, to)}&minSeverity={minSeverity}&limit={limit}{Continue(continuation)}", cancellationToken).ConfigureAwait(false);
        return new P.LogPage(page.Topic, [.. page.Entries.Select(FromApi)], page.Continuation);
    }

    /// <inheritdoc />
    public async Task<long> CountLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        (await GetAsync<LogCount>($"/v1/logs/{Escape(topic)}/count?{Range(from, to)}", cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>Creates the next version of checkpoint <paramref name="name"/> at <paramref name="position"/> (null: the topic's newest entry).</summary>
    public async Task<P.LogCheckpoint> CreateCheckpointAsync(string topic, string name, RecordId? position = null, CancellationToken cancellationToken = default) =>
        FromApi(await PostJsonAsync<CheckpointInput, CheckpointView>($"/v1/logs/{Escape(topic)}/checkpoints", new CheckpointInput(name, position?.ToString()), idempotent: false, cancellationToken).ConfigureAwait(false));

    /// <summary>Every version of every checkpoint of a topic (or of one name).</summary>
    public async Task<P.LogCheckpoint[]> ListCheckpointsAsync(string topic, string? name = null, CancellationToken cancellationToken = default) =>
        [.. (await GetAsync<CheckpointList>($"/v1/logs/{Escape(topic)}/checkpoints{(name is null ? "" : "?name=" + Escape(name))}", cancellationToken).ConfigureAwait(false)).Checkpoints.Select(FromApi)];

    /// <summary>Replays a topic from a checkpoint (entries after it) or a marker (that entry included), streamed, every entry's hash verified by the shard.</summary>
    public async IAsyncEnumerable<LogEntry> ReplayLogsAsync(string topic, string? checkpoint = null, string? marker = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = checkpoint is not null ? "checkpoint=" + Escape(checkpoint) : "marker=" + Escape(marker ?? string.Empty);
        using var response = await SendRawAsync(HttpMethod.Get, $"/v1/logs/{Escape(topic)}/replay?{query}", null, retryable: true, null, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0)
            {
                yield return FromApi(JsonSerializer.Deserialize(line, ApiJsonContext.Default.LogEntryView)!);
            }
        }
    }

    private static LogEntryInput ToApi(P.LogInput e) => new(e.Severity, e.Message, e.Timestamp, e.Metadata, e.CheckpointMarker);

    private static LogEntry FromApi(LogEntryView e) =>
        new(RecordId.Parse(e.Id), e.Topic, e.Timestamp, e.Severity, e.Message, e.Metadata, e.CheckpointMarker, Convert.FromHexString(e.ContentHash));

    private static P.LogCheckpoint FromApi(CheckpointView c) => new(c.Topic, c.Name, c.Version, RecordId.Parse(c.Position), c.CreatedAt, c.CreatedBy);

    private static string Range(DateTimeOffset from, DateTimeOffset to) =>
        $"from={Escape(from.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}&to={Escape(to.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}";

    private static string Continue(string? continuation) => continuation is null ? string.Empty : "&continuation=" + Escape(continuation);
}
