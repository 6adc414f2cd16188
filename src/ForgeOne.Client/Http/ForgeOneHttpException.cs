using ForgeOne.Common;
using ForgeOne.Common.Api;

namespace ForgeOne.Client.Http;

/// <summary>
/// A refusal or failure the edge answered with a problem document: the stable
/// <see cref="ForgeOneException.Code"/> (the same codes the actor client throws), the HTTP
/// <see cref="Status"/> and the whole <see cref="Problem"/>. The problem's extension members
/// (where stored data failed a check: store, table, key, seq) are the error's
/// <see cref="ForgeOneError.Details"/>, as the actor client has them.
/// </summary>
public sealed class ForgeOneHttpException : ForgeOneException
{
    /// <summary>The exception for <paramref name="problem"/>.</summary>
    public ForgeOneHttpException(Problem problem, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(new ForgeOneError(problem.Code, problem.Detail ?? problem.Title, problem.Details()), inner)
    {
        Problem = problem;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status.</summary>
    public int Status => Problem.Status;

    /// <summary>The problem document as the edge sent it.</summary>
    public Problem Problem { get; }

    /// <summary>How long the edge asked to wait before retrying (429, 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
