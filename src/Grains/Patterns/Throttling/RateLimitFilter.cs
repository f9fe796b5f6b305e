using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;

namespace NoOrg.Grains.Patterns.Throttling;

/// <summary>Enforces <see cref="RateLimitAttribute"/> on incoming grain calls, before the method runs.</summary>
internal sealed class RateLimitFilter(IGrainFactory grains) : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<MethodInfo, Rule?> Rules = new();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod is not { } method || Rules.GetOrAdd(method, Describe) is not { } rule)
        {
            await context.Invoke();
            return;
        }

        var key = rule.ArgumentIndex is { } index
            ? Convert.ToString(context.Request.GetArgument(index), CultureInfo.InvariantCulture) ?? ""
            : context.TargetId.Key.ToString();
        await using var permit = await grains.AcquireAsync(rule.Attribute.Policy, key, rule.Attribute.Permits);
        await context.Invoke();
    }

    private static Rule? Describe(MethodInfo method)
    {
        if (method.GetCustomAttribute<RateLimitAttribute>() is not { } attribute)
        {
            return null;
        }

        if (attribute.KeyFrom is null)
        {
            return new Rule(attribute, null);
        }

        var parameter = method.GetParameters().FirstOrDefault(p => p.Name == attribute.KeyFrom)
            ?? throw new InvalidOperationException($"[RateLimit] on {method.DeclaringType?.Name}.{method.Name}: no parameter named '{attribute.KeyFrom}'.");
        return new Rule(attribute, parameter.Position);
    }

    private sealed record Rule(RateLimitAttribute Attribute, int? ArgumentIndex);
}
