using System.Text.Json;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Cli;

public sealed class DbCommandTests
{
    private static async Task<JsonElement> MigrateAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", ["db", "migrate", "--json"], environment);
        Assert.True(result.ExitCode == 0, $"noorg db migrate failed ({result.ExitCode}): {result.StandardError}");
        return JsonDocument.Parse(result.StandardOutput).RootElement;
    }

    [PostgresFact]
    public async Task Migrate_twice_on_a_fresh_postgres_database_changes_nothing_the_second_time()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        var environment = new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
        };

        var first = await MigrateAsync(environment);
        var second = await MigrateAsync(environment);

        Assert.True(first.GetProperty("appliedNow").GetInt32() > 0);
        Assert.Equal(0, second.GetProperty("appliedNow").GetInt32());
        Assert.Equal(first.GetProperty("appliedNow").GetInt32(), second.GetProperty("alreadyApplied").GetInt32());
    }

    [PostgresFact]
    public async Task Two_processes_migrating_one_postgres_database_at_once_apply_each_migration_once()
    {
        await using var database = await TestDatabases.CreatePostgresAsync();
        var environment = new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = database.ConnectionString,
        };

        var runs = await Task.WhenAll(MigrateAsync(environment), MigrateAsync(environment));

        var appliedNow = runs.Select(r => r.GetProperty("appliedNow").GetInt32()).ToArray();
        var total = runs.Max(r => r.GetProperty("migrations").GetArrayLength());
        Assert.Equal(total, appliedNow.Sum()); // every migration applied by exactly one of the two
        var status = await ProcessRunner.RunAsync("noorg.dll", ["db", "status", "--json"], environment);
        Assert.Equal(total, JsonDocument.Parse(status.StandardOutput).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Migrate_creates_the_embedded_sqlite_file_in_the_data_directory()
    {
        var directory = Directory.CreateTempSubdirectory("noorg-db-").FullName;
        try
        {
            var environment = new Dictionary<string, string?> { ["NOORG_STORAGE_DATA_DIR"] = Path.Combine(directory, "nested") };

            var first = await MigrateAsync(environment);
            var second = await MigrateAsync(environment);

            Assert.True(File.Exists(Path.Combine(directory, "nested", "noorg.db")));
            Assert.True(first.GetProperty("appliedNow").GetInt32() > 0);
            Assert.Equal(0, second.GetProperty("appliedNow").GetInt32());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Migrate_shows_a_full_table_and_never_prints_markup()
    {
        var directory = Directory.CreateTempSubdirectory("noorg-db-").FullName;
        try
        {
            var result = await ProcessRunner.RunAsync("noorg.dll", ["db", "migrate"], new Dictionary<string, string?> { ["NOORG_STORAGE_DATA_DIR"] = directory });

            Assert.Equal(0, result.ExitCode);
            Assert.DoesNotMatch(@"\[(/|green|red|yellow|grey|bold)[^\]]*\]", result.StandardOutput);
            var rows = result.StandardOutput.Split('\n').Where(l => l.Contains("│ 00", StringComparison.Ordinal)).ToArray();
            Assert.NotEmpty(rows);
            Assert.All(rows, row => Assert.Matches(@"│ yes\s+│$", row.TrimEnd()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Stats_reads_the_database_directly_and_lists_every_kind_of_data()
    {
        var directory = Directory.CreateTempSubdirectory("noorg-db-").FullName;
        try
        {
            var environment = new Dictionary<string, string?> { ["NOORG_STORAGE_DATA_DIR"] = directory };
            await MigrateAsync(environment);

            var result = await ProcessRunner.RunAsync("noorg.dll", ["db", "stats", "--json"], environment); // no silo runs
            var table = await ProcessRunner.RunAsync("noorg.dll", ["db", "stats"], environment);

            Assert.True(result.ExitCode == 0, result.StandardError);
            var kinds = JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().ToArray();
            Assert.Equal(NoOrg.Storage.Statistics.DataStatistics.KindNames.Where(k => k != "membership"), kinds.Select(k => k.GetProperty("kind").GetString()));
            Assert.All(kinds.Where(k => k.GetProperty("kind").GetString() is not ("grain-states" or "reminders")), k => Assert.Equal(0, k.GetProperty("rows").GetInt64()));
            Assert.Equal(0, table.ExitCode);
            Assert.Contains("task-samples", table.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("tasks show", "Required argument missing")]
    [InlineData("agents list --take nine", "nine")]
    [InlineData("no-such-command", "no-such-command")]
    public async Task A_command_line_that_does_not_parse_exits_2_and_says_what_is_wrong(string commandLine, string said)
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", commandLine.Split(' '), new Dictionary<string, string?>());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(said, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_against_an_unreachable_database_fails_with_a_message()
    {
        var result = await ProcessRunner.RunAsync("noorg.dll", ["db", "migrate"], new Dictionary<string, string?>
        {
            ["NOORG_STORAGE_PROVIDER"] = "postgres",
            ["NOORG_STORAGE_CONNECTION_STRING"] = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=nobody;Password=x;Timeout=2",
        });

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("noorg:", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }
}
