using System.CommandLine;
using System.Globalization;

namespace Contention.Client.Commands;

/// <summary>Range checks on numeric options: a bad value is a one-line parse error naming the option and its range.</summary>
internal static class OptionChecks
{
    /// <summary>Accepts <paramref name="option"/>'s values from <paramref name="min"/> to <paramref name="max"/>; returns the option.</summary>
    public static Option<int> Within(this Option<int> option, int min, int max)
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name}: expected {min} to {max}, got {value}"));
            }
        });
        return option;
    }

    /// <summary>Accepts values above zero (when given).</summary>
    public static Option<double?> Positive(this Option<double?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } value && !(value > 0 && double.IsFinite(value)))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name}: expected a number of seconds above 0, got {value}"));
            }
        });
        return option;
    }
}
