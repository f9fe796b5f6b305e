using NoOrg.Configuration;
using NoOrg.Silo.Api;
using NoOrg.Silo.Health;
using NoOrg.Silo.Observability;
using NoOrg.Silo.Security;
using NoOrg.Silo.Workers;
using Orleans.Dashboard;

namespace NoOrg.Silo.Hosting;

/// <summary>The silo host's table of contents: what runs in the process and what it serves over HTTP.</summary>
public static class WebApplicationExtensions
{
    public static WebApplicationBuilder AddNoOrgSilo(this WebApplicationBuilder builder, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.WebHost.UseUrls([.. settings.Http.UrlList]);
        // Information is lifecycle and problems: Polly's two lines per grain placement and per webhook, and every
        // client connection opened and closed, are per-call traffic (their failures still show as warnings and errors).
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans.Runtime.Messaging", LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.Timeouts.ShutdownSeconds));
        builder.Services.AddNoOrgHealthChecks();
        builder.Services.AddNoOrgAuthentication(settings);
        builder.Services.AddNoOrgApi();
        builder.Services.AddNoOrgHttpWorkers();
        builder.AddNoOrgMetrics(settings);
        builder.AddNoOrgTracing(settings);
        builder.Logging.AddSimpleConsole(o => o.IncludeScopes = true); // a line written in a span shows its trace and span ids
        builder.UseOrleans(silo =>
        {
            silo.AddNoOrg(settings).UseNoOrgClustering(settings);
            if (IsInKubernetes)
            {
                silo.UseKubernetesHosting();
            }
        });
        return builder;
    }

    public static WebApplication MapNoOrgEndpoints(this WebApplication app, NoOrgSettings settings)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(settings);
        app.MapNoOrgApi(); // before authentication: a refused key gets a request id and a problem document too
        app.UseAuthentication();
        app.UseMiddleware<AuthFailureThrottle>();
        app.UseAuthorization();
        app.MapNoOrgHealth();
        app.MapNoOrgMetrics(settings);
        if (settings.Dashboard.Enabled)
        {
            app.MapOrleansDashboard(routePrefix: settings.Dashboard.Path).RequireAuthorization(ApiKeyAuthentication.Policy);
        }

        app.MapGet("/", () => Results.Redirect(settings.Dashboard.Enabled ? settings.Dashboard.Path + "/" : "/health/ready"));
        return app;
    }

    /// <summary>Kubernetes sets this variable in every pod; outside a pod the Kubernetes hosting integration cannot start.</summary>
    public static bool IsInKubernetes => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));
}
