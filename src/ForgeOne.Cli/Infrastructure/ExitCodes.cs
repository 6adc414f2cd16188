using System.Net.Sockets;
using ForgeOne.Client.Http;
using ForgeOne.Common;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>
/// The exit codes scripts branch on. They are part of the CLI's contract (listed in
/// <c>forgeone --help</c> and the README): never renumber one.
/// </summary>
public static class ExitCodes
{
    /// <summary>The operation succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The node answered and the operation failed; the server's problem code is printed.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong (unknown verb or option, malformed value, missing file); nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>No answer from the node at the address tried (refused, unresolvable, timed out).</summary>
    public const int Unreachable = 3;

    /// <summary>The node refused the credential (401) or the principal lacks the permission (403).</summary>
    public const int Refused = 4;

    /// <summary>Interrupted by Ctrl-C (SIGINT) or SIGTERM: what was in flight was abandoned.</summary>
    public const int Interrupted = 130;

    /// <summary>The help text's exit-code section (also what README shows).</summary>
    public const string Help = """
        Exit codes:
          0    ok
          1    the operation failed (the server's problem code is printed, e.g. storage.not_found)
          2    usage error (unknown verb or option, malformed value); nothing was sent
          3    cannot reach the node (the address tried is named)
          4    authentication or authorization refused (auth.unauthenticated, auth.forbidden)
          130  interrupted (Ctrl-C)
        """;
}

/// <summary>A failure the CLI reports with a given exit code and message (no stack trace).</summary>
public sealed class CliException(int exitCode, string message, string? code = null, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>The stable error code (the server's problem code, or <c>cli.*</c>), when there is one.</summary>
    public string? Code { get; } = code;

    /// <summary>A usage error: nothing was sent.</summary>
    public static CliException Usage(string message) => new(ExitCodes.Usage, message, "cli.usage");
}

/// <summary>What an exception means for the operator: the exit code and one line saying why.</summary>
public static class Failures
{
    /// <summary>Classifies <paramref name="error"/>; <paramref name="address"/> is the edge tried.</summary>
    public static CliException Classify(Exception error, Uri address)
    {
        ArgumentNullException.ThrowIfNull(error);
        switch (error)
        {
            case CliException cli:
                return cli;
            case ForgeOneHttpException http:
                // The node answered: its problem code decides (401/403 are the credential's).
                var refused = http.Status is 401 or 403 || http.Code is ErrorCodes.Unauthenticated or ErrorCodes.Forbidden;
                return new CliException(refused ? ExitCodes.Refused : ExitCodes.Failed, $"{http.Code}: {http.Message}", http.Code, http);
            case ForgeOneException { Code: ErrorCodes.Unreachable } unreachable:
                return Unreachable(address, unreachable.InnerException ?? unreachable);
            case HttpRequestException or SocketException:
                return Unreachable(address, error);
            case TaskCanceledException { InnerException: TimeoutException } timeout:
                return Unreachable(address, timeout.InnerException!);
            case ForgeOneException typed:
                // Offline verbs (keys restore) refuse a wrong recovery secret as the edge does (403).
                return new CliException(typed.Code is ErrorCodes.BackupRecoverySecretInvalid or ErrorCodes.Forbidden ? ExitCodes.Refused : ExitCodes.Failed, $"{typed.Code}: {typed.Message}", typed.Code, typed);
            case OperationCanceledException:
                return new CliException(ExitCodes.Interrupted, "interrupted", "cli.interrupted", error);
            case IOException or UnauthorizedAccessException:
                return new CliException(ExitCodes.Failed, error.Message, "cli.io", error);
            default:
                return new CliException(ExitCodes.Failed, $"unexpected failure: {error.GetType().Name}: {error.Message}", ErrorCodes.Internal, error);
        }
    }

    private static CliException Unreachable(Uri address, Exception cause)
    {
        var reason = Innermost(cause).Message;
        return new CliException(ExitCodes.Unreachable, $"cannot reach the ForgeOne node at {address}: {reason}", ErrorCodes.Unreachable, cause);
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner && e is not SocketException)
        {
            e = inner;
        }

        return e;
    }
}
