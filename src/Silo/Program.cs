using NoOrg.Configuration;
using NoOrg.Silo.Hosting;

NoOrgSettings settings;
try
{
    settings = NoOrgSettings.Load(NoOrgConfiguration.Build());
}
catch (ConfigurationValidationException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}

if (PortCheck.FirstInUse(settings) is { } inUse)
{
    await Console.Error.WriteLineAsync(inUse);
    return 2;
}

// The host's environment is NoOrg's (NOORG_ENVIRONMENT), not ASP.NET Core's default of Production.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, EnvironmentName = settings.General.Environment.ToString() });
builder.Configuration.AddNoOrgSources();
builder.AddNoOrgSilo(settings);
var app = builder.Build();
app.MapNoOrgEndpoints(settings);

try
{
    await StorageStartup.PrepareAsync(settings, app.Services.GetRequiredService<ILoggerFactory>(), CancellationToken.None);
}
catch (Exception e) when (e is NoOrg.Storage.StorageException)
{
    await Console.Error.WriteLineAsync($"NoOrg storage is not ready: {e.Message}");
    return 3;
}

await app.RunAsync();
return 0;
