using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace NoOrg.Grains.Errors;

/// <summary>
/// A grain storage provider whose failures to reach the database surface as <see cref="UnavailableException"/>.
/// This is the one place that covers a state load during activation: Orleans rejects the calls waiting on a failed
/// activation with its exception, past every grain call filter, and a driver exception has no codec. Orleans wraps
/// what this throws in an <see cref="OrleansException"/>; <see cref="WrappedErrorFilter"/> unwraps it for the caller.
/// </summary>
internal sealed class TypedGrainStorage(string name, IGrainStorage inner) : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Typed("read", stateName, grainId, () => inner.ReadStateAsync(stateName, grainId, grainState));

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        Typed("read", stateName, grainId, () => inner.ReadStateAsync(stateName, grainId, grainState, cancellationToken));

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Typed("write", stateName, grainId, () => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        Typed("write", stateName, grainId, () => inner.WriteStateAsync(stateName, grainId, grainState, cancellationToken));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Typed("clear", stateName, grainId, () => inner.ClearStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken) =>
        Typed("clear", stateName, grainId, () => inner.ClearStateAsync(stateName, grainId, grainState, cancellationToken));

    // The provider initialises itself (reads its queries) in the silo lifecycle; Orleans finds it through this service.
    public void Participate(ISiloLifecycle lifecycle) => (inner as ILifecycleParticipant<ISiloLifecycle>)?.Participate(lifecycle);

    private async Task Typed(string operation, string stateName, GrainId grainId, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception e) when (e is not NoOrgException && WireErrors.IsStorageFailure(e))
        {
            throw WireErrors.Unavailable($"storage '{name}' could not {operation} state '{stateName}' of {grainId}", e);
        }
    }
}

internal static class TypedGrainStorageRegistration
{
    /// <summary>Wraps the grain storage provider registered under <paramref name="name"/> in <see cref="TypedGrainStorage"/>.</summary>
    public static IServiceCollection AddTypedStorageErrors(this IServiceCollection services, string name)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, name))
            ?? throw new InvalidOperationException($"No grain storage provider named '{name}' is registered; add it before its typed errors.");
        services.Remove(registered);
        services.AddKeyedSingleton<IGrainStorage>(name, (sp, key) => new TypedGrainStorage(name, Create(registered, sp, key)));
        return services;
    }

    private static IGrainStorage Create(ServiceDescriptor registered, IServiceProvider services, object? key) =>
        (IGrainStorage)(registered.KeyedImplementationFactory?.Invoke(services, key)
            ?? registered.KeyedImplementationInstance
            ?? ActivatorUtilities.CreateInstance(services, registered.KeyedImplementationType!));
}
