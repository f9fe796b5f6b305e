using System.CommandLine;
using NoOrg.Grains.Cluster;
using Orleans.Runtime;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg status</c>: the silos of the cluster, their state and uptime, and the cluster's start history.</summary>
internal static class StatusCommand
{
    public sealed record SiloView(string Name, string Address, string Host, string Status, DateTimeOffset StartedAt, TimeSpan? Uptime, DateTimeOffset LastAliveAt);

    public sealed record StatusView(string ClusterId, string ServiceId, int ActiveSilos, IReadOnlyList<SiloView> Silos, DateTimeOffset? FirstStartedAt, long SiloStarts);

    public static Command Create()
    {
        var all = new Option<bool>("--all") { Description = "Include silos that have stopped or died" };
        var command = new Command("status", "Show the cluster's silos, their state and uptime") { all };
        command.SetAction(CliContext.Run(async (parse, settings, cancellationToken) =>
        {
            await using var connection = await ClusterConnection.OpenAsync(settings, parse.GetValue(CliContext.Verbose), cancellationToken);
            var hosts = await connection.Client.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: !parse.GetValue(all));
            var history = await connection.Client.GetGrain<IClusterHistoryGrain>(IClusterHistoryGrain.Key).GetAsync();
            var now = DateTimeOffset.UtcNow;
            var silos = hosts
                .OrderBy(h => h.Status != SiloStatus.Active).ThenBy(h => h.StartTime)
                .Select(h => new SiloView(
                    h.SiloName, h.SiloAddress.ToString(), h.HostName, h.Status.ToString(),
                    new DateTimeOffset(DateTime.SpecifyKind(h.StartTime, DateTimeKind.Utc)),
                    h.Status == SiloStatus.Active ? now - new DateTimeOffset(DateTime.SpecifyKind(h.StartTime, DateTimeKind.Utc)) : null,
                    new DateTimeOffset(DateTime.SpecifyKind(h.IAmAliveTime, DateTimeKind.Utc))))
                .ToArray();
            var view = new StatusView(settings.Cluster.ClusterId, settings.Cluster.ServiceId,
                silos.Count(s => s.Status == nameof(SiloStatus.Active)), silos, FirstStart(history.FirstStartedAt, silos), history.SiloStarts);
            CliContext.Write(parse, view, Render);
            return CliContext.Ok;
        }));
        return command;
    }

    /// <summary>
    /// The first start on record, never later than a silo listed: the record is written once the silo is up, a moment
    /// after the start time the membership table holds.
    /// </summary>
    internal static DateTimeOffset? FirstStart(DateTimeOffset? recorded, IReadOnlyCollection<SiloView> silos) =>
        silos.Count == 0 ? recorded
        : silos.Min(s => s.StartedAt) is var earliest && (recorded is null || earliest < recorded) ? earliest : recorded;

    private static void Render(StatusView view)
    {
        var terminal = CliContext.Terminal;
        terminal.MarkupLineEscaped($"Cluster [bold]{view.ClusterId}[/] (service {view.ServiceId}): [green]{view.ActiveSilos}[/] active silo(s)");
        var table = new Table().AddColumns("Silo", "Address", "Host", "Status", "Started (UTC)", "Uptime");
        foreach (var silo in view.Silos)
        {
            table.AddRow(
                TerminalText.Markup(silo.Name), TerminalText.Markup(silo.Address), TerminalText.Markup(silo.Host),
                silo.Status == nameof(SiloStatus.Active) ? $"[green]{silo.Status}[/]" : $"[grey]{silo.Status}[/]",
                silo.StartedAt.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
                silo.Uptime is { } uptime ? FormatUptime(uptime) : "-");
        }

        terminal.Write(table);
        if (view.FirstStartedAt is { } first)
        {
            terminal.MarkupLineEscaped($"First started {first:yyyy-MM-dd HH:mm:ss} UTC; {view.SiloStarts} silo start(s) recorded since.");
        }
    }

    private static string FormatUptime(TimeSpan uptime) =>
        uptime.TotalDays >= 1 ? $"{(int)uptime.TotalDays}d {uptime.Hours}h"
        : uptime.TotalHours >= 1 ? $"{(int)uptime.TotalHours}h {uptime.Minutes}m"
        : $"{(int)uptime.TotalMinutes}m {uptime.Seconds}s";
}
