using Akka.Hosting;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Node;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// One process = one cluster node. With no arguments: a single node with every role, data in
// ./data, keys in ./keys, SQLite journal in ./data. Configuration, later wins:
//   appsettings.json beside the binary < appsettings.json in the working directory
//   < --config <file> < FORGEONE__* environment variables < --ForgeOne:Key=value arguments.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
var configFile = NodeConfiguration.ConfigFileArgument(args);
builder.Configuration.Sources.Clear();
builder.Configuration
    .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
    .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
if (configFile is not null)
{
    builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false);
}

builder.Configuration.AddEnvironmentVariables().AddCommandLine(NodeConfiguration.WithoutConfigArgument(args));

// Lists start empty so configuration replaces them instead of appending to a default.
var options = new ForgeOneNodeOptions { Roles = [], SeedNodes = [] };
builder.Configuration.GetSection(ForgeOneNodeOptions.Section).Bind(options);
if (options.Roles.Count == 0)
{
    options.Roles = [ForgeOneNodeOptions.StorageRole, ForgeOneNodeOptions.EdgeRole];
}

var errors = options.Validate();
if (errors.Count > 0)
{
    await Console.Error.WriteLineAsync("ForgeOne node refused to start: invalid configuration (" + ErrorCodes.InvalidConfiguration + ")");
    foreach (var error in errors)
    {
        await Console.Error.WriteLineAsync("  - " + error);
    }

    return 2;
}

builder.Services.AddSingleton(options);
builder.Services.AddSingleton<NodeState>();
builder.Services.AddAkka(options.ClusterName, (akka, _) =>
{
    akka.AddHocon(ClusterConfig.Build(options), HoconAddMode.Prepend);
    akka.ConfigureLoggers(loggers =>
    {
        loggers.ClearLoggers();
        loggers.AddLoggerFactory();
    });
});
builder.Services.AddHostedService<NodeService>();

using var host = builder.Build();
var state = host.Services.GetRequiredService<NodeState>();
await host.RunAsync();
return state.ExitCode;
