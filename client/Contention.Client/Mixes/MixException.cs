namespace Contention.Client.Mixes;

/// <summary>A mix file is wrong; the message names the file, line, column and field.</summary>
public sealed class MixException : Exception
{
    /// <summary>The longest field or problem a message quotes; longer ones are cut with an ellipsis.</summary>
    public const int MaxQuoted = 1000;

    /// <summary>Creates the exception; the message stays on one line (line breaks in what it quotes are shown as \n).</summary>
    public MixException(string file, long line, long column, string field, string problem)
        : base($"{file}:{line}:{column}: {OneLine(field)}: {OneLine(problem)}")
    {
        File = file;
        Line = line;
        Column = column;
        Field = field;
    }

    /// <summary>Creates the exception.</summary>
    public MixException()
    {
        File = Field = "";
    }

    /// <summary>Creates the exception.</summary>
    public MixException(string message)
        : base(message)
    {
        File = Field = "";
    }

    /// <summary>Creates the exception.</summary>
    public MixException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = Field = "";
    }

    /// <summary>The mix file.</summary>
    public string File { get; }

    /// <summary>The mix leaves every tenant out (all have <c>replicas: 0</c>): a sweep leaves such a point out instead of failing.</summary>
    public bool NoTenant { get; init; }

    /// <summary>1-based line of the offending value.</summary>
    public long Line { get; }

    /// <summary>1-based column of the offending value.</summary>
    public long Column { get; }

    /// <summary>The field's path, e.g. <c>tenants[1].rate</c>.</summary>
    public string Field { get; }

    private static string OneLine(string text)
    {
        var flat = text.ReplaceLineEndings("\\n");
        return flat.Length <= MaxQuoted ? flat : string.Concat(flat.AsSpan(0, MaxQuoted), "…");
    }
}
