using System.Text;

namespace Contention.Client.Reports;

/// <summary>A booktabs table ready to <c>\input</c> (needs <c>\usepackage{booktabs}</c>).</summary>
public sealed class LatexTable(string caption, string label, IReadOnlyList<string> header, string alignment)
{
    private readonly List<IReadOnlyList<string>> rows = [];
    private readonly HashSet<int> rulesBefore = [];

    /// <summary>Adds a row of cells (escaped here).</summary>
    public LatexTable Row(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != header.Count)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {header.Count} columns", nameof(cells));
        }

        rows.Add(cells);
        return this;
    }

    /// <summary>Draws a \midrule before the next row.</summary>
    public LatexTable Rule()
    {
        rulesBefore.Add(rows.Count);
        return this;
    }

    /// <summary>The table environment.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("% Written by contention report; needs \\usepackage{booktabs}.\n");
        text.Append("\\begin{table}[t]\n\\centering\n\\small\n");
        text.Append("\\caption{").Append(Escape(caption)).Append("}\n\\label{").Append(label).Append("}\n");
        text.Append("\\begin{tabular}{").Append(alignment).Append("}\n\\toprule\n");
        text.Append(string.Join(" & ", header.Select(Escape))).Append(" \\\\\n\\midrule\n");
        for (var i = 0; i < rows.Count; i++)
        {
            if (i > 0 && rulesBefore.Contains(i))
            {
                text.Append("\\midrule\n");
            }

            text.Append(string.Join(" & ", rows[i].Select(Escape))).Append(" \\\\\n");
        }

        text.Append("\\bottomrule\n\\end{tabular}\n\\end{table}\n");
        return text.ToString();
    }

    /// <summary>Text with LaTeX's special characters escaped; a minus sign set as math.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\\' => "\\textbackslash{}",
                '&' or '%' or '$' or '#' or '_' or '{' or '}' => "\\" + c,
                '~' => "\\textasciitilde{}",
                '^' => "\\textasciicircum{}",
                '−' => "$-$",
                '±' => "$\\pm$",
                '×' => "$\\times$",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }
}
