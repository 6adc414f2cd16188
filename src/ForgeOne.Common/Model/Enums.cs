namespace ForgeOne.Common.Model;

/// <summary>Log severity. The numeric values are stored on disk: never renumber.</summary>
public enum Severity : byte
{
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
}

/// <summary>Event priority. The numeric values are stored on disk: never renumber.</summary>
public enum Priority : byte
{
    Low = 0,
    Normal = 1,
    High = 2,
    Critical = 3,
}
