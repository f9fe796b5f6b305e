using NoOrg.Configuration;
using NoOrg.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddNoOrgSources();

NoOrgSettings settings;
try
{
    settings = NoOrgSettings.Load(builder.Configuration);
}
catch (ConfigurationValidationException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}

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
