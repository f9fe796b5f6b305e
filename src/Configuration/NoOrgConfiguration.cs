using DotNetEnv;
using DotNetEnv.Configuration;
using Microsoft.Extensions.Configuration;

namespace NoOrg.Configuration;

/// <summary>Where NoOrg's settings come from: an optional <c>.env</c> file, overridden by the real environment.</summary>
public static class NoOrgConfiguration
{
    public const string EnvFileName = ".env";

    /// <summary>Adds the <c>.env</c> file of <paramref name="directory"/> (if any) and then the environment, which wins.</summary>
    public static IConfigurationBuilder AddNoOrgSources(this IConfigurationBuilder builder, string? directory = null)
    {
        var envFile = Path.Combine(directory ?? Directory.GetCurrentDirectory(), EnvFileName);
        if (File.Exists(envFile))
        {
            // NoEnvVars: read the file as a configuration source without touching the process environment.
            builder.AddDotNetEnv(envFile, LoadOptions.NoEnvVars());
        }

        return builder.AddEnvironmentVariables();
    }

    /// <summary>Builds the configuration from the working directory's <c>.env</c> and the environment.</summary>
    public static IConfiguration Build(string? directory = null) =>
        new ConfigurationBuilder().AddNoOrgSources(directory).Build();
}
