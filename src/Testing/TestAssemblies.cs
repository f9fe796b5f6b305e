using System.Reflection;

namespace NoOrg.Testing;

/// <summary>The loaded assemblies that use NoOrg.Testing (the user's test projects), where extensions are looked for.</summary>
internal static class TestAssemblies
{
    private static readonly string Name = typeof(TestAssemblies).Assembly.GetName().Name!;

    /// <summary>The types marked with <typeparamref name="TAttribute"/> that implement <typeparamref name="TInterface"/>, by name.</summary>
    public static IReadOnlyList<Type> Marked<TAttribute, TInterface>() where TAttribute : Attribute =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Where(a => !a.IsDynamic && a.GetReferencedAssemblies().Any(r => r.Name == Name))
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetCustomAttribute<TAttribute>() is not null && typeof(TInterface).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();
}
