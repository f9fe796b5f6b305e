using Orleans.TestingHost;

namespace NoOrg.Testing;

/// <summary>
/// Marks an <see cref="IClientBuilderConfigurator"/> that every test cluster's client adds after NoOrg's own
/// configuration (after its retry filter): how a test observes the calls its client makes.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TestClientExtensionAttribute : Attribute
{
    public static IReadOnlyList<Type> Configurators => TestAssemblies.Marked<TestClientExtensionAttribute, IClientBuilderConfigurator>();
}
