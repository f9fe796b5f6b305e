using System.CommandLine;
using NoOrg.Configuration;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg config check</c> and <c>noorg config example</c>.</summary>
internal static class ConfigCommands
{
    public sealed record SettingView(string Area, string Key, string Value, bool IsDefault);

    public static Command Create()
    {
        var check = new Command("check", "Validate the configuration (environment and ./.env) and show the effective values; secrets are masked");
        check.SetAction(CliContext.Run(async (parse, settings, _) =>
        {
            var values = EffectiveValues(settings).ToArray();
            foreach (var (key, nearest) in SettingsCatalog.Unknown(Microsoft.Extensions.Configuration.ConfigurationExtensions.AsEnumerable(NoOrgConfiguration.Build()).Select(p => p.Key)))
            {
                await Console.Error.WriteLineAsync($"warning: {key} is not a NoOrg setting and is ignored{(nearest is null ? "" : $"; did you mean {nearest}?")}");
            }

            CliContext.Write(parse, values, rows =>
            {
                var table = new Table().AddColumns("Key", "Value", "");
                foreach (var row in rows)
                {
                    table.AddRow(TerminalText.Markup(row.Key), TerminalText.Markup(row.Value), row.IsDefault ? "[grey]default[/]" : "[yellow]set[/]");
                }

                CliContext.Terminal.Write(table);
                CliContext.Terminal.MarkupLine("[green]Configuration is valid.[/]");
            });
            return CliContext.Ok;
        }));

        var example = new Command("example", "Print a .env.example listing every key with its default and meaning");
        example.SetAction(_ => Console.Out.Write(SettingsCatalog.RenderEnvExample()));

        return new Command("config", "Inspect NoOrg's configuration") { check, example };
    }

    internal static IEnumerable<SettingView> EffectiveValues(NoOrgSettings settings)
    {
        var instances = typeof(NoOrgSettings).GetProperties()
            .Where(p => p.PropertyType.IsClass && p.PropertyType.Namespace == typeof(NoOrgSettings).Namespace)
            .ToDictionary(p => p.PropertyType, p => p.GetValue(settings));
        foreach (var area in SettingsCatalog.Areas)
        {
            foreach (var setting in area.Settings)
            {
                var value = SettingsCatalog.Format(setting.Property.GetValue(instances[setting.Property.DeclaringType!]));
                var shown = setting.IsSecret && value.Length > 0 ? "***" : value;
                yield return new SettingView(area.Title, setting.Key, shown, value == setting.Default);
            }
        }
    }
}
