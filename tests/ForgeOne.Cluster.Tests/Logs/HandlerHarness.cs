using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Testing;
using Microsoft.Extensions.Time.Testing;

namespace ForgeOne.Cluster.Tests.Logs;

/// <summary>
/// Runs a handler the way the shard actor does (authenticate the token, Admit, then Apply + one
/// audit record in one write transaction, or Read in a read transaction), without an
/// ActorSystem, over the in-memory store double, with a controllable clock.
/// </summary>
public sealed class HandlerHarness : IDisposable
{
    private readonly TempRoot _root = new();

    public HandlerHarness(IShardHandler handler, ShardKind kind, string? zone = null)
    {
        Handler = handler;
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        Store = new InMemoryShardStore(kind, 0, kind == ShardKind.System ? 1 : 4);
        Security = new ShardSecurityFactory(new FileKekProvider(_root.KeysDirectory, _root.DataRoot), TestAuth.Node(Time), Time).Open(Store, kind, 0);
        Context = new ShardContext(kind, 0, kind == ShardKind.System ? 1 : 4, Security, new RecordIdGenerator(0, Time), Time, Limits.Default) { Zone = zone };
    }

    public IShardHandler Handler { get; }

    public FakeTimeProvider Time { get; }

    public InMemoryShardStore Store { get; }

    public IShardSecurity Security { get; }

    public ShardContext Context { get; }

    public DateTimeOffset Now => Time.GetUtcNow();

    public object Send(IShardOperation operation)
    {
        var authentication = Security.Authenticate(operation.Token);
        if (!authentication.IsAuthenticated)
        {
            return Handler.Fail(authentication.Error!);
        }

        var principal = authentication.Principal;
        var admission = Handler.Admit(operation, principal, Context);
        if (!admission.Admitted)
        {
            return Handler.Fail(admission.Refusal!);
        }

        try
        {
            if (operation is IShardCommand command)
            {
                var (reply, appender) = Store.Write(txn =>
                {
                    var appender = Security.BeginAudit();
                    var reply = Handler.Apply(txn, command, principal, Context);
                    var detail = reply is IAuditDetail known ? known.AuditDetail : admission.Detail;
                    appender.Append(txn, Now, admission.Subject ?? principal.Id, admission.Action, admission.Resource, admission.Outcome, detail);
                    return (reply, appender);
                });
                Security.CommitAudit(appender);
                return reply;
            }

            return Store.Read(txn => Handler.Read(txn, (IShardQuery)operation, principal, Context));
        }
        catch (ForgeOneException e)
        {
            return Handler.Fail(e.Error);
        }
    }

    public T Send<T>(IShardOperation operation) => Assert.IsType<T>(Send(operation));

    /// <summary>The last audit record of the shard.</summary>
    public AuditRecord LastAudit() =>
        Store.Read(txn => AuditRecordCodec.Decode(txn.Get(Tables.Audit, txn.Last(Tables.Audit)!)!));

    public void Dispose()
    {
        Security.Dispose();
        Store.Dispose();
        _root.Dispose();
    }
}
