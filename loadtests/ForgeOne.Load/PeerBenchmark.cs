namespace ForgeOne.Load;

/// <summary>The side-by-side peer benchmark (placeholder until it lands).</summary>
public static class PeerBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) => Task.FromResult(2);
}
