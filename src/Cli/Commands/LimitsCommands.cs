using System.CommandLine;
using System.Globalization;
using NoOrg.Grains.Patterns.Throttling;
using Spectre.Console;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg limits ...</c>: the cluster's rate-limit policies and their limiters.</summary>
internal static class LimitsCommands
{
    private static readonly Argument<string> Name = new("policy") { Description = "Policy name (a-z, 0-9, '.', '_', '-')" };

    public static Command Create() => new("limits", "Rate-limit policies: list, set, remove, and the status of one limiter")
    {
        List(), Set(), Remove(), Status(),
    };

    private static Command List()
    {
        var command = new Command("list", "List every policy");
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var policies = await CliContext.Api(client).Limits.ListAsync();
            CliContext.Write(parse, policies, all =>
            {
                var table = new Table().AddColumns("Policy", "Kind", "Permits", "Window", "Tokens/period", "Segments", "Queue", "Queue timeout", "Lease timeout");
                foreach (var p in all)
                {
                    table.AddRow(TerminalText.Markup(p.Name), p.Kind.ToString(), Number(p.PermitLimit), p.Window.ToString(), Number(p.TokensPerPeriod),
                        Number(p.SegmentsPerWindow), Number(p.QueueLimit), p.QueueTimeout.ToString(), p.LeaseTimeout.ToString());
                }

                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Set()
    {
        var kind = new Option<RateLimitKind>("--kind") { Description = "tokenbucket, fixedwindow, slidingwindow or concurrency", Required = true };
        var permits = new Option<int>("--permits") { Description = "Bucket size (token bucket), permits per window, or permits held at once (concurrency)", Required = true };
        var windowMs = new Option<int>("--window-ms") { Description = "Window length, or the replenishment period of a token bucket", DefaultValueFactory = _ => 1000 };
        var tokens = new Option<int>("--tokens") { Description = "Token bucket: tokens added each period", DefaultValueFactory = _ => 1 };
        var segments = new Option<int>("--segments") { Description = "Sliding window: segments per window", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue") { Description = "Permits that may wait for capacity (0: refuse at once)", DefaultValueFactory = _ => 0 };
        var queueTimeoutMs = new Option<int>("--queue-timeout-ms") { Description = "Longest wait in the queue", DefaultValueFactory = _ => 0 };
        var leaseSeconds = new Option<int>("--lease-timeout-seconds") { Description = "Concurrency: a permit not released by then is taken back (0: 5 minutes)", DefaultValueFactory = _ => 0 };
        var command = new Command("set", "Create or change a policy; running limiters pick it up within NOORG_THROTTLING_POLICY_REFRESH_SECONDS")
        {
            Name, kind, permits, windowMs, tokens, segments, queue, queueTimeoutMs, leaseSeconds,
        };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var name = parse.GetValue(Name)!;
            var policy = new RateLimitPolicy(name, parse.GetValue(kind), parse.GetValue(permits), TimeSpan.FromMilliseconds(parse.GetValue(windowMs)),
                parse.GetValue(tokens), parse.GetValue(segments), parse.GetValue(queue), TimeSpan.FromMilliseconds(parse.GetValue(queueTimeoutMs)),
                TimeSpan.FromSeconds(parse.GetValue(leaseSeconds)));
            var saved = await CliContext.Api(client).Limits.SetAsync(policy);
            CliContext.Write(parse, saved, p => CliContext.Terminal.MarkupLineEscaped($"policy [bold]{p.Name}[/] saved: {p.Kind}, {p.PermitLimit} permits"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Remove()
    {
        var command = new Command("remove", "Remove a policy; its limiters then refuse with not-found") { Name };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var name = parse.GetValue(Name)!;
            if (!await CliContext.Api(client).Limits.RemoveAsync(name))
            {
                throw new CliException($"no policy named '{name}'");
            }

            CliContext.Write(parse, new { removed = name }, r => CliContext.Terminal.MarkupLineEscaped($"policy [bold]{r.removed}[/] removed"));
            return CliContext.Ok;
        }));
        return command;
    }

    private static Command Status()
    {
        var key = new Argument<string>("key") { Description = "The limited key (agent, tenant, principal...)" };
        var command = new Command("status", "Show the limiter of one policy and key: available permits, queue, counters") { Name, key };
        command.SetAction(CliContext.Connected(async (parse, client, _) =>
        {
            var status = await CliContext.Api(client).Limits.StatusAsync(parse.GetValue(Name)!, parse.GetValue(key)!);
            CliContext.Write(parse, status, s =>
            {
                var table = new Table().AddColumns("", "");
                table.AddRow("policy", TerminalText.Markup(s.Policy));
                table.AddRow("key", TerminalText.Markup(s.Key));
                table.AddRow("kind", s.Kind.ToString());
                table.AddRow("available permits", Number(s.AvailablePermits));
                table.AddRow("queued permits", Number(s.QueuedPermits));
                table.AddRow("admitted / rejected", $"{Number(s.Admitted)} / {Number(s.Rejected)}");
                table.AddRow("held leases (expired)", $"{Number(s.HeldLeases)} ({Number(s.ExpiredLeases)})");
                table.AddRow("active since (UTC)", s.ActivatedAt.ToString("u", CultureInfo.InvariantCulture));
                table.AddRow("silo", TerminalText.Markup(s.Silo));
                CliContext.Terminal.Write(table);
            });
            return CliContext.Ok;
        }));
        return command;
    }

    private static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}
