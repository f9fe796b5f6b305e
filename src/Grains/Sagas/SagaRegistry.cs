using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Sagas;

/// <summary>A compensation registered by name, for compensation scopes (<see cref="ISagaGrain.RecordAsync"/>).</summary>
public sealed record SagaCompensationHandler(string Name, SagaAction Action, SagaPolicy Policy);

/// <summary>The saga definitions and named compensations registered in this silo.</summary>
public sealed class SagaRegistry(IEnumerable<SagaDefinition> definitions, IEnumerable<SagaCompensationHandler> handlers)
{
    private readonly Dictionary<string, SagaDefinition> definitions = Distinct(definitions, d => d.Name, "saga definition");
    private readonly Dictionary<string, SagaCompensationHandler> handlers = Distinct(handlers, h => h.Name, "compensation");

    public IReadOnlyCollection<SagaDefinition> Definitions => definitions.Values;

    public SagaDefinition Definition(string name) =>
        definitions.TryGetValue(name, out var definition)
            ? definition
            : throw new NotFoundException($"Saga definition '{name}' is not registered in this silo (known: {string.Join(", ", definitions.Keys.Order(StringComparer.Ordinal))}).");

    public SagaCompensationHandler Handler(string name) =>
        handlers.TryGetValue(name, out var handler)
            ? handler
            : throw new NotFoundException($"Compensation '{name}' is not registered in this silo (register it with AddNoOrgCompensation).");

    private static Dictionary<string, T> Distinct<T>(IEnumerable<T> items, Func<T, string> key, string what)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!map.TryAdd(key(item), item))
            {
                throw new InvalidOperationException($"Two {what}s are registered as '{key(item)}'; names must be unique.");
            }
        }

        return map;
    }
}

public static class SagaServiceCollectionExtensions
{
    /// <summary>Registers a saga definition; register it in every silo, so any silo can resume any saga.</summary>
    public static IServiceCollection AddNoOrgSaga(this IServiceCollection services, SagaDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        services.TryAddSingleton<SagaRegistry>();
        services.AddSingleton(definition);
        return services;
    }

    /// <summary>Registers a named compensation that compensation scopes can record.</summary>
    public static IServiceCollection AddNoOrgCompensation(
        this IServiceCollection services, string name, Func<SagaStepContext, Task<string?>> compensation, SagaPolicy? policy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(compensation);
        services.TryAddSingleton<SagaRegistry>();
        services.AddSingleton(new SagaCompensationHandler(name, new DelegateSagaAction(compensation), policy ?? SagaPolicy.DefaultCompensation));
        return services;
    }
}
