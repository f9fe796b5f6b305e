namespace NoOrg.Grains.Health;

/// <summary>
/// What one round of checks makes of an agent's health, as pure code: the next state (status, reasons, issues,
/// history) and what changed. <see cref="AgentHealthGrain"/> runs the checks, then stores and reports what this says.
/// </summary>
internal sealed record HealthRound(
    AgentHealthState Next,
    IReadOnlyList<HealthCheckResult> Failing,
    bool StatusChanged,
    bool ChecksChanged,
    bool IssuesChanged,
    IReadOnlyList<string> TouchedIssues)
{
    /// <summary>Who resolves an issue whose check passes again.</summary>
    public const string SystemActor = "system";

    /// <summary>One status and reason for the round, from the worst failing check.</summary>
    public string? Reason => Next.Reasons.Count == 0 ? null : string.Join("; ", Next.Reasons);

    /// <param name="previous">The state before the round.</param>
    /// <param name="results">Every check's result of this round.</param>
    /// <param name="agentId">Names the issues (<c>{agent}:{check}:{n}</c>).</param>
    /// <param name="historyLimit">Status changes and resolved issues kept in the state.</param>
    /// <param name="unprojected">Issues changed but not yet in the index: kept in the state whatever the limit.</param>
    public static HealthRound Evaluate(
        AgentHealthState previous, IReadOnlyList<HealthCheckResult> results, DateTimeOffset now, string agentId, int historyLimit,
        IReadOnlySet<string> unprojected)
    {
        var failing = results.Where(r => !r.Passed).ToList();
        var status = failing.Count == 0 ? HealthStatus.Healthy : failing.Max(r => r.Status);
        var reasons = failing.Select(r => $"{r.Check}: {r.Detail}").ToList();
        var failingBefore = previous.Checks.Where(c => !c.Passed).Select(c => c.Check).Order(StringComparer.Ordinal);
        var checksChanged = !failingBefore.SequenceEqual(failing.Select(c => c.Check).Order(StringComparer.Ordinal), StringComparer.Ordinal);
        var (issues, count, issuesChanged, touched) = TrackIssues(previous, results, now, agentId, historyLimit, unprojected);

        var history = status == previous.Status
            ? previous.History
            : [.. previous.History.Append(new HealthStatusChange(now, previous.Status, status, reasons)).TakeLast(historyLimit)];
        var next = previous with
        {
            Status = status,
            Reasons = reasons,
            UnhealthySince = status == HealthStatus.Unhealthy ? previous.UnhealthySince ?? now : null,
            Checks = [.. results],
            ConsecutiveFailures = failing.Count > 0 ? previous.ConsecutiveFailures + 1 : 0,
            CheckedAt = now,
            Issues = issues,
            IssueCount = count,
            History = history,
        };
        return new HealthRound(next, failing, status != previous.Status, checksChanged, issuesChanged, touched);
    }

    /// <summary>Opens an issue for a newly failing check, updates the open one of a check failing again, resolves it when it passes.</summary>
    private static (List<HealthIssue> Issues, int Count, bool Changed, List<string> Touched) TrackIssues(
        AgentHealthState previous, IReadOnlyList<HealthCheckResult> results, DateTimeOffset now, string agentId, int historyLimit,
        IReadOnlySet<string> unprojected)
    {
        var issues = previous.Issues.ToList();
        var count = previous.IssueCount;
        var changed = false;
        var touched = new List<string>();
        foreach (var result in results)
        {
            var open = issues.FindIndex(i => i.Check == result.Check && i.State == HealthIssueState.Open);
            if (!result.Passed)
            {
                if (open >= 0)
                {
                    var issue = issues[open];
                    issues[open] = issue with { Severity = result.Status, Detail = result.Detail, Occurrences = issue.Occurrences + 1, UpdatedAt = now };
                    touched.Add(issue.Id);
                    changed |= issue.Severity != result.Status;
                }
                else
                {
                    var id = $"{agentId}:{result.Check}:{++count}";
                    issues.Add(new HealthIssue(id, agentId, result.Check, result.Status, HealthIssueState.Open, result.Detail, 1, now, now));
                    touched.Add(id);
                    changed = true;
                }
            }
            else if (open >= 0)
            {
                issues[open] = issues[open] with
                {
                    State = HealthIssueState.Resolved, ResolvedAt = now, ResolvedBy = SystemActor, Note = $"check passed: {result.Detail}", UpdatedAt = now,
                };
                touched.Add(issues[open].Id);
                changed = true;
            }
        }

        // Open issues stay; of the resolved ones only the newest are kept here (the index keeps them all).
        var resolved = issues.Where(i => i.State == HealthIssueState.Resolved).OrderBy(i => i.ResolvedAt).ToList();
        var dropped = resolved.Take(Math.Max(0, resolved.Count - historyLimit)).Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        dropped.ExceptWith(unprojected);
        dropped.ExceptWith(touched);
        return ([.. issues.Where(i => !dropped.Contains(i.Id))], count, changed, touched);
    }
}
