using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace NoOrg.Storage.Migrations;

/// <summary>The migrations embedded in this assembly (Migrations/&lt;Dialect&gt;/NNNN_name.sql), in order.</summary>
internal static partial class MigrationCatalog
{
    private static readonly ConcurrentDictionary<StorageDialect, IReadOnlyList<MigrationScript>> Loaded = new();

    public static IReadOnlyList<MigrationScript> For(StorageDialect dialect) => Loaded.GetOrAdd(dialect, Load);

    /// <summary>
    /// SHA-256 of the script with LF line endings, as lowercase hex: a checkout that converts line endings
    /// must not look like a changed migration.
    /// </summary>
    public static string ChecksumOf(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var bytes = Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n"));
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    private static IReadOnlyList<MigrationScript> Load(StorageDialect dialect)
    {
        var assembly = typeof(MigrationCatalog).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourceName().Match(resource);
            if (!match.Success || !Enum.TryParse<StorageDialect>(match.Groups["dialect"].Value, out var found) || found != dialect)
            {
                continue;
            }

            var sql = Read(assembly, resource);
            scripts.Add(new MigrationScript(
                int.Parse(match.Groups["version"].Value, CultureInfo.InvariantCulture),
                match.Groups["name"].Value,
                sql,
                ChecksumOf(sql)));
        }

        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            // A build defect, not a database state: two files claim the same number.
            throw new InvalidOperationException(
                $"Two {dialect} migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(s => s.Id))}. Renumber one of them.");
        }

        return scripts;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded migration {resource} cannot be read.");
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"\.Migrations\.(?<dialect>Postgres|Sqlite)\.(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();
}
