using System.Diagnostics;
using System.Globalization;

namespace ForgeOne.FaultTests.Harness;

/// <summary>
/// A network namespace joined to the host's by one veth pair (a /30: the host side's address
/// and the inside's). A node started inside reaches the others only over that link, so
/// <see cref="Cut"/> partitions it for real: blackhole routes on both sides drop every segment
/// silently (connections hang as on a broken switch; nothing is refused), and
/// <see cref="Heal"/> takes them away again. Needs root (CAP_NET_ADMIN) and iproute2;
/// <see cref="TryCreate"/> says why not where it cannot be made.
/// </summary>
public sealed class IsolatedNetwork : IDisposable
{
    private readonly string _hostLink;
    private bool _cut;

    private IsolatedNetwork(string name, string hostLink, string hostAddress, string insideAddress)
    {
        Namespace = name;
        _hostLink = hostLink;
        HostAddress = hostAddress;
        InsideAddress = insideAddress;
    }

    /// <summary>The namespace's name (for <c>ip netns exec</c>).</summary>
    public string Namespace { get; }

    /// <summary>The host side's address: members outside bind it so the inside can reach them.</summary>
    public string HostAddress { get; }

    /// <summary>The address of a member inside.</summary>
    public string InsideAddress { get; }

    /// <summary>Creates the namespace and its link, or returns null with the reason it cannot be made here.</summary>
    public static IsolatedNetwork? TryCreate(out string reason)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        var subnet = Random.Shared.Next(0, 64) * 4;
        var third = Random.Shared.Next(0, 256).ToString(CultureInfo.InvariantCulture);
        var host = $"10.213.{third}.{(subnet + 1).ToString(CultureInfo.InvariantCulture)}";
        var inside = $"10.213.{third}.{(subnet + 2).ToString(CultureInfo.InvariantCulture)}";
        var network = new IsolatedNetwork($"forgeone-{id}", $"fo{id}h", host, inside);
        try
        {
            Ip("netns", "add", network.Namespace);
            Ip("link", "add", network._hostLink, "type", "veth", "peer", "name", $"fo{id}i");
            Ip("link", "set", $"fo{id}i", "netns", network.Namespace);
            Ip("addr", "add", host + "/30", "dev", network._hostLink);
            Ip("link", "set", network._hostLink, "up");
            network.Inside("addr", "add", inside + "/30", "dev", $"fo{id}i");
            network.Inside("link", "set", $"fo{id}i", "up");
            network.Inside("link", "set", "lo", "up");
            reason = "";
            return network;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            reason = $"cannot make a network namespace here ({e.Message.Trim()}); it needs root (CAP_NET_ADMIN) and iproute2";
            network.Dispose();
            return null;
        }
    }

    /// <summary>Partitions the inside from the host: every segment either way is dropped from now on.</summary>
    public void Cut()
    {
        Ip("route", "add", "blackhole", InsideAddress + "/32");
        Inside("route", "add", "blackhole", HostAddress + "/32");
        _cut = true;
    }

    /// <summary>Ends the partition.</summary>
    public void Heal()
    {
        if (_cut)
        {
            Ip("route", "del", "blackhole", InsideAddress + "/32");
            Inside("route", "del", "blackhole", HostAddress + "/32");
            _cut = false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Deleting the namespace removes its end of the pair, and with it the host's.
        foreach (var args in new[] { new[] { "netns", "del", Namespace }, new[] { "link", "del", _hostLink } })
        {
            try
            {
                Ip(args);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone (or never made).
            }
        }
    }

    private void Inside(params string[] args) => Ip(["netns", "exec", Namespace, "ip", .. args]);

    private static void Ip(params string[] args)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var ip = Process.Start(info) ?? throw new InvalidOperationException("ip did not start");
        var error = ip.StandardError.ReadToEnd();
        ip.WaitForExit();
        if (ip.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)}: exit {ip.ExitCode}: {error}");
        }
    }
}
