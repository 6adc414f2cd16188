using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>
/// The backup coordinator's endpoints: backups, restores, data-root versions, key backups and DR
/// drills. Starting an operation is never retried (it is not idempotent); with <c>wait</c> the
/// edge answers when the operation ends, otherwise at once with its id.
/// </summary>
public sealed partial class ForgeOneHttpClient
{
    /// <summary>Starts a backup (<paramref name="type"/> <c>full</c>, <c>incremental</c>, or null for what the schedule would take); joins a running one.</summary>
    public Task<BackupAcceptedView> StartBackupAsync(string? type = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<BackupRunInput, BackupAcceptedView>("/v1/backups", new BackupRunInput(type), idempotent: false, cancellationToken);

    /// <summary>Runs a backup and answers when it ended (the edge holds the request up to 30 minutes).</summary>
    public Task<BackupView> RunBackupAsync(string? type = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<BackupRunInput, BackupView>("/v1/backups?wait=true", new BackupRunInput(type), idempotent: false, cancellationToken);

    /// <summary>The backup catalog, newest first.</summary>
    public Task<BackupListView> ListBackupsAsync(int limit = 100, CancellationToken cancellationToken = default) =>
        GetAsync<BackupListView>($"/v1/backups?limit={limit.ToString(System.Globalization.CultureInfo.InvariantCulture)}", cancellationToken);

    /// <summary>One backup with its shards' files and the KEK versions a restore needs.</summary>
    public Task<BackupDetailsView> GetBackupAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<BackupDetailsView>($"/v1/backups/{Escape(id)}", cancellationToken);

    /// <summary>Re-reads a backup's chain in every region (signatures, sizes, SHA-256); read-only, so retried.</summary>
    public Task<BackupVerifiedView> VerifyBackupAsync(string id, CancellationToken cancellationToken = default) =>
        SendAsync<BackupVerifiedView>(HttpMethod.Post, $"/v1/backups/{Escape(id)}/verify", null, retryable: true, null, cancellationToken);

    /// <summary>What the coordinator is doing now (<c>idle</c> when nothing runs).</summary>
    public Task<BackupProgressView> GetBackupProgressAsync(CancellationToken cancellationToken = default) =>
        GetAsync<BackupProgressView>("/v1/backups/progress", cancellationToken);

    /// <summary>The backup and drill schedule.</summary>
    public Task<BackupScheduleView> GetBackupScheduleAsync(CancellationToken cancellationToken = default) =>
        GetAsync<BackupScheduleView>("/v1/backups/schedule", cancellationToken);

    /// <summary>Starts a restore (by backup id, or the newest at or before a time, or the newest of all).</summary>
    public Task<RestoreAcceptedView> StartRestoreAsync(RestoreInput input, CancellationToken cancellationToken = default) =>
        PostJsonAsync<RestoreInput, RestoreAcceptedView>("/v1/restores", input, idempotent: false, cancellationToken);

    /// <summary>Restores and answers when the restore ended.</summary>
    public Task<RestoreView> RestoreAsync(RestoreInput input, CancellationToken cancellationToken = default) =>
        PostJsonAsync<RestoreInput, RestoreView>("/v1/restores?wait=true", input, idempotent: false, cancellationToken);

    /// <summary>A restore's outcome (the edge waits while it runs).</summary>
    public Task<RestoreView> GetRestoreAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<RestoreView>($"/v1/restores/{Escape(id)}", cancellationToken);

    /// <summary>The data root's versions.</summary>
    public Task<DataVersionList> ListDataVersionsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<DataVersionList>("/v1/data-versions", cancellationToken);

    /// <summary>Deletes a data-root version that is not active.</summary>
    public async Task DiscardDataVersionAsync(string name, CancellationToken cancellationToken = default)
    {
        using var _ = await SendRawAsync(HttpMethod.Delete, $"/v1/data-versions/{Escape(name)}", null, retryable: false, null, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Seals the keys directory under <paramref name="recoverySecret"/> and stores it in every region.</summary>
    public Task<KeyBackupView> BackupKeysAsync(string recoverySecret, CancellationToken cancellationToken = default) =>
        PostJsonAsync<KeyBackupInput, KeyBackupView>("/v1/keys/backups", new KeyBackupInput(recoverySecret), idempotent: false, cancellationToken);

    /// <summary>Proves <paramref name="recoverySecret"/> opens a key backup (the newest when <paramref name="id"/> is null).</summary>
    public Task<KeyBackupVerifiedView> VerifyKeyBackupAsync(string recoverySecret, string? id = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<KeyBackupVerifyInput, KeyBackupVerifiedView>("/v1/keys/backups/verify", new KeyBackupVerifyInput(recoverySecret, id), idempotent: true, cancellationToken);

    /// <summary>The key backups the regions hold.</summary>
    public Task<KeyBackupListView> ListKeyBackupsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<KeyBackupListView>("/v1/keys/backups", cancellationToken);

    /// <summary>Starts a DR drill of <paramref name="region"/> (every region when null).</summary>
    public Task<DrillAcceptedView> StartDrillAsync(string? region = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<DrillInput, DrillAcceptedView>("/v1/dr/drills", new DrillInput(region), idempotent: false, cancellationToken);

    /// <summary>Runs a DR drill and answers when it ended.</summary>
    public Task<DrillView> RunDrillAsync(string? region = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<DrillInput, DrillView>("/v1/dr/drills?wait=true", new DrillInput(region), idempotent: false, cancellationToken);

    /// <summary>DR drills, newest first.</summary>
    public Task<DrillListView> ListDrillsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<DrillListView>("/v1/dr/drills", cancellationToken);

    /// <summary>A drill's signed evidence report.</summary>
    public Task<DrillReportView> GetDrillAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<DrillReportView>($"/v1/dr/drills/{Escape(id)}", cancellationToken);

    /// <summary>Every shard's schema version, pending migrations and history, and the newest rehearsal.</summary>
    public Task<SchemaStatusView> GetSchemaStatusAsync(CancellationToken cancellationToken = default) =>
        GetAsync<SchemaStatusView>("/v1/schema", cancellationToken);

    /// <summary>Rehearses the pending migrations on a restore of the newest backup and answers with the signed report when it ended.</summary>
    public Task<RehearsalView> RehearseSchemaAsync(CancellationToken cancellationToken = default) =>
        SendAsync<RehearsalView>(HttpMethod.Post, "/v1/schema/rehearse", null, retryable: false, null, cancellationToken);

    /// <summary>Migrates every shard (refused without a passing rehearsal unless <paramref name="withoutRehearsal"/> with a <paramref name="reason"/>, audited).</summary>
    public Task<SchemaMigratedView> MigrateSchemaAsync(bool withoutRehearsal = false, string? reason = null, CancellationToken cancellationToken = default) =>
        PostJsonAsync<SchemaMigrateInput, SchemaMigratedView>("/v1/schema/migrate", new SchemaMigrateInput(withoutRehearsal, reason), idempotent: false, cancellationToken);
}
