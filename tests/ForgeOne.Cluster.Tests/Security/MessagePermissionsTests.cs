using System.Runtime.CompilerServices;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Tests.Security;

/// <summary>Every protocol message is either authorized against a named permission, internal, flow control, or a reply.</summary>
public sealed class MessagePermissionsTests
{
    public static TheoryData<string> MessageTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in ProtocolTypes.Messages().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    private static object Instance(string typeName) =>
        RuntimeHelpers.GetUninitializedObject(ProtocolTypes.Messages().Single(t => t.FullName == typeName));

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void EveryProtocolMessage_IsListed(string typeName)
    {
        var access = MessagePermissions.Of(Instance(typeName));

        Assert.IsNotType<MessageAccess.Unlisted>(access);
    }

    [Theory]
    [MemberData(nameof(MessageTypes))]
    public void EveryRequestCarriesAToken_AndIsAuthorizedOrOpenToAnyPrincipal_AndEveryReplyIsAReply(string typeName)
    {
        var message = Instance(typeName);
        var access = MessagePermissions.Of(message);

        switch (message)
        {
            case IAuthenticated:
                Assert.True(access is MessageAccess.Permission or MessageAccess.AnyPrincipal, $"{typeName} carries a token but is {access}");
                if (access is MessageAccess.Permission p)
                {
                    Assert.True(Permissions.IsConcrete(p.Name), $"{typeName} needs '{p.Name}', not a concrete permission");
                }

                break;
            case IReply:
                Assert.IsType<MessageAccess.Reply>(access);
                break;
            default:
                // Neither a request with a token nor a reply: it must say why it is accepted at all.
                Assert.True(access is MessageAccess.Internal or MessageAccess.StreamControl or MessageAccess.Envelope, $"{typeName} is {access}");
                break;
        }
    }

    [Fact]
    public void EveryMessageAShardOrSingletonActsOn_CarriesAToken()
    {
        // A shard's data operation or control message, or a singleton's request: all of them.
        var requests = ProtocolTypes.Messages().Where(t => typeof(IShardMessage).IsAssignableFrom(t) || t.DeclaringType?.Name is "SealerProtocol" or "KeyRotationProtocol" or "BackupProtocol" or nameof(RetentionSweeper))
            .Where(t => !typeof(IReply).IsAssignableFrom(t) && MessagePermissions.Of(RuntimeHelpers.GetUninitializedObject(t)) is not MessageAccess.Envelope)
            .ToList();

        Assert.NotEmpty(requests);
        Assert.All(requests, t => Assert.True(typeof(IAuthenticated).IsAssignableFrom(t), $"{t.FullName} is acted on without a token"));
    }

    [Fact]
    public void TheControlMessagesOfTheIssue_NeedTheirAdminPermissions()
    {
        Assert.Equal(Permissions.KeysAdmin, MessagePermissions.PermissionOf(Instance(typeof(ShardProtocol.RotateKey).FullName!)));
        Assert.Equal(Permissions.AuditRead, MessagePermissions.PermissionOf(Instance(typeof(ShardProtocol.GetAuditHead).FullName!)));
        Assert.Equal(Permissions.SystemRead, MessagePermissions.PermissionOf(Instance(typeof(ShardProtocol.GetShardStats).FullName!)));
        Assert.Equal(Permissions.KeysAdmin, MessagePermissions.PermissionOf(Instance(typeof(KeyRotationProtocol.RotateAll).FullName!)));
        Assert.Equal(Permissions.BackupAdmin, MessagePermissions.PermissionOf(Instance(typeof(BackupProtocol.SetBackupSchedule).FullName!)));
        Assert.Equal(Permissions.AuditRead, MessagePermissions.PermissionOf(Instance(typeof(SealerProtocol.SealNow).FullName!)));
        Assert.Equal(Permissions.AuditExport, MessagePermissions.PermissionOf(Instance(typeof(SealerProtocol.GetSealHistory).FullName!)));
        Assert.IsType<MessageAccess.Internal>(MessagePermissions.Of(ShardProtocol.HandOff.Instance));
    }

    [Fact]
    public void AForcedOffsetCommit_NeedsWrite_ANormalOneRead()
    {
        var token = new PrincipalToken([]);
        var position = Common.RecordId.Create(1, 0, 0);

        Assert.Equal(Permissions.EventsRead, MessagePermissions.PermissionOf(new EventProtocol.CommitConsumerOffset(token, "g", "t", position)));
        Assert.Equal(Permissions.EventsWrite, MessagePermissions.PermissionOf(new EventProtocol.CommitConsumerOffset(token, "g", "t", position, Force: true)));
    }
}
