using System.Reflection;
using NoOrg.Grains.Agents;
using NoOrg.Grains.Patterns.Outbox;
using NoOrg.Grains.Patterns.Throttling;
using NoOrg.Grains.Security;
using NoOrg.Grains.Tasks;
using NoOrg.Silo.Security;

namespace NoOrg.Tests.Security;

/// <summary>The role each client call needs, read from the declarations next to the interface methods.</summary>
public sealed class GrainCallRuleTests
{
    public static TheoryData<string> GrainMethods()
    {
        var data = new TheoryData<string>();
        foreach (var method in Methods())
        {
            data.Add($"{method.DeclaringType!.Name}.{method.Name}({method.GetParameters().Length})");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GrainMethods))]
    public void Every_method_of_every_grain_interface_has_a_rule(string signature)
    {
        var method = Methods().First(m => $"{m.DeclaringType!.Name}.{m.Name}({m.GetParameters().Length})" == signature);

        var rule = GrainCallRule.For(method);

        Assert.Equal($"{method.DeclaringType!.Name}.{method.Name}", rule.Name);
        Assert.True(rule.Agent != AgentScope.AgentIdArgument || rule.AgentArgument is not null);
    }

    [Theory]
    [InlineData(typeof(ITaskGrain), nameof(ITaskGrain.GetAsync), AccessRole.Reader)]
    [InlineData(typeof(ITaskGrain), nameof(ITaskGrain.CreateAsync), AccessRole.Operator)]
    [InlineData(typeof(ITaskGrain), nameof(ITaskGrain.CancelAsync), AccessRole.Operator)]
    [InlineData(typeof(ITaskGrain), nameof(ITaskGrain.WatchAsync), AccessRole.Reader)]
    [InlineData(typeof(ITaskGrain), nameof(ITaskGrain.AgentLostAsync), AccessRole.Admin)]
    [InlineData(typeof(ITaskQueryGrain), nameof(ITaskQueryGrain.StatisticsAsync), AccessRole.Reader)]
    [InlineData(typeof(ITaskQueryGrain), nameof(ITaskQueryGrain.CleanupAsync), AccessRole.Admin)]
    [InlineData(typeof(IApiKeysGrain), nameof(IApiKeysGrain.ListAsync), AccessRole.Admin)]
    [InlineData(typeof(IWebhooksGrain), nameof(IWebhooksGrain.ListAsync), AccessRole.Admin)]
    [InlineData(typeof(IRateLimitPolicyGrain), nameof(IRateLimitPolicyGrain.SetAsync), AccessRole.Admin)]
    [InlineData(typeof(IRateLimitPolicyGrain), nameof(IRateLimitPolicyGrain.GetAsync), AccessRole.Reader)]
    [InlineData(typeof(IAgentGrain), nameof(IAgentGrain.TryReserveAsync), AccessRole.Admin)]
    [InlineData(typeof(IAgentGrain), nameof(IAgentGrain.HeartbeatAsync), AccessRole.Operator)]
    [InlineData(typeof(IManagementGrain), nameof(IManagementGrain.GetHosts), AccessRole.Reader)]
    [InlineData(typeof(IManagementGrain), nameof(IManagementGrain.ForceGarbageCollection), AccessRole.Admin)]
    public void A_method_needs_its_declared_or_default_role(Type grain, string method, AccessRole role)
    {
        var rule = GrainCallRule.For(grain.GetMethods().First(m => m.Name == method));

        Assert.Equal(role, rule.Role);
    }

    [Fact]
    public void A_worker_may_do_its_own_agents_work_without_the_operator_role()
    {
        Assert.Equal(AgentScope.GrainKey, Rule<IAgentGrain>(nameof(IAgentGrain.HeartbeatAsync)).Agent);
        Assert.Equal(AgentScope.GrainKey, Rule<IAgentGrain>(nameof(IAgentGrain.ConnectAsync)).Agent);
        Assert.Equal(AgentScope.AgentIdArgument, Rule<ITaskGrain>(nameof(ITaskGrain.CompleteAsync)).Agent);
        Assert.Equal(0, Rule<ITaskGrain>(nameof(ITaskGrain.FailAsync)).AgentArgument);
        Assert.Null(Rule<ITaskGrain>(nameof(ITaskGrain.CancelAsync)).Agent);
        Assert.Null(Rule<IAgentGrain>(nameof(IAgentGrain.TryReserveAsync)).Agent);
    }

    private static GrainCallRule Rule<T>(string method) => GrainCallRule.For(typeof(T).GetMethods().First(m => m.Name == method));

    private static IEnumerable<MethodInfo> Methods() =>
        typeof(ITaskGrain).Assembly.GetTypes()
            .Where(t => t.IsInterface && typeof(IGrain).IsAssignableFrom(t) && !typeof(IGrainObserver).IsAssignableFrom(t))
            .SelectMany(t => t.GetMethods());
}
