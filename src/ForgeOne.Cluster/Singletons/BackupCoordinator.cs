using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static ForgeOne.Cluster.Protocol.BackupProtocol;

namespace ForgeOne.Cluster.Singletons;

/// <summary>
/// Cluster singleton that will run and catalog backups (the backup issue adds the behaviour).
/// Today it owns the persisted backup schedule, which survives fail-over: a new incarnation
/// recovers it from the journal. On first start it persists the configured default.
/// </summary>
public sealed class BackupCoordinator : ReceivePersistentActor
{
    /// <summary>Persistence id of the single coordinator.</summary>
    public const string Id = "forgeone-backup";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeProvider _time;
    private readonly TimeSpan _defaultInterval;
    private BackupScheduleSet? _schedule;

    /// <summary>Creates the coordinator.</summary>
    public BackupCoordinator(TimeProvider time, TimeSpan defaultInterval)
    {
        _time = time;
        _defaultInterval = defaultInterval;

        Recover<RecoveryCompleted>(_ => OnRecovered());
        Recover<BackupScheduleSet>(e => _schedule = e);
        Command<SetBackupSchedule>(set =>
        {
            if (set.Interval < TimeSpan.FromMinutes(1))
            {
                Sender.Tell(new Akka.Actor.Status.Failure(new ArgumentOutOfRangeException(nameof(set.Interval), "A backup interval is at least one minute.")));
                return;
            }

            var sender = Sender;
            Persist(new BackupScheduleSet(set.Interval, _time.GetUtcNow(), set.Caller?.Id ?? "unknown"), e =>
            {
                _schedule = e;
                sender.Tell(Current());
            });
        });
        Command<GetBackupSchedule>(_ => Sender.Tell(Current()));
    }

    /// <inheritdoc />
    public override string PersistenceId => Id;

    /// <summary>Props of the coordinator.</summary>
    public static Props Props(TimeProvider time, TimeSpan defaultInterval) =>
        Akka.Actor.Props.Create(() => new BackupCoordinator(time, defaultInterval));

    private void OnRecovered()
    {
        if (_schedule is null)
        {
            Persist(new BackupScheduleSet(_defaultInterval, _time.GetUtcNow(), "default"), e => _schedule = e);
        }

        _log.Info("Backup coordinator recovered on {0}", Akka.Cluster.Cluster.Get(Context.System).SelfAddress);
    }

    private BackupSchedule Current() =>
        new(_schedule!.Interval, _schedule.SetAt, _schedule.SetBy, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString());
}
