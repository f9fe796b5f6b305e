using Orleans.TestingHost;

namespace NoOrg.Testing;

/// <summary>
/// Marks an <see cref="ISiloConfigurator"/> that every test cluster adds after NoOrg's own configuration: how a
/// test registers what the silo needs for it (a custom health check, a saga definition) without a cluster of its own.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TestSiloExtensionAttribute : Attribute
{
    public static IReadOnlyList<Type> Configurators => TestAssemblies.Marked<TestSiloExtensionAttribute, ISiloConfigurator>();
}
