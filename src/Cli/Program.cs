using System.CommandLine;
using NoOrg.Cli;
using NoOrg.Cli.Commands;

var root = new RootCommand("noorg: operate a NoOrg cluster. Configuration comes from NOORG_* environment variables and ./.env.")
{
    StatusCommand.Create(),
    DbCommands.Create(),
    WorkerCommand.Create(),
    AgentsCommands.Create(),
    TasksCommands.Create(),
    HealthCommands.Create(),
    SagasCommands.Create(),
    ConfigCommands.Create(),
    LimitsCommands.Create(),
    CacheCommands.Create(),
    ResilienceCommands.Create(),
    WebhooksCommands.Create(),
    KeysCommands.Create(),
    AuthCommands.Create(),
    OutboxCommands.Create(),
    AlertsCommands.Create(),
    BenchCommand.Create(),
};
root.Options.Add(CliContext.Json);
root.Options.Add(CliContext.Verbose);
var parsed = root.Parse(args, CliContext.Parsing);
if (parsed.Errors.Count > 0)
{
    // System.CommandLine prints the errors and the help; a usage error exits 2, like a bad configuration.
    await parsed.InvokeAsync();
    return CliContext.BadUsage;
}

return await parsed.InvokeAsync();
