using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using LightningDB;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// Shard files edited the way an attacker would (a raw LMDB write while the node is down), then
/// read through the HTTP edge of the restarted node: the problem document names the damage as
/// RFC 9457 extension members (store, table, key, and the audit sequence number for a broken
/// chain), and the HTTP client surfaces the same facts as the error's details.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class EdgeTamperProcessTests : IDisposable
{
    private readonly TempDir _dir = new();
    private NodeProcess? _node;

    [Fact]
    public async Task EditedShardFiles_AreNamedInTheProblemDocument_StoreTableKeyAndAuditSeq()
    {
        var args = new[] { $"--ForgeOne:Port={NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture)}", "--ForgeOne:Shards:NoSync=true" };
        _node = NodeProcess.Start("node", _dir.Path, args);
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "keys", "bootstrap-admin.key"))).Trim();
        using (var http = Http(_node, key))
        {
            // Entries until two topics live on different log shards: one gets a tampered
            // record, the other a hole in its audit chain.
            var first = await AppendAsync(http, "tamper-record", "the record an attacker edits");
            var other = first;
            for (var i = 0; other.Shard == first.Shard; i++)
            {
                other = await AppendAsync(http, "tamper-chain-" + i.ToString(CultureInfo.InvariantCulture), "on another shard");
            }

            _first = first;
            _other = other;
        }

        _node.Terminate();
        Assert.Equal(0, await _node.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        _node.Dispose();

        var recordKey = RecordKeys.Primary(_first);
        Raw(ShardFile(_first.Shard), (txn, db) =>
        {
            var stored = txn.Get(db(Tables.Logs), recordKey).value.CopyToNewArray();
            var payload = stored[RecordEnvelope.HeaderSize..];
            payload[^1] ^= 0x80;
            // The envelope's checksum is recomputed: only the cipher's authentication can tell.
            Assert.Equal(MDBResultCode.Success, txn.Put(db(Tables.Logs), recordKey, RecordEnvelope.Wrap(recordKey, payload)));
        });
        ulong deleted = 0;
        Raw(ShardFile(_other.Shard), (txn, db) =>
        {
            // Every shard's chain starts with its own records (opened, key set up) before the
            // append's: the middle one is never the first or the head.
            var audit = db(Tables.Audit);
            using var cursor = txn.CreateCursor(audit);
            var seqs = cursor.AsEnumerable().Select(r => KeyCodec.ReadUInt64(r.Item1.AsSpan())).ToList();
            Assert.True(seqs.Count >= 3, $"audit chain of {seqs.Count} records");
            deleted = seqs[seqs.Count / 2];
            Assert.Equal(MDBResultCode.Success, txn.Delete(audit, KeyCodec.UInt64(deleted)));
        });

        _node = NodeProcess.Start("node again", _dir.Path, args);
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));
        using var client = Http(_node, key);

        var tampered = await ProblemAsync(client, $"/v1/log-entries/{_first}");
        Assert.Equal(ErrorCodes.CryptoTampered, tampered.GetProperty("code").GetString());
        Assert.Equal(500, tampered.GetProperty("status").GetInt32());
        Assert.Equal($"logs-{_first.Shard:D4}", tampered.GetProperty("store").GetString());
        Assert.Equal(Tables.Logs, tampered.GetProperty("table").GetString());
        Assert.Equal(KeyCodec.ToHex(recordKey), tampered.GetProperty("key").GetString());

        var broken = await ProblemAsync(client, $"/v1/log-entries/{_other}");
        Assert.Equal(ErrorCodes.AuditChainBroken, broken.GetProperty("code").GetString());
        Assert.Equal($"logs-{_other.Shard:D4}", broken.GetProperty("store").GetString());
        Assert.Equal(Tables.Audit, broken.GetProperty("table").GetString());
        Assert.Equal(KeyCodec.ToHex(KeyCodec.UInt64(deleted)), broken.GetProperty("key").GetString());
        Assert.Equal(deleted.ToString(CultureInfo.InvariantCulture), broken.GetProperty("seq").GetString());

        // The typed client carries the same facts as the error's details.
        var typed = new ForgeOneHttpClient(client, new ForgeOneHttpClientOptions { ApiKey = key });
        var thrown = await Assert.ThrowsAsync<ForgeOneHttpException>(() => typed.GetLogAsync(_first));
        Assert.Equal(ErrorCodes.CryptoTampered, thrown.Code);
        Assert.Equal(KeyCodec.ToHex(recordKey), thrown.Error.Details![ForgeOneError.KeyDetail]);
        Assert.Equal($"logs-{_first.Shard:D4}", thrown.Error.Details[ForgeOneError.StoreDetail]);
    }

    private RecordId _first;
    private RecordId _other;

    public void Dispose()
    {
        _node?.Dispose();
        _dir.Dispose();
    }

    private static HttpClient Http(NodeProcess node, string key)
    {
        var http = new HttpClient { BaseAddress = node.EdgeAddress ?? throw new InvalidOperationException("the node printed no edge address:\n" + node.Output) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static async Task<RecordId> AppendAsync(HttpClient http, string topic, string message)
    {
        using var response = await http.PostAsync($"/v1/logs/{topic}", new StringContent($$"""{"severity":"info","message":"{{message}}"}""", System.Text.Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return RecordId.Parse(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);
    }

    private static async Task<JsonElement> ProblemAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private string ShardFile(int shard) =>
        Directory.EnumerateFiles(Path.Combine(_dir.Path, "data"), $"shard-{shard:D4}.mdb", SearchOption.AllDirectories)
            .Single(p => Path.GetFileName(Path.GetDirectoryName(p)) == ShardKind.Logs.FolderName());

    /// <summary>One raw LightningDB write transaction on a closed shard file, as an attacker would make it.</summary>
    private static void Raw(string path, Action<LightningTransaction, Func<string, LightningDatabase>> edit)
    {
        // The LMDB build ForgeOne ships where LightningDB's bundled one cannot load (older glibc).
        NativeLmdb.EnsureInstalled();
        using var env = new LightningEnvironment(path, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 });
        env.Open(EnvironmentOpenFlags.NoSubDir);
        var dbs = new Dictionary<string, LightningDatabase>();
        using (var txn = env.BeginTransaction())
        {
            edit(txn, name => dbs.TryGetValue(name, out var db) ? db : dbs[name] = txn.OpenDatabase(name));
            Assert.Equal(MDBResultCode.Success, txn.Commit());
        }

        foreach (var db in dbs.Values)
        {
            db.Dispose();
        }
    }
}
