using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using NoOrg.Configuration;
using NoOrg.Storage;
using NoOrg.Storage.Statistics;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg db migrate</c>, <c>noorg db status</c> and <c>noorg db stats</c>: the schema and contents of the configured database.</summary>
internal static class DbCommands
{
    public sealed record MigrationView(string Id, DateTimeOffset AppliedAt, bool AppliedNow);

    public sealed record MigrateView(string Provider, int AppliedNow, int AlreadyApplied, IReadOnlyList<MigrationView> Migrations);

    public static Command Create()
    {
        var migrate = new Command("migrate", "Apply pending migrations to the configured database (safe to repeat and to run concurrently)");
        migrate.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            var report = await Migrator(settings).MigrateAsync(cancellationToken);
            var view = new MigrateView(SettingsCatalog.Format(settings.Storage.Provider), report.AppliedNow.Count, report.AlreadyApplied.Count,
                [.. report.AlreadyApplied.Select(m => new MigrationView(m.Id, m.AppliedAt, false)),
                 .. report.AppliedNow.Select(m => new MigrationView(m.Id, m.AppliedAt, true))]);
            CliContext.Write(parse, view, v =>
            {
                Render(v.Migrations);
                var outcome = v.AppliedNow == 0 ? "Database is up to date" : $"Applied {v.AppliedNow} migration(s)";
                CliContext.Terminal.MarkupLine($"[green]{outcome}[/] ({TerminalText.Markup(v.Provider)}).");
            });
            return CliContext.Ok;
        }));

        var status = new Command("status", "List the migrations recorded in the configured database");
        status.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            var applied = await Migrator(settings).GetAppliedAsync(cancellationToken);
            var view = applied.Select(m => new MigrationView(m.Id, m.AppliedAt, false)).ToArray();
            CliContext.Write(parse, view, Render);
            return CliContext.Ok;
        }));

        var stats = new Command("stats", "Rows, bytes and the oldest entry per kind of data NoOrg keeps, and when clean-up last ran (docs/retention.md)");
        stats.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            var dialect = settings.Storage.Provider.ToDialect();
            await using var connection = await StorageConnections.OpenAsync(dialect, settings.Storage.EffectiveConnectionString, cancellationToken);
            var view = await DataStatistics.ReadAsync(connection, dialect, cancellationToken);
            CliContext.Write(parse, view, RenderStatistics);
            return CliContext.Ok;
        }));

        return new Command("db", "Manage the NoOrg database schema and see what it holds") { migrate, status, stats };
    }

    private static SchemaMigrator Migrator(NoOrgSettings settings) =>
        new(settings.Storage.Provider.ToDialect(), settings.Storage.EffectiveConnectionString, NullLogger<SchemaMigrator>.Instance);

    private static void RenderStatistics(IReadOnlyList<DataKindStatistics> kinds)
    {
        var table = new Table().AddColumns("Data", "Table", "Rows", "Bytes", "Oldest (UTC)", "Last clean-up (UTC)", "Removed then", "Removed in all");
        foreach (var kind in kinds)
        {
            table.AddRow(TerminalText.Markup(kind.Kind), TerminalText.Markup(kind.Table), Number(kind.Rows), Number(kind.Bytes), When(kind.Oldest),
                When(kind.LastCleanup), kind.LastRemoved is { } removed ? Number(removed) : "-", kind.RemovedTotal is { } total ? Number(total) : "-");
        }

        CliContext.Terminal.Write(table);
    }

    private static string Number(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static string When(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static void Render(IReadOnlyList<MigrationView> migrations)
    {
        var table = new Table().AddColumns("Migration", "Applied (UTC)", "By this run");
        foreach (var migration in migrations)
        {
            table.AddRow(TerminalText.Markup(migration.Id),
                migration.AppliedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                migration.AppliedNow ? "[green]yes[/]" : "no");
        }

        CliContext.Terminal.Write(table);
    }
}
