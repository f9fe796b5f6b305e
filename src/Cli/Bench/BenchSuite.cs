using System.Reflection;
using System.Runtime.InteropServices;
using NoOrg.Configuration;

namespace NoOrg.Cli.Bench;

/// <summary>
/// The whole run: for each concurrency level, the two floors and then every operation, back to back, so that an
/// operation and its floors see the same machine; then the scale phase.
/// </summary>
internal sealed class BenchSuite(BenchRun run)
{
    /// <summary>Every operation in the order it runs; floors first.</summary>
    public static readonly IReadOnlyList<string> AllOperations = ["ping", "insert", "registration", "creation", "http-creation", "assignment", "state-sync", "lifecycle", "http-lifecycle"];

    public async Task<BenchReport> RunAsync(IBenchProgress progress, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var loadAtStart = LoadAverage();
        var insert = new InsertFloor(run);
        var scenarios = Create(insert).Where(s => run.Plan.Operations.Contains(s.Name, StringComparer.Ordinal)).ToArray();
        var results = scenarios.ToDictionary(s => s.Name, _ => new List<LevelResult>(), StringComparer.Ordinal);
        var writes = new List<WriteCost>();
        var backlog = new UnplaceableBacklog(run);
        if (run.Plan.Unplaceable > 0)
        {
            await backlog.CreateAsync(run.Plan.Unplaceable, progress.Scaling, cancellationToken);
        }

        foreach (var scenario in scenarios)
        {
            await scenario.StartAsync(cancellationToken);
        }

        try
        {
            foreach (var level in run.Plan.Levels)
            {
                foreach (var scenario in scenarios)
                {
                    var report = progress.Starting(scenario.Name, level);
                    var result = await LoadRunner.RunAsync(scenario, level, run.Plan, report, cancellationToken);
                    results[scenario.Name].Add(result);
                    progress.Finished(scenario.Name, level, result);
                    await scenario.CleanUpAsync(cancellationToken);
                }
            }

            if (run.Plan.ProfileSamples > 0 && WriteProfile.Supported(run.Settings))
            {
                foreach (var scenario in scenarios.Where(s => !s.IsFloor))
                {
                    progress.Scaling($"writes of {scenario.Name}", run.Plan.ProfileSamples);
                    writes.Add(await WriteProfile.MeasureAsync(run, scenario, run.Plan.ProfileSamples, cancellationToken));
                    await scenario.CleanUpAsync(cancellationToken);
                }
            }
        }
        finally
        {
            foreach (var scenario in scenarios)
            {
                await scenario.StopAsync(CancellationToken.None);
            }

            await backlog.CancelAsync(CancellationToken.None);
        }

        var operations = scenarios.Select(s => new OperationResult(s.Name, s.Measures, s.IsFloor, results[s.Name])).ToArray();
        var scale = run.Plan.Scale > 0 ? await ScalePhase.RunAsync(run, progress.Scaling, cancellationToken) : null;
        var machine = new MachineInfo(
            Environment.ProcessorCount,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            Informational(typeof(IClusterClient).Assembly),
            SettingsCatalog.Format(run.Settings.Storage.Provider),
            await insert.ServerVersionAsync(cancellationToken),
            (await run.Caller.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count,
            loadAtStart,
            LoadAverage());
        var plan = run.Plan;
        var configuration = new BenchConfiguration(
            plan.Levels, plan.Warmup.TotalSeconds, plan.Duration.TotalSeconds, plan.Count, plan.Scale, plan.QuerySamples, plan.Operations, plan.ProfileSamples,
            plan.Unplaceable, plan.Timeouts);
        return new BenchReport(
            Informational(typeof(BenchSuite).Assembly), startedAt, DateTimeOffset.UtcNow, configuration, machine, operations,
            RatioRow.From(operations), writes, scale);
    }

    private IEnumerable<BenchScenario> Create(InsertFloor insert) =>
    [
        new PingFloor(run), insert, new RegistrationScenario(run), new CreationScenario(run), new HttpCreationScenario(run),
        new AssignmentScenario(run),
        new StateSyncScenario(run), new LifecycleScenario(run), new HttpLifecycleScenario(run),
    ];

    private static string Informational(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+', ' ')[0].TrimEnd('.')
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The 1, 5 and 15 minute load averages on Linux; null elsewhere.</summary>
    private static string? LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>Where the suite reports what it is doing (a progress display, or nothing).</summary>
internal interface IBenchProgress
{
    /// <summary>Returns a callback that receives the number of samples measured so far.</summary>
    Action<long>? Starting(string operation, int concurrency);

    void Finished(string operation, int concurrency, LevelResult result);

    void Scaling(string what, double done);
}
