using System.Globalization;
using System.Text;
using k8s.Models;
using NoOrg.Configuration;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Deployment;

/// <summary>
/// deploy/k8s rendered offline and held against the silo: schemas, settings, RBAC, probes and ports (a few seconds
/// each, plus the published silo the collection shares).
/// </summary>
[Collection(PublishedSiloCollection.Name)]
public sealed class KubernetesManifestTests(PublishedSilo published)
{
    public static TheoryData<string> Overlays => new() { "dev", "production" };

    private const string ValidatorDirectory = RenderedManifests.Directory + "/validate";

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public async Task Every_rendered_object_passes_the_kubernetes_schemas(string overlay)
    {
        var manifests = await RenderAsync(overlay);
        Skip.IfNot(RenderedManifests.OnPath("node") && Directory.Exists(RepositoryPaths.File(ValidatorDirectory + "/node_modules")),
            $"node or {ValidatorDirectory}/node_modules is missing (scripts/test runs npm ci there): schema validation skipped");

        var validation = await ProcessRunner.RunCommandAsync("node", ["validate.mjs"], RepositoryPaths.File(ValidatorDirectory), standardInput: manifests.Yaml);
        Assert.True(validation.ExitCode == 0, validation.StandardOutput + validation.StandardError);
        Assert.Equal(manifests.Objects.Count, validation.StandardOutput.Split('\n').Count(l => l.StartsWith("valid ", StringComparison.Ordinal)));
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public async Task The_silo_environment_holds_only_real_settings_that_noorg_config_check_accepts(string overlay)
    {
        var manifests = await RenderAsync(overlay);
        var environment = PodEnvironment(manifests);

        var known = SettingsCatalog.Keys.ToHashSet();
        Assert.DoesNotContain(environment.Keys, k => k.StartsWith("NOORG_", StringComparison.Ordinal) && !known.Contains(k));

        var check = await ProcessRunner.RunAsync("noorg.dll", ["config", "check", "--json"], environment);
        Assert.True(check.ExitCode == 0, $"noorg config check rejected the {overlay} environment: {check.StandardOutput}{check.StandardError}");
        Assert.Contains("\"NOORG_STORAGE_PROVIDER\"", check.StandardOutput, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public async Task The_silo_runs_kubernetes_hosting_with_the_rbac_and_downward_api_it_needs(string overlay)
    {
        var manifests = await RenderAsync(overlay);
        var silo = manifests.Silo;
        var pod = silo.Spec.Template;
        Assert.True(silo.Spec.Replicas >= 2, "a cluster of at least two silos");
        Assert.Equal("0", silo.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);

        var fieldPaths = manifests.SiloContainer.Env.Where(e => e.ValueFrom?.FieldRef is not null).ToDictionary(e => e.Name, e => e.ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.name", fieldPaths["POD_NAME"]);
        Assert.Equal("metadata.namespace", fieldPaths["POD_NAMESPACE"]);
        Assert.Equal("status.podIP", fieldPaths["POD_IP"]);
        Assert.Equal("status.podIP", fieldPaths["NOORG_CLUSTER_ADVERTISED_ADDRESS"]);
        // The hosting lists pods by the orleans/* labels: the silo's ids must be those labels' values.
        Assert.Equal(fieldPaths["ORLEANS_CLUSTER_ID"], fieldPaths["NOORG_CLUSTER_ID"]);
        Assert.Equal(fieldPaths["ORLEANS_SERVICE_ID"], fieldPaths["NOORG_CLUSTER_SERVICE_ID"]);
        Assert.Equal("metadata.labels['orleans/clusterId']", fieldPaths["ORLEANS_CLUSTER_ID"]);
        Assert.Equal("metadata.labels['orleans/serviceId']", fieldPaths["ORLEANS_SERVICE_ID"]);
        Assert.False(string.IsNullOrEmpty(pod.Metadata.Labels["orleans/clusterId"]));
        Assert.False(string.IsNullOrEmpty(pod.Metadata.Labels["orleans/serviceId"]));

        // Exactly what the hosting does: get, list and watch pods (the labels are set, so it never patches; it
        // deletes pods only with DeleteDefunctSiloPods, which is off).
        var account = manifests.Single<V1ServiceAccount>(pod.Spec.ServiceAccountName);
        var binding = Assert.Single(manifests.All<V1RoleBinding>(), b => b.Subjects.Any(s => s.Kind == "ServiceAccount" && s.Name == account.Metadata.Name));
        var role = manifests.Single<V1Role>(binding.RoleRef.Name);
        var rule = Assert.Single(role.Rules);
        Assert.Equal([""], rule.ApiGroups);
        Assert.Equal(["pods"], rule.Resources);
        Assert.Equal(["get", "list", "watch"], rule.Verbs.Order());

        var shutdownSeconds = manifests.SiloConfig.TryGetValue("NOORG_TIMEOUTS_SHUTDOWN_SECONDS", out var value)
            ? int.Parse(value, CultureInfo.InvariantCulture) : new TimeoutSettings().ShutdownSeconds;
        Assert.True(pod.Spec.TerminationGracePeriodSeconds > shutdownSeconds,
            $"terminationGracePeriodSeconds {pod.Spec.TerminationGracePeriodSeconds} must exceed the silo's shutdown timeout {shutdownSeconds}");

        var resources = manifests.SiloContainer.Resources;
        Assert.True(resources.Requests.ContainsKey("cpu") && resources.Requests.ContainsKey("memory") && resources.Limits.ContainsKey("memory"));
        var antiAffinity = pod.Spec.Affinity.PodAntiAffinity;
        var terms = (antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution ?? []).Concat(
            (antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution ?? []).Select(p => p.PodAffinityTerm));
        Assert.Contains(terms, t => t.TopologyKey == "kubernetes.io/hostname" && Selects(t.LabelSelector, pod));

        Assert.True(Selects(manifests.Single<V1PodDisruptionBudget>().Spec.Selector, pod), "the PodDisruptionBudget covers the silos");
        Assert.True(Selects(manifests.Single<V1NetworkPolicy>().Spec.PodSelector, pod), "the NetworkPolicy covers the silos");
        Assert.True(Selects(new V1LabelSelector { MatchLabels = manifests.Single<V1Service>("noorg-silo").Spec.Selector }, pod), "the Service selects the silos");

        var dockerUser = long.Parse(published.Dockerfile.Final.All("USER").Single().Split(':')[0], CultureInfo.InvariantCulture);
        Assert.Equal(dockerUser, pod.Spec.SecurityContext.RunAsUser);
        Assert.True(pod.Spec.SecurityContext.RunAsNonRoot);
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public async Task The_migration_job_runs_noorg_db_migrate_from_the_image_on_the_silo_settings(string overlay)
    {
        var manifests = await RenderAsync(overlay);
        var job = manifests.Single<V1Job>("noorg-migrate");
        var container = Assert.Single(job.Spec.Template.Spec.Containers);
        Assert.Equal(manifests.SiloContainer.Image, container.Image);
        Assert.Equal(["dotnet", published.PublishOutput("src/Cli/") + "/noorg.dll", "db", "migrate"], container.Command);
        Assert.Equal(
            manifests.SiloContainer.EnvFrom.Select(e => e.ConfigMapRef?.Name ?? e.SecretRef.Name),
            container.EnvFrom.Select(e => e.ConfigMapRef?.Name ?? e.SecretRef.Name));
    }

    [SkippableTheory]
    [MemberData(nameof(Overlays))]
    public async Task Probes_and_ports_are_the_ones_the_silo_serves(string overlay)
    {
        var manifests = await RenderAsync(overlay);
        var container = manifests.SiloContainer;
        var config = manifests.SiloConfig;
        int Port(string name) => container.Ports.Single(p => p.Name == name).ContainerPort;

        Assert.Equal(new Uri(config["NOORG_HTTP_URLS"]).Port, Port("http"));
        Assert.Equal(int.Parse(config["NOORG_CLUSTER_SILO_PORT"], CultureInfo.InvariantCulture), Port("silo"));
        Assert.Equal(int.Parse(config["NOORG_CLUSTER_GATEWAY_PORT"], CultureInfo.InvariantCulture), Port("gateway"));
        var service = manifests.Single<V1Service>("noorg-silo");
        Assert.Equal(["gateway", "http"], service.Spec.Ports.Select(p => p.TargetPort.Value).Order());

        Assert.Equal("/health/ready", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health/live", container.LivenessProbe.HttpGet.Path);
        using var http = new HttpClient { BaseAddress = published.Silo.Http };
        foreach (var probe in new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe }.Where(p => p is not null))
        {
            Assert.Equal(Port("http"), Port(probe.HttpGet.Port.Value));
            using var response = await http.GetAsync(new Uri(probe.HttpGet.Path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{probe.HttpGet.Path} answered {(int)response.StatusCode} on the published silo");
        }
    }

    private static async Task<RenderedManifests> RenderAsync(string overlay)
    {
        Skip.IfNot(RenderedManifests.KubectlInstalled, RenderedManifests.KubectlMissing);
        return await RenderedManifests.RenderAsync(overlay);
    }

    /// <summary>
    /// The silo container's environment as a pod would see it: the ConfigMap, the Secret (rendered, or the
    /// overlay's secrets.env.example when the Secret is created by hand) and the env entries, with the downward API
    /// resolved to sample values.
    /// </summary>
    private static Dictionary<string, string?> PodEnvironment(RenderedManifests manifests)
    {
        var environment = new Dictionary<string, string?>();
        var container = manifests.SiloContainer;
        foreach (var source in container.EnvFrom)
        {
            if (source.ConfigMapRef is not null)
            {
                foreach (var (key, value) in manifests.Single<V1ConfigMap>(source.ConfigMapRef.Name).Data)
                {
                    environment[key] = value;
                }

                continue;
            }

            var secret = manifests.All<V1Secret>().SingleOrDefault(s => s.Metadata.Name == source.SecretRef.Name);
            var pairs = secret is not null
                ? secret.Data.Select(d => (d.Key, Encoding.UTF8.GetString(d.Value)))
                : ExampleSecret(manifests.Overlay);
            foreach (var (key, value) in pairs)
            {
                environment[key] = value;
            }
        }

        var labels = manifests.Silo.Spec.Template.Metadata.Labels;
        foreach (var variable in container.Env)
        {
            environment[variable.Name] = variable.Value ?? variable.ValueFrom.FieldRef.FieldPath switch
            {
                "status.podIP" => "10.1.2.3",
                "metadata.name" => "noorg-silo-0",
                "metadata.namespace" => manifests.Silo.Metadata.NamespaceProperty,
                var path when path.StartsWith("metadata.labels['", StringComparison.Ordinal) => labels[path["metadata.labels['".Length..^2]],
                var path => throw new InvalidOperationException($"no sample value for the downward API field {path}"),
            };
        }

        return environment;
    }

    private static IEnumerable<(string, string)> ExampleSecret(string overlay)
    {
        var file = RepositoryPaths.File($"{RenderedManifests.Directory}/overlays/{overlay}/secrets.env.example");
        Assert.True(File.Exists(file), $"the {overlay} overlay neither renders the Secret nor lists its keys in secrets.env.example");
        return File.ReadLines(file).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => (l[..l.IndexOf('=', StringComparison.Ordinal)], l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]));
    }

    private static bool Selects(V1LabelSelector selector, V1PodTemplateSpec pod) =>
        selector.MatchLabels.All(l => pod.Metadata.Labels.TryGetValue(l.Key, out var value) && value == l.Value);
}
