using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoOrg.Configuration;
using NoOrg.Grains.Concurrency;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Reminders;
using Orleans.Concurrency;
using Orleans.Configuration;

namespace NoOrg.Grains.Health;

/// <summary>
/// The health monitor of one agent (keyed by agent id), and the one place that decides an agent's health. A grain
/// timer runs the checks every check interval; a durable reminder at the reminder floor brings the monitor back
/// (and with it the timer) wherever the grain lands after a silo is lost. Each round reads the agent's liveness,
/// runs every registered <see cref="IAgentHealthCheck"/>, keeps issues and history, projects into the health
/// index, and tells the agent grain its verdict: its health (so dispatch skips or defers it), and once an
/// unhealthy agent's grace period is over, that its tasks go back (offline too when it fell silent).
/// A monitor whose agent is offline with no tasks has nothing to judge: it goes quiet (no timer, no reminder, free
/// to be deactivated) until <see cref="StartAsync"/> wakes it, which the agent grain does when it comes back. The
/// quiet time counts as down in the uptime record. So idle offline agents cost nothing, however many there are.
/// </summary>
/// <remarks>
/// Reentrant, because a verdict's hand-back makes task grains call <see cref="RecordOutcomeAsync"/> while the round
/// that sent it is still waiting; state is read and changed only under <see cref="gate"/>, and nothing under the
/// gate calls another grain.
/// </remarks>
[Reentrant]
public sealed partial class AgentHealthGrain(
    [PersistentState("agent-health", StorageNames.Default)] IPersistentState<AgentHealthState> state,
    IEnumerable<IAgentHealthCheck> checks,
    IHealthIndex index,
    NoOrgSettings settings,
    TimeProvider clock,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<AgentHealthGrain> logger) : Grain, IAgentHealthGrain, IRemindable
{
    internal const string Reminder = "health";
    internal const string SystemActor = "system";
    private const int MaxOutcomes = 1000;

    private readonly TurnGate gate = new();
    private readonly IAgentHealthCheck[] allChecks = [.. checks.DistinctBy(c => c.Name, StringComparer.Ordinal)];
    private readonly Dictionary<string, DateTimeOffset> lastRun = new(StringComparer.Ordinal);
    private readonly HashSet<string> unprojectedIssues = new(StringComparer.Ordinal);
    private IGrainTimer? timer;
    private bool reminderRegistered;
    private bool inRound;
    private bool projectionDue;
    private long wakes;

    /// <summary>Outcomes recorded in memory since the last write; the next round (or deactivation) stores them.</summary>
    private bool outcomesUnsaved;
    private DateTimeOffset lastWrite;

    private string Id => this.GetPrimaryKeyString();

    private AgentHealthSettings Settings => settings.AgentHealth;

    private TimeSpan CheckInterval => TimeSpan.FromSeconds(Settings.CheckIntervalSeconds);

    private TimeSpan ReminderPeriod =>
        CheckInterval > reminderOptions.Value.MinimumReminderPeriod ? CheckInterval : reminderOptions.Value.MinimumReminderPeriod;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        lastWrite = clock.GetUtcNow();
        if (state.State.Monitoring && state.State.QuietSince is null)
        {
            projectionDue = true;
            StartTimer();
        }

        return base.OnActivateAsync(cancellationToken);
    }

    public async Task StartAsync()
    {
        wakes++;

        // The reminder and the state write are independent: they go out together. A reminder whose write then
        // failed finds the monitor not monitoring on its first tick and removes itself.
        await Task.WhenAll(
            reminderRegistered ? Task.CompletedTask : RegisterReminderAsync(),
            gate.RunAsync(async () =>
            {
                if (!state.State.Monitoring || state.State.QuietSince is not null)
                {
                    await WriteAsync(Woken(state.State with { Monitoring = true }));
                }
            }));
        StartTimer();
    }

    private async Task RegisterReminderAsync()
    {
        await this.RegisterOrUpdateReminder(Reminder, ReminderPeriod, ReminderPeriod);
        reminderRegistered = true;
    }

    /// <summary>No more rounds: the timer stops and the reminder goes (quiet, or the agent is gone).</summary>
    private async Task StopWatchingAsync()
    {
        timer?.Dispose();
        timer = null;
        await this.UnregisterReminderIfAnyAsync(Reminder);
        reminderRegistered = false;
    }

    public async Task<AgentHealth> CheckNowAsync()
    {
        await EnsureMonitoredAsync();
        await RoundAsync(force: true);
        return await GetAsync();
    }

    public async Task<AgentHealth> GetAsync()
    {
        await EnsureMonitoredAsync();
        return await gate.RunAsync(() =>
        {
            RequireMonitored();
            return Task.FromResult(Current());
        });
    }

    public Task RecordOutcomeAsync(TaskOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (string.IsNullOrWhiteSpace(outcome.TaskId) || !Enum.IsDefined(outcome.Kind) || outcome.Duration < TimeSpan.Zero)
        {
            throw new ValidationException("A task outcome needs a task id, a known kind and a duration of 0 or more when set.");
        }

        return gate.RunAsync(async () =>
        {
            var current = state.State;
            if (current.Outcomes.Any(o => o.TaskId == outcome.TaskId && o.Attempt == outcome.Attempt && o.Kind == outcome.Kind))
            {
                return; // a repeated report of the same attempt
            }

            var windowStart = clock.GetUtcNow() - TimeSpan.FromSeconds(Settings.WindowSeconds);
            var outcomes = current.Outcomes.Append(outcome).Where(o => o.At >= windowStart).TakeLast(MaxOutcomes).ToList();
            if (timer is null)
            {
                // No round is coming to store it (the monitor is quiet, or not started): store it now.
                await WriteAsync(current with { Outcomes = outcomes });
                return;
            }

            // A sample of a statistical window, reported best effort: the next round stores it with whatever else
            // changed, instead of a write per finished attempt on the task's completion path.
            state.State = current with { Outcomes = outcomes };
            outcomesUnsaved = true;
        });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (outcomesUnsaved)
        {
            try
            {
                await gate.RunAsync(() => WriteAsync(state.State));
            }
            catch (Exception e)
            {
                LogOutcomesNotStored(logger, Id, e);
            }
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task<AgentHealth> SetOverridesAsync(HealthOverrides overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var problems = new List<string>();
        Fraction(problems, "MinSuccessRate", overrides.MinSuccessRate);
        Fraction(problems, "MaxErrorRate", overrides.MaxErrorRate);
        Fraction(problems, "MinUptime", overrides.MinUptime);
        if (overrides.MaxResponseTimeSeconds is { } response && !(response > 0 && double.IsFinite(response)))
        {
            problems.Add($"MaxResponseTimeSeconds: must be more than 0 (got {response})");
        }

        if (overrides.HeartbeatTimeoutSeconds is { } heartbeat && heartbeat is < 1 or > 86400)
        {
            problems.Add($"HeartbeatTimeoutSeconds: must be 1 to 86400 (got {heartbeat})");
        }

        if (problems.Count > 0)
        {
            throw new ValidationException("Invalid health overrides: " + string.Join("; ", problems));
        }

        await EnsureMonitoredAsync();
        await gate.RunAsync(async () =>
        {
            RequireMonitored();
            await WriteAsync(state.State with { Overrides = overrides });
        });
        return await CheckNowAsync();
    }

    public async Task<HealthIssue> ResolveIssueAsync(string issueId, string note, string actor)
    {
        if (string.IsNullOrWhiteSpace(note))
        {
            throw new ValidationException("note: required; say how the issue was resolved");
        }

        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new ValidationException("actor: required");
        }

        var resolved = await gate.RunAsync(async () =>
        {
            var issues = state.State.Issues.ToList();
            var at = issues.FindIndex(i => i.Id == issueId);
            if (at < 0)
            {
                throw new NotFoundException($"Agent '{Id}' has no issue '{issueId}' (resolved issues beyond the history limit are listed by `noorg health issues --all`).");
            }

            var issue = issues[at];
            if (issue.State == HealthIssueState.Resolved)
            {
                return issue.Note == note
                    ? issue // a retried resolution
                    : throw new ConflictException($"Issue '{issueId}' was already resolved at {issue.ResolvedAt:u} by {issue.ResolvedBy}: {issue.Note}");
            }

            issues[at] = issue with
            {
                State = HealthIssueState.Resolved, ResolvedAt = clock.GetUtcNow(), ResolvedBy = actor, Note = note, UpdatedAt = clock.GetUtcNow(),
            };
            unprojectedIssues.Add(issueId);
            await WriteAsync(state.State with { Issues = issues });
            await ProjectAsync();
            return issues[at];
        });
        return resolved;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Reminder)
        {
            return;
        }

        if (!state.State.Monitoring || state.State.QuietSince is not null)
        {
            await this.UnregisterReminderIfAnyAsync(Reminder);
            return;
        }

        reminderRegistered = true;
        if (status.Period != ReminderPeriod)
        {
            await RegisterReminderAsync();
        }

        StartTimer();
        if (state.State.CheckedAt is not { } checkedAt || clock.GetUtcNow() - checkedAt >= CheckInterval)
        {
            await RoundAsync(force: false);
        }
    }

    private void StartTimer() =>
        timer ??= this.RegisterGrainTimer(_ => RoundAsync(force: false), new GrainTimerCreationOptions(CheckInterval, CheckInterval) { KeepAlive = true });

    /// <summary>
    /// The agent starts its monitor right after its registration is acknowledged; a question that arrives before
    /// that start finds the agent registered and starts the monitor itself.
    /// </summary>
    private async Task EnsureMonitoredAsync()
    {
        if (!state.State.Monitoring && await GrainFactory.GetGrain<IAgentGrain>(Id).GetAsync() is not null)
        {
            await StartAsync();
        }

        RequireMonitored();
    }

    private void RequireMonitored()
    {
        if (!state.State.Monitoring)
        {
            throw new NotFoundException($"Agent '{Id}' is not monitored: no agent with this id is registered.");
        }
    }

    private async Task RoundAsync(bool force)
    {
        if (inRound && !force)
        {
            return;
        }

        inRound = true;
        var wake = wakes;
        try
        {
            var agent = GrainFactory.GetGrain<IAgentGrain>(Id);
            var liveness = await agent.GetLivenessAsync();
            if (liveness.Agent is null)
            {
                await StopAsync();
                return;
            }

            var facts = await gate.RunAsync(() => Task.FromResult(Observe(liveness)));
            var results = await Task.WhenAll(allChecks.Select(c => RunCheckAsync(c, facts)));
            var verdict = await gate.RunAsync(() => EvaluateAsync(facts, results));
            if (verdict is not null)
            {
                await agent.ApplyHealthAsync(verdict);
            }
            else if (facts.Agent is { Status: AgentStatus.Offline, ActiveTaskIds.Count: 0 } && !projectionDue && unprojectedIssues.Count == 0)
            {
                await GoQuietAsync(wake);
            }
        }
        catch (Exception e) when (!force)
        {
            // A timer or reminder round: the next one tries again.
            LogRoundFailed(logger, Id, e);
        }
        finally
        {
            inRound = false;
        }
    }

    /// <summary>
    /// The agent is offline with no tasks and its verdict is settled: stop the timer and the reminder until
    /// <see cref="StartAsync"/>. A wake that interleaves with this (the <see cref="wakes"/> count moved) wins.
    /// </summary>
    private async Task GoQuietAsync(long wake)
    {
        var quiet = await gate.RunAsync(async () =>
        {
            if (wake != wakes || state.State.QuietSince is not null)
            {
                return false;
            }

            await WriteAsync(state.State with { QuietSince = clock.GetUtcNow() });
            return true;
        });
        if (!quiet)
        {
            return;
        }

        await StopWatchingAsync();
        if (wake != wakes)
        {
            await RegisterReminderAsync();
            StartTimer();
        }
    }

    /// <summary>Out of quiet: the quiet time is recorded as down (the agent was offline), and monitoring resumes.</summary>
    private AgentHealthState Woken(AgentHealthState s)
    {
        if (s.QuietSince is not { } since)
        {
            return s;
        }

        var now = clock.GetUtcNow();
        var segments = s.Uptime.ToList();
        if (segments.Count > 0 && !segments[^1].Up)
        {
            segments[^1] = segments[^1] with { To = now };
        }
        else
        {
            segments.Add(new UptimeSegment(segments.Count > 0 && segments[^1].To > since ? segments[^1].To : since, now, false));
        }

        projectionDue = true;
        return s with { QuietSince = null, Uptime = segments };
    }

    /// <summary>Under the gate: extends the uptime record with this observation and gathers the facts to judge.</summary>
    private AgentHealthFacts Observe(AgentLiveness liveness)
    {
        var now = clock.GetUtcNow();
        var thresholds = Thresholds();
        var window = TimeSpan.FromSeconds(thresholds.WindowSeconds);
        var up = now - liveness.LastSeenAt <= TimeSpan.FromSeconds(thresholds.HeartbeatTimeoutSeconds);

        // A gap longer than this means nobody was watching (a silo was lost): it is left out rather than guessed.
        var continuity = TimeSpan.FromTicks(Math.Max(3 * CheckInterval.Ticks, 2 * ReminderPeriod.Ticks));
        var segments = state.State.Uptime.ToList();
        if (segments.Count > 0 && now - segments[^1].To <= continuity)
        {
            var last = segments[^1];
            if (last.Up == up)
            {
                segments[^1] = last with { To = now };
            }
            else
            {
                segments.Add(new UptimeSegment(last.To, now, up));
            }
        }
        else
        {
            segments.Add(new UptimeSegment(now, now, up));
        }

        var windowStart = now - window;
        segments = [.. segments.Where(s => s.To >= windowStart).Select(s => s.From < windowStart ? s with { From = windowStart } : s)];
        var observed = TimeSpan.FromTicks(segments.Sum(s => (s.To - s.From).Ticks));
        var upTime = TimeSpan.FromTicks(segments.Where(s => s.Up).Sum(s => (s.To - s.From).Ticks));
        var uptime = observed > TimeSpan.Zero ? upTime / observed : (up ? 1.0 : 0.0);
        var flipped = state.State.Uptime.Count == 0 || state.State.Uptime[^1].Up != up;
        state.State = state.State with
        {
            Uptime = segments,
            Outcomes = [.. state.State.Outcomes.Where(o => o.At >= windowStart)],
            LastHeartbeatAt = liveness.Agent!.LastHeartbeatAt,
        };
        projectionDue |= flipped;
        return new AgentHealthFacts(Id, now, liveness.Agent, liveness.LastSeenAt, liveness.ConnectedWorkers, liveness.LastWorkerContactAt,
            state.State.Outcomes, uptime, observed, thresholds);
    }

    private async Task<HealthCheckResult> RunCheckAsync(IAgentHealthCheck check, AgentHealthFacts facts)
    {
        if (check.Interval > TimeSpan.Zero
            && lastRun.TryGetValue(check.Name, out var last) && facts.Now - last < check.Interval
            && state.State.Checks.FirstOrDefault(c => c.Check == check.Name) is { } previous)
        {
            return previous; // not due yet: its last result stands
        }

        lastRun[check.Name] = facts.Now;
        using var cancellation = new CancellationTokenSource(check.Timeout);
        try
        {
            var outcome = await check.CheckAsync(facts, cancellation.Token).WaitAsync(check.Timeout, cancellation.Token);
            return HealthCheckMetrics.Ran(new HealthCheckResult(check.Name, outcome.Status, outcome.Detail, facts.Now));
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && cancellation.IsCancellationRequested))
        {
            return HealthCheckMetrics.Ran(new HealthCheckResult(check.Name, HealthStatus.Unhealthy, $"the check did not finish within {check.Timeout.TotalSeconds:0.###}s", facts.Now));
        }
        catch (Exception e)
        {
            LogCheckThrew(logger, Id, check.Name, e);
            return HealthCheckMetrics.Ran(new HealthCheckResult(check.Name, HealthStatus.Unhealthy, $"the check threw {e.GetType().Name}: {e.Message}", facts.Now));
        }
    }

    /// <summary>Under the gate: the status, issues and history that follow from the results; the verdict for the agent, if it needs one.</summary>
    private async Task<AgentHealthVerdict?> EvaluateAsync(AgentHealthFacts facts, HealthCheckResult[] results)
    {
        var now = facts.Now;
        var previous = state.State;
        var round = HealthRound.Evaluate(previous, results, now, Id, Settings.HistoryLimit, unprojectedIssues);
        unprojectedIssues.UnionWith(round.TouchedIssues);
        var (status, changedChecks, issuesChanged) = (round.Next.Status, round.ChecksChanged, round.IssuesChanged);
        if (round.StatusChanged)
        {
            LogStatusChanged(logger, Id, previous.Status, status, round.Reason ?? "");
        }

        state.State = round.Next;
        if (round.StatusChanged || changedChecks || issuesChanged || projectionDue || outcomesUnsaved || now - lastWrite >= ReminderPeriod)
        {
            await WriteAsync(state.State);
            await ProjectAsync();
        }

        var heartbeat = round.Failing.FirstOrDefault(r => r.Check == HeartbeatCheck.CheckName && r.Status == HealthStatus.Unhealthy);
        var graceOver = status == HealthStatus.Unhealthy && now - state.State.UnhealthySince >= TimeSpan.FromSeconds(Settings.GracePeriodSeconds);
        var handBack = graceOver && (facts.Agent.ActiveTaskIds.Count > 0 || (heartbeat is not null && facts.Agent.Status != AgentStatus.Offline));
        return facts.Agent.Health != status || round.StatusChanged || changedChecks || handBack
            ? new AgentHealthVerdict(status, round.Reason, handBack, heartbeat?.Detail)
            : null;
    }

    /// <summary>The agent is gone: monitoring stops, open issues are resolved, its aggregate row is removed.</summary>
    private async Task StopAsync()
    {
        await gate.RunAsync(async () =>
        {
            if (!state.State.Monitoring)
            {
                return;
            }

            var now = clock.GetUtcNow();
            var issues = state.State.Issues
                .Where(i => i.State == HealthIssueState.Open)
                .Select(i => i with { State = HealthIssueState.Resolved, ResolvedAt = now, ResolvedBy = SystemActor, Note = "agent unregistered", UpdatedAt = now })
                .ToList();
            await WriteAsync(new AgentHealthState { IssueCount = state.State.IssueCount, Version = state.State.Version });
            await index.UpsertIssuesAsync(issues);
            await index.RemoveAsync(Id);
        });

        await StopWatchingAsync();
        DeactivateOnIdle();
    }

    /// <summary>Under the gate: the health row and every issue changed since the last projection; a failure is retried next round.</summary>
    private async Task ProjectAsync()
    {
        try
        {
            var s = state.State;
            var summary = new AgentHealthSummary(Id, s.Status, s.Reasons, [.. s.Checks.Where(c => !c.Passed).Select(c => c.Check)], Metrics(), s.CheckedAt ?? clock.GetUtcNow());
            await index.ProjectAsync(summary, s.Version);
            var changed = s.Issues.Where(i => unprojectedIssues.Contains(i.Id)).ToList();
            await index.UpsertIssuesAsync(changed);
            unprojectedIssues.Clear();
            projectionDue = false;
        }
        catch (Exception e)
        {
            projectionDue = true;
            LogProjectionFailed(logger, Id, e);
        }
    }

    private async Task WriteAsync(AgentHealthState next)
    {
        var previous = state.State;
        state.State = next with { Version = previous.Version + 1 };
        try
        {
            await state.WriteStateAsync();
            lastWrite = clock.GetUtcNow();
            outcomesUnsaved = false;
        }
        catch
        {
            state.State = previous;
            throw;
        }
    }

    private HealthThresholds Thresholds()
    {
        var o = state.State.Overrides;
        return new HealthThresholds(
            o.MinSuccessRate ?? Settings.MinSuccessRate,
            o.MaxErrorRate ?? Settings.MaxErrorRate,
            o.MaxResponseTimeSeconds ?? Settings.MaxResponseTimeSeconds,
            o.MinUptime ?? Settings.MinUptime,
            o.HeartbeatTimeoutSeconds ?? settings.Agents.HeartbeatTimeoutSeconds,
            Settings.MinSamples,
            Settings.WindowSeconds);
    }

    private AgentHealthMetrics Metrics()
    {
        var s = state.State;
        var observed = s.Uptime.Sum(u => (u.To - u.From).Ticks);
        var up = s.Uptime.Where(u => u.Up).Sum(u => (u.To - u.From).Ticks);
        var uptime = observed > 0 ? (double)up / observed : (s.Uptime.Count == 0 || s.Uptime[^1].Up ? 1.0 : 0.0);
        return HealthMetrics.Compute(s.Outcomes, uptime, s.LastHeartbeatAt, s.ConsecutiveFailures);
    }

    private AgentHealth Current()
    {
        var s = state.State;
        return new AgentHealth(Id, s.Status, s.Reasons, Metrics(), s.Checks, Thresholds(), s.Overrides, s.History, s.Issues, s.CheckedAt, s.UnhealthySince, s.QuietSince);
    }

    private static void Fraction(List<string> problems, string name, double? value)
    {
        if (value is { } v && !(v >= 0 && v <= 1))
        {
            problems.Add($"{name}: must be between 0 and 1 (got {v})");
        }
    }


    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} health {From} -> {To}: {Reasons}")]
    private static partial void LogStatusChanged(ILogger logger, string agentId, HealthStatus from, HealthStatus to, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: health check {Check} threw")]
    private static partial void LogCheckThrew(ILogger logger, string agentId, string check, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: a health round failed; the next one tries again")]
    private static partial void LogRoundFailed(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: task outcomes recorded since the last round could not be stored on deactivation; they are lost")]
    private static partial void LogOutcomesNotStored(ILogger logger, string agentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: the health index could not be updated; it will be retried")]
    private static partial void LogProjectionFailed(ILogger logger, string agentId, Exception exception);
}
