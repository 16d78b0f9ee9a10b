using System.Globalization;
using System.Text;
using CsvHelper.Configuration;

namespace Contention.Client.Results;

/// <summary>Every property of <typeparamref name="T"/> as a CSV column named in snake_case (tidy-data headers).</summary>
public sealed class SnakeCaseMap<T> : ClassMap<T>
{
    /// <summary>Creates the map.</summary>
    public SnakeCaseMap()
    {
        AutoMap(CultureInfo.InvariantCulture);
        foreach (var member in MemberMaps)
        {
            member.Name(Snake(member.Data.Member!.Name));
        }
    }

    private static string Snake(string name)
    {
        var text = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(c));
        }

        return text.ToString();
    }
}
