using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Patterns.Caching;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg cache ...</c>: statistics and invalidation of a named cache.</summary>
internal static class CacheCommands
{
    private static readonly Argument<string> Name = new("cache") { Description = "Cache name" };

    public static Command Create() => new("cache", "Distributed caches: statistics and invalidation") { Stats(), Invalidate() };

    private static Command Stats()
    {
        var command = new Command("stats", "Hits, misses, hit rate, size and evictions, summed over the cache's partitions") { Name };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var stats = await CliContext.Api(client).Cache(parse.GetValue(Name)!).StatsAsync();
            CliContext.Write(parse, stats, s =>
            {
                var table = new Table().AddColumns("", "");
                table.AddRow("cache", TerminalText.Markup(s.Cache));
                table.AddRow("partitions", Number(s.Partitions));
                table.AddRow("size / capacity", $"{Number(s.Size)} / {Number(s.Capacity)}");
                table.AddRow("hits / misses", $"{Number(s.Hits)} / {Number(s.Misses)}");
                table.AddRow("hit rate", s.HitRate.ToString("P1", CultureInfo.InvariantCulture));
                table.AddRow("loads (failed)", $"{Number(s.Loads)} ({Number(s.LoadFailures)})");
                table.AddRow("evictions / expirations / invalidations", $"{Number(s.Evictions)} / {Number(s.Expirations)} / {Number(s.Invalidations)}");
                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Invalidate()
    {
        var key = new Option<string?>("--key") { Description = "Remove this key" };
        var prefix = new Option<string?>("--prefix") { Description = "Remove every key starting with this (\"\" removes all)" };
        var pattern = new Option<string?>("--pattern") { Description = "Remove every key matching this glob (* and ?)" };
        var command = new Command("invalidate", "Remove entries by key, prefix or pattern (give exactly one)") { Name, key, prefix, pattern };
        command.Validators.Add(result =>
        {
            var given = new[] { key, prefix, pattern }.Count(o => result.GetResult(o) is not null);
            if (given != 1)
            {
                result.AddError("give exactly one of --key, --prefix or --pattern");
            }
        });
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var cache = CliContext.Api(client).Cache(parse.GetValue(Name)!);
            var removed = parse.GetValue(key) is { } k ? (await cache.InvalidateAsync(k) ? 1 : 0)
                : parse.GetValue(prefix) is { } p ? await cache.InvalidatePrefixAsync(p)
                : await cache.InvalidatePatternAsync(parse.GetValue(pattern)!);
            CliContext.Write(parse, new { removed }, r => CliContext.Terminal.MarkupLineEscaped($"{r.removed} entr{(r.removed == 1 ? "y" : "ies")} removed"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}
