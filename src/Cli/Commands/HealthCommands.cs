using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Health;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg health ...</c>: the cluster health report, one agent's health, issues and thresholds.</summary>
internal static class HealthCommands
{
    private static readonly Argument<string> AgentId = new Argument<string>("id") { Description = "Agent id" }.Ids();

    public static Command Create() => new("health", "Agent health: report, per-agent detail, issues, thresholds")
    {
        Report(), Agent(), Issues(), Resolve(), Thresholds(),
    };

    private static Command Report()
    {
        var command = new Command("report", "Cluster health: counts by status, unhealthy and degraded agents, open issues, recommendations");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var report = await CliContext.Api(client).Health.ReportAsync();
            CliContext.Write(parse, report, RenderReport);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Agent()
    {
        var now = new Option<bool>("--check") { Description = "Run every check now instead of showing the last round" };
        var command = new Command("agent", "One agent's health: status, reasons, metrics, checks, thresholds, history, issues") { AgentId, now };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var health = parse.GetValue(now) ? await CliContext.Api(client).Health.CheckNowAsync(parse.GetValue(AgentId)!) : await CliContext.Api(client).Health.AgentAsync(parse.GetValue(AgentId)!);
            CliContext.Write(parse, health, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Issues()
    {
        var all = new Option<bool>("--all") { Description = "Resolved issues too, not only open ones" };
        var skip = new Option<int>("--skip") { DefaultValueFactory = _ => 0 };
        var take = new Option<int>("--take") { DefaultValueFactory = _ => 50 };
        var command = new Command("issues", "List health issues, newest first") { all, skip, take };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var page = await CliContext.Api(client).Health.IssuesAsync(parse.GetValue(all), parse.GetValue(skip), parse.GetValue(take));
            CliContext.Write(parse, page, p =>
            {
                CliContext.Terminal.Write(IssueTable(p.Items));
                CliContext.Terminal.MarkupLineEscaped($"{p.Items.Count} of {p.Total} issue(s)");
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Resolve()
    {
        var issue = new Argument<string>("issue-id") { Description = "Issue id, as listed by the report" };
        var note = new Option<string>("--note") { Description = "How it was resolved (kept with the issue)", Required = true };
        var command = new Command("resolve", "Resolve an open issue by hand, with a note") { issue, note };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var resolved = await CliContext.Api(client).Health.ResolveAsync(parse.GetValue(issue)!, parse.GetValue(note)!);
            CliContext.Write(parse, resolved, i => CliContext.Terminal.MarkupLineEscaped($"Resolved {i.Id} ({i.Check} of {i.AgentId}): {i.Note}"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Thresholds()
    {
        var success = new Option<double?>("--min-success-rate") { Description = "0..1" };
        var error = new Option<double?>("--max-error-rate") { Description = "0..1" };
        var response = new Option<double?>("--max-response-time") { Description = "Seconds (p95)" };
        var uptime = new Option<double?>("--min-uptime") { Description = "0..1" };
        var heartbeat = new Option<int?>("--heartbeat-timeout") { Description = "Seconds" };
        var command = new Command("thresholds", "Set an agent's threshold overrides; an option left out follows the cluster setting")
        {
            AgentId, success, error, response, uptime, heartbeat,
        };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var overrides = new HealthOverrides(parse.GetValue(success), parse.GetValue(error), parse.GetValue(response), parse.GetValue(uptime), parse.GetValue(heartbeat));
            var health = await CliContext.Api(client).Health.SetOverridesAsync(parse.GetValue(AgentId)!, overrides);
            CliContext.Write(parse, health, RenderAgent);
            return CliContext.Ok;
        }));
        return command;
    }

    private static void RenderReport(ClusterHealthReport report)
    {
        var t = CliContext.Terminal;
        var counts = $"{report.Counts.GetValueOrDefault(HealthStatus.Healthy)} healthy, {report.Counts.GetValueOrDefault(HealthStatus.Degraded)} degraded, "
            + $"{report.Counts.GetValueOrDefault(HealthStatus.Unhealthy)} unhealthy";
        t.MarkupLineEscaped($"[bold]Cluster health[/] at {report.GeneratedAt.ToString("u", CultureInfo.InvariantCulture)}: {counts}");
        foreach (var (title, agents) in new[] { ("Unhealthy", report.Unhealthy), ("Degraded", report.Degraded) })
        {
            if (agents.Count == 0)
            {
                continue;
            }

            // The figures are those of the agent's last check: an agent gone offline is checked no more, so say when.
            var table = new Table().Title(title).AddColumns("Agent", "Reasons", "Uptime", "Success", "Errors", "p95", "Figures as of (UTC)");
            foreach (var a in agents)
            {
                table.AddRow(TerminalText.Markup(a.AgentId), TerminalText.Markup(string.Join("; ", a.Reasons)), Rate(a.Metrics.Uptime), Rate(a.Metrics.SuccessRate),
                    Rate(a.Metrics.ErrorRate), Seconds(a.Metrics.P95ResponseTime), AsOf(a.CheckedAt, report.GeneratedAt));
            }

            t.Write(table);
        }

        if (report.OpenIssues.Count > 0)
        {
            t.Write(IssueTable(report.OpenIssues).Title("Open issues"));
        }

        foreach (var advice in report.Recommendations)
        {
            t.MarkupLineEscaped($"[yellow]*[/] {advice}");
        }
    }

    /// <summary>When figures were computed, and how long before the report that was ("13:02:11, 4m ago").</summary>
    internal static string AsOf(DateTimeOffset checkedAt, DateTimeOffset now)
    {
        var age = now - checkedAt;
        var ago = age < TimeSpan.FromSeconds(1) ? "now"
            : age < TimeSpan.FromMinutes(1) ? $"{(int)age.TotalSeconds}s ago"
            : age < TimeSpan.FromHours(1) ? $"{(int)age.TotalMinutes}m ago"
            : age < TimeSpan.FromDays(1) ? $"{(int)age.TotalHours}h ago"
            : $"{(int)age.TotalDays}d ago";
        return $"{checkedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}, {ago}";
    }

    private static void RenderAgent(AgentHealth h)
    {
        var t = CliContext.Terminal;
        t.MarkupLineEscaped($"[bold]{h.AgentId}[/]: {h.Status}{(h.Reasons.Count == 0 ? "" : " - " + string.Join("; ", h.Reasons))}");
        var m = h.Metrics;
        t.WriteLine($"uptime {Rate(m.Uptime)}, success {Rate(m.SuccessRate)}, errors {Rate(m.ErrorRate)}, median {Seconds(m.MedianResponseTime)}, "
            + $"p95 {Seconds(m.P95ResponseTime)}, {m.Samples} outcome(s), last heartbeat {m.LastHeartbeatAt?.ToString("u", CultureInfo.InvariantCulture) ?? "-"}, "
            + $"{m.ConsecutiveFailures} failing round(s) in a row");
        if (h.QuietSince is { } quiet)
        {
            t.WriteLine($"quiet since {quiet.ToString("u", CultureInfo.InvariantCulture)}: the agent is offline with no tasks, so nothing is checked until it comes back");
        }

        var checks = new Table().Title("Checks").AddColumns("Check", "Status", "Detail");
        foreach (var c in h.Checks)
        {
            checks.AddRow(TerminalText.Markup(c.Check), c.Status.ToString(), TerminalText.Markup(c.Detail));
        }

        t.Write(checks);
        var th = h.Thresholds;
        t.WriteLine($"thresholds: success >= {Rate(th.MinSuccessRate)}, errors <= {Rate(th.MaxErrorRate)}, p95 <= {th.MaxResponseTimeSeconds}s, "
            + $"uptime >= {Rate(th.MinUptime)}, heartbeat within {th.HeartbeatTimeoutSeconds}s");
        foreach (var change in h.History.Reverse().Take(10))
        {
            t.MarkupLineEscaped($"{change.At.ToString("u", CultureInfo.InvariantCulture)} {change.From} -> {change.To} {string.Join("; ", change.Reasons)}");
        }

        if (h.Issues.Count > 0)
        {
            t.Write(IssueTable(h.Issues).Title("Issues"));
        }
    }

    private static Table IssueTable(IEnumerable<HealthIssue> issues)
    {
        var table = new Table().AddColumns("Id", "State", "Severity", "Seen", "Opened (UTC)", "Detail");
        foreach (var i in issues)
        {
            table.AddRow(TerminalText.Markup(i.Id), i.State.ToString(), i.Severity.ToString(), i.Occurrences.ToString(CultureInfo.InvariantCulture),
                i.OpenedAt.ToString("u", CultureInfo.InvariantCulture), TerminalText.Markup(i.Note is null ? i.Detail : $"{i.Detail} (note: {i.Note})"));
        }

        return table;
    }

    private static string Rate(double? value) => value?.ToString("0.##%", CultureInfo.InvariantCulture) ?? "-";

    private static string Seconds(TimeSpan? value) => value is { } v ? v.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s" : "-";
}
