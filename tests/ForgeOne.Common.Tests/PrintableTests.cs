namespace ForgeOne.Common.Tests;

public class PrintableTests
{
    [Fact]
    public void Text_ReplacesControlCharactersAndBoundsTheLength()
    {
        Assert.Equal("<null>", Printable.Text(null));
        Assert.Equal("a?b?c", Printable.Text("a\nb\u0007c"));
        Assert.Equal(new string('x', 200), Printable.Text(new string('x', 5000)));
        Assert.Equal("abc", Printable.Text("abcdef", 3));
    }
}
