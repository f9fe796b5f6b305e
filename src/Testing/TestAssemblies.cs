using System.Reflection;

namespace NoOrg.Testing;

/// <summary>The loaded assemblies that use NoOrg.Testing (the user's test projects), where extensions are looked for.</summary>
internal static class TestAssemblies
{
    private static readonly string Name = typeof(TestAssemblies).Assembly.GetName().Name!;

    public static IEnumerable<Type> Types() => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => !a.IsDynamic && a.GetReferencedAssemblies().Any(r => r.Name == Name))
        .SelectMany(a => a.GetTypes());
}
