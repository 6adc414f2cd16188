using System.Runtime.InteropServices;
using ForgeOne.Cli;
using ForgeOne.Cli.Infrastructure;

// Ctrl-C and SIGTERM cancel the running verb: transfers abort (an unfinished upload stays
// invisible on the server), streams end, and the exit code is 130.
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});
return await ForgeOneCli.RunAsync(args, CliConsole.System(), interrupted.Token).ConfigureAwait(false);
