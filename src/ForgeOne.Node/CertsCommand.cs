using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Node;

/// <summary>
/// <c>ForgeOne.Node certs issue</c>: issues a member certificate from the dev cluster CA in a keys
/// directory, for a member on another machine (an actor client, a node with its own keys
/// directory). It writes <c>{name}.pem</c> (certificate and key, 0600) and <c>cluster-ca.crt</c>
/// into the output directory, which can then serve as that member's <c>KeysDirectory</c>.
/// </summary>
internal static class CertsCommand
{
    private const string Usage = """
        usage: ForgeOne.Node certs issue --out <dir> [--keys <keys dir, default ./keys>] [--role client|node]
                                         [--host <name or address>]... [--cluster <name, default forgeone>]
          Issues <out>/client.pem (or node.pem) from the dev CA in <keys>, with <out>/cluster-ca.crt beside it.
          A client then uses KeysDirectory = <out>; a node elsewhere too (or ForgeOne:Tls:Certificate/CaCertificate).
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not ["issue", .. var rest])
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        string? output = null;
        var keys = "./keys";
        var role = "client";
        var cluster = "forgeone";
        var hosts = new List<string>();
        for (var i = 0; i < rest.Length; i++)
        {
            var value = i + 1 < rest.Length ? rest[i + 1] : null;
            switch (rest[i])
            {
                case "--out" when value is not null: output = value; i++; break;
                case "--keys" when value is not null: keys = value; i++; break;
                case "--role" when value is "client" or "node": role = value; i++; break;
                case "--cluster" when value is not null: cluster = value; i++; break;
                case "--host" when value is not null: hosts.Add(value); i++; break;
                default:
                    await Console.Error.WriteLineAsync($"certs issue: unexpected '{rest[i]}'.{Environment.NewLine}{Usage}").ConfigureAwait(false);
                    return 2;
            }
        }

        if (output is null)
        {
            await Console.Error.WriteLineAsync($"certs issue: --out is required.{Environment.NewLine}{Usage}").ConfigureAwait(false);
            return 2;
        }

        try
        {
            var file = role == "client" ? ClusterCertificates.ClientFile : ClusterCertificates.NodeFile;
            var (certificate, authority) = ClusterCertificates.IssueTo(keys, output, file, cluster, role, hosts, TimeProvider.System);
            await Console.Out.WriteLineAsync($"Issued a {role} certificate from the dev CA in {Path.GetFullPath(keys)}:").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"  {certificate} (certificate and private key, 0600)").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"  {authority} (the cluster CA to trust)").ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"Use KeysDirectory = {Path.GetFullPath(output)} for that member (copy the directory; keep it 0700).").ConfigureAwait(false);
            return 0;
        }
        catch (ForgeOneException e)
        {
            await Console.Error.WriteLineAsync($"certs issue refused ({e.Code}): {e.Error.Message}").ConfigureAwait(false);
            return 4;
        }
    }
}
