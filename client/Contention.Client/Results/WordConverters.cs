using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Contention.Grains;
using CsvHelper;
using CsvHelper.Configuration;
using CsvHelper.TypeConversion;

namespace Contention.Client.Results;

/// <summary>
/// Results files write the vocabulary enums (<see cref="TenantKind"/>, <see cref="SyncMode"/>,
/// <see cref="MeasurementPhase"/>, <see cref="GpuSharing"/>) as their lower-case words (<see cref="Words"/>), as mixes do,
/// and read them back in any case.
/// </summary>
internal static class WordConverters
{
    /// <summary>A CSV writer with the vocabulary's converters registered.</summary>
    public static CsvWriter CsvWriter(TextWriter text)
    {
        var writer = new CsvWriter(text, CultureInfo.InvariantCulture);
        writer.Context.TypeConverterCache.AddConverter<TenantKind>(new Csv<TenantKind>());
        writer.Context.TypeConverterCache.AddConverter<SyncMode>(new Csv<SyncMode>());
        writer.Context.TypeConverterCache.AddConverter<MeasurementPhase>(new Csv<MeasurementPhase>());
        writer.Context.TypeConverterCache.AddConverter<GpuSharing>(new Csv<GpuSharing>());
        writer.Context.TypeConverterCache.AddConverter<ArbiterMode>(new Csv<ArbiterMode>());
        return writer;
    }

    /// <summary>JSON: the word; reading accepts any case and nothing else (no numbers).</summary>
    public sealed class Json<T> : JsonConverter<T>
        where T : struct, Enum
    {
        /// <inheritdoc/>
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String && Words.TryParse<T>(reader.GetString(), out var value)
                ? value
                : throw new JsonException($"expected one of: {Words.List<T>()}");

        /// <inheritdoc/>
        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
        {
            ArgumentNullException.ThrowIfNull(writer);
            writer.WriteStringValue(value.Word());
        }
    }

    private sealed class Csv<T> : DefaultTypeConverter
        where T : struct, Enum
    {
        public override string? ConvertToString(object? value, IWriterRow row, MemberMapData memberMapData) =>
            value is T word ? word.Word() : base.ConvertToString(value, row, memberMapData);

        public override object? ConvertFromString(string? text, IReaderRow row, MemberMapData memberMapData) =>
            Words.TryParse<T>(text, out var value) ? value : base.ConvertFromString(text, row, memberMapData);
    }
}
