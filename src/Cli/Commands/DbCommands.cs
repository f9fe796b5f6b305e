using System.CommandLine;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg db migrate</c> and <c>noorg db status</c>.</summary>
internal static class DbCommands
{
    public static Command Create() => new("db", "Manage the NoOrg database schema");
}
