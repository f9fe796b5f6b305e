using System.Reflection;
using NoOrg.Grains.Errors;
using NoOrg.Silo.Api;

namespace NoOrg.Tests.Errors;

/// <summary>Every NoOrg error keeps its code however it is raised, and every code comes from the one vocabulary.</summary>
public sealed class ErrorCodeTests
{
    public static TheoryData<string> Constructors()
    {
        var data = new TheoryData<string>();
        foreach (var ctor in ErrorTypes().SelectMany(t => t.GetConstructors()))
        {
            data.Add($"{ctor.DeclaringType!.Name}({string.Join(", ", ctor.GetParameters().Select(p => p.ParameterType.Name))})");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Constructors))]
    public void Each_constructor_of_each_error_sets_the_errors_own_code(string signature)
    {
        var ctor = ErrorTypes().SelectMany(t => t.GetConstructors())
            .Single(c => $"{c.DeclaringType!.Name}({string.Join(", ", c.GetParameters().Select(p => p.ParameterType.Name))})" == signature);
        var error = (NoOrgException)ctor.Invoke([.. ctor.GetParameters().Select(p => Sample(p.ParameterType))]);

        Assert.NotEqual(ErrorCodes.Unspecified, error.Code);
        Assert.Contains(error.Code, ErrorCodes.All);
        var parameterless = (NoOrgException)Activator.CreateInstance(ctor.DeclaringType!)!;
        Assert.Equal(parameterless.Code, error.Code); // one code per type, whichever constructor
    }

    [Fact]
    public void Every_code_the_http_api_maps_is_in_the_vocabulary_and_every_code_has_a_status_or_is_a_server_error()
    {
        Assert.All(ApiProblems.StatusByCode.Keys, code => Assert.Contains(code, ErrorCodes.All));
        Assert.Equal(ErrorCodes.All.Count, ErrorCodes.All.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(400, ApiProblems.StatusOf(new ValidationException("x", new InvalidOperationException()).Code));
        Assert.Equal(409, ApiProblems.StatusOf(new InvalidTransitionException("x", new InvalidOperationException()).Code));
    }

    private static IEnumerable<Type> ErrorTypes() =>
        typeof(NoOrgException).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(NoOrgException)) && !t.IsAbstract && t.IsPublic);

    private static object Sample(Type type) =>
        type == typeof(string) ? "sample"
        : type == typeof(Exception) ? new InvalidOperationException("inner")
        : type == typeof(TimeSpan) ? TimeSpan.FromSeconds(1)
        : type == typeof(IReadOnlyList<string>) ? new[] { "field: problem" }
        : throw new InvalidOperationException($"no sample for {type}");
}
