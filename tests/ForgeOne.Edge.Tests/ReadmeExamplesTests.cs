using System.Text.RegularExpressions;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// Every C# block of README.md is a <c>#region README</c> of a file in samples/ForgeOne.Samples,
/// which the solution compiles: so the examples compile, and this test fails when the two drift.
/// </summary>
public sealed partial class ReadmeExamplesTests
{
    [Fact]
    public void EveryReadmeCSharpBlock_IsACompiledSampleRegion()
    {
        var root = FindRoot();
        var blocks = CSharpBlock().Matches(File.ReadAllText(Path.Combine(root, "README.md"))).Select(m => Normalize(m.Groups[1].Value)).ToList();
        var regions = Directory.GetFiles(Path.Combine(root, "samples", "ForgeOne.Samples"), "*.cs")
            .SelectMany(f => Region().Matches(File.ReadAllText(f)).Select(m => Normalize(m.Groups[1].Value)))
            .ToList();
        Assert.True(blocks.Count >= 2, "README has fewer C# examples than expected");
        foreach (var block in blocks)
        {
            Assert.True(regions.Contains(block), "This README block is not a sample region (samples/ForgeOne.Samples), so it is not compiled:\n" + block);
        }
    }

    // Same text up to indentation and line endings.
    private static string Normalize(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        var indent = lines.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join('\n', lines.Select(l => l.Length == 0 ? l : l[indent..]));
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ForgeOne.Cluster.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex("#region README\\n(.*?)\\n[ \\t]*#endregion", RegexOptions.Singleline)]
    private static partial Regex Region();
}
