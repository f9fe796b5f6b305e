using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Patterns.Resilience;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary>
/// <c>noorg resilience</c>: the circuit breakers of every live silo. Each silo guards its own outbound calls, so
/// the command asks the report grain bound to each silo the management grain lists.
/// </summary>
internal static class ResilienceCommands
{
    public sealed record SiloView(string Silo, string? Error, IReadOnlyList<BreakerSnapshot> Breakers);

    public static Command Create()
    {
        var command = new Command("resilience", "Circuit breaker state of every outbound destination, on every silo");
        command.SetAction(CliContext.Connected(async (parse, client, cancellationToken) =>
        {
            var hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            var views = await Task.WhenAll(hosts.Keys.OrderBy(s => s.ToString(), StringComparer.Ordinal).Select(async silo =>
            {
                try
                {
                    var report = await client.GetGrain<IResilienceReportGrain>(silo.ToParsableString()).GetAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                    return new SiloView(report.Silo, null, report.Breakers);
                }
                catch (Exception e) when (e is OrleansException or TimeoutException)
                {
                    return new SiloView(silo.ToString(), $"{e.GetType().Name}: {e.Message.Split(Environment.NewLine)[0]}", []);
                }
            }));
            CliContext.Write(parse, views, Render);
            return views.Any(v => v.Error is not null) ? CliContext.Failed : CliContext.Ok;
        }));
        return command;
    }

    private static void Render(SiloView[] views)
    {
        var table = new Table().AddColumns("Silo", "Destination", "Kind", "State", "Opened", "Last change (UTC)");
        foreach (var view in views)
        {
            if (view.Error is not null)
            {
                table.AddRow(TerminalText.Markup(view.Silo), "[red]unreachable[/]", "", "", "", TerminalText.Markup(view.Error));
                continue;
            }

            if (view.Breakers.Count == 0)
            {
                table.AddRow(TerminalText.Markup(view.Silo), "[grey]no outbound calls yet[/]", "", "", "", "");
            }

            foreach (var b in view.Breakers)
            {
                var state = b.State switch
                {
                    BreakerState.Closed => "[green]closed[/]",
                    BreakerState.HalfOpen => "[yellow]half-open[/]",
                    _ => $"[red]{b.State.ToString().ToLowerInvariant()}[/]",
                };
                table.AddRow(TerminalText.Markup(view.Silo), TerminalText.Markup(b.Destination), b.Kind, state, b.Opened.ToString(CultureInfo.InvariantCulture),
                    b.LastChangedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-");
            }
        }

        CliContext.Terminal.Write(table);
    }
}
