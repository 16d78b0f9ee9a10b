using System.Text.RegularExpressions;
using Contention.Client.Mixes;
using FsCheck;
using FsCheck.Xunit;

namespace Contention.Client.Tests;

/// <summary>
/// Mix documents mutated at random — the shipped mixes with values of the wrong type or out of
/// range, fields missing, unknown, repeated or (any field of the schema) misplaced, and YAML broken — parse, or fail with one line that
/// names the file, line, column and field. Nothing else: no other exception, no stack trace.
/// </summary>
public partial class MixFuzzTests
{
    private static readonly string[] Seeds = [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "mixes"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllText),
        """
        name: grid
        tenants:
          - name: bench
            kind: microbench
            grid:
              - op: copy
                bytes: [4KiB, 1MiB]
                iterations: [1, 10]
            point_limit: 500ms
          - name: cmd
            kind: command
            command: ["sh", "-c", "echo step 1 ms"]
            latency: 'step (?<value>[0-9.]+) (?<unit>ms)'
        """];

    private static readonly string[] Values =
    [
        "abc", "-1", "0", "-0", "1e309", "-1e309", "NaN", ".inf", "-.inf", "1e-320", "999999999999999999999999", "2147483648", "-2147483649",
        "\"\"", "''", "[]", "{}", "[1, 2]", "{a: b}", "null", "~", "true", "no", "0x10", "1_000", "0ms", "-5s", "1h", "10000h", "1 s", "5 parsecs",
        "1KiB", "-4KiB", "1EiB", "cuda:99", "sim:-1", "spin,yield", "\"\\u0000\"", "&anchor 1", "*nowhere", "!!binary aGk=", "|\n  text", new string('x', 5000),
    ];

    private static readonly string[] Breakers = ["\t", "[", "]", "{", "}", "\"", "'", ":", "- ", "&", "*", "!", "%", "@", "`", "|", ">", "#", ",", "\n", "\n  - ", "\r", "\u00a0", "\ufeff"];

    [Property(MaxTest = 3000)]
    public void Parse_MutatedMix_ParsesOrFailsWithOneLineNamingLineAndField(NonNegativeInt seed, NonNegativeInt kinds, int position, int pick)
    {
        var text = Mutate(Seeds[seed.Get % Seeds.Length], kinds.Get, position, pick);

        try
        {
            var mix = MixParser.Parse(text, "fuzz.yaml");
            // What parses must also make a plan.
            _ = mix.ToPlan("fuzz", spec => spec);
        }
        catch (MixException ex)
        {
            Assert.True(OneLineError().IsMatch(ex.Message), $"not a one-line error naming line and field: {ex.Message}\n--- mix ---\n{text}");
        }
        catch (Exception ex)
        {
            Assert.Fail($"{ex.GetType().Name} instead of a mix error: {ex.Message}\n--- mix ---\n{text}");
        }
    }

    /// <summary>One to three mutations of <paramref name="seed"/>, chosen by the numbers.</summary>
    private static string Mutate(string seed, int kinds, int position, int pick)
    {
        var lines = seed.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        // Seeded from the numbers alone (not HashCode, which differs per process): a failure replays.
        var random = new Random(unchecked((kinds * 31) + (position * 17) + pick));
        var count = 1 + (kinds / 7 % 3);
        for (var m = 0; m < count; m++)
        {
            var line = Math.Abs((position + (m * 7919)) % Math.Max(1, lines.Count));
            var value = Values[Math.Abs((pick + (m * 104_729)) % Values.Length)];
            var indent = new string(' ', lines[line].Length - lines[line].TrimStart().Length);
            switch ((kinds + m) % 8)
            {
                case 0 when lines[line].Contains(':', StringComparison.Ordinal):
                    // A field's value replaced: wrong type, out of range, extreme.
                    lines[line] = lines[line][..(lines[line].IndexOf(':', StringComparison.Ordinal) + 1)] + " " + value;
                    break;
                case 1:
                    lines.RemoveAt(line);
                    break;
                case 2:
                    lines.Insert(line, $"{indent}unknown_field_{random.Next(100)}: {value}");
                    break;
                case 3:
                    lines.Insert(line, lines[line]);
                    break;
                case 4:
                    var at = random.Next(lines[line].Length + 1);
                    lines[line] = lines[line][..at] + Breakers[random.Next(Breakers.Length)] + lines[line][at..];
                    break;
                case 7:
                    // A field of the schema, anywhere, with any value: every field's checks are reached.
                    var fields = MixSchema.Top.Concat(MixSchema.Tenant).Concat(MixSchema.Restart).Concat(MixSchema.Grid).ToList();
                    lines.Insert(line, $"{indent}{fields[random.Next(fields.Count)].Name}: {value}");
                    break;
                case 5 when lines[line].Contains("- ", StringComparison.Ordinal):
                    // A list item's value replaced.
                    lines[line] = lines[line][..(lines[line].IndexOf("- ", StringComparison.Ordinal) + 2)] + value;
                    break;
                default:
                    lines[line] = indent + lines[line].TrimStart()[..random.Next(lines[line].TrimStart().Length + 1)];
                    break;
            }

            if (lines.Count == 0)
            {
                lines.Add("");
            }
        }

        return string.Join('\n', lines);
    }

    // file:line:column: field: problem, on one line.
    [GeneratedRegex(@"\Afuzz\.yaml:\d+:\d+: [^\n]+: [^\n]+\z")]
    private static partial Regex OneLineError();
}
