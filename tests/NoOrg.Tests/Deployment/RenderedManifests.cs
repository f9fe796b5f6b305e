using k8s;
using k8s.Models;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Deployment;

/// <summary>
/// An overlay of deploy/k8s rendered by <c>kubectl kustomize</c> and read into the typed models of KubernetesClient
/// (strictly: a misspelt or misplaced field fails the load).
/// </summary>
public sealed class RenderedManifests
{
    public const string Directory = "deploy/k8s";

    private RenderedManifests(string overlay, string yaml, IReadOnlyList<object> objects)
    {
        Overlay = overlay;
        Yaml = yaml;
        Objects = objects;
    }

    public string Overlay { get; }

    public string Yaml { get; }

    public IReadOnlyList<object> Objects { get; }

    public static bool KubectlInstalled { get; } = OnPath("kubectl");

    public const string KubectlMissing = "kubectl is not installed: the Kubernetes manifests cannot be rendered here (scripts/test installs it on Debian)";

    public static async Task<RenderedManifests> RenderAsync(string overlay)
    {
        var rendered = await ProcessRunner.RunCommandAsync("kubectl", ["kustomize", $"{Directory}/overlays/{overlay}"], RepositoryPaths.Root);
        Assert.True(rendered.ExitCode == 0, $"kubectl kustomize {overlay} failed: {rendered.StandardError}");
        return new RenderedManifests(overlay, rendered.StandardOutput, KubernetesYaml.LoadAllFromString(rendered.StandardOutput, strict: true));
    }

    public T Single<T>(string? name = null) =>
        Objects.OfType<T>().Single(o => name is null || ((IMetadata<V1ObjectMeta>)o!).Metadata.Name == name);

    public IEnumerable<T> All<T>() => Objects.OfType<T>();

    public V1Deployment Silo => Single<V1Deployment>("noorg-silo");

    public V1Container SiloContainer => Silo.Spec.Template.Spec.Containers.Single(c => c.Name == "silo");

    /// <summary>The generated ConfigMap the silo takes its NOORG_* settings from (its name carries a hash suffix).</summary>
    public IDictionary<string, string> SiloConfig
    {
        get
        {
            var name = SiloContainer.EnvFrom.Single(e => e.ConfigMapRef is not null).ConfigMapRef.Name;
            return Single<V1ConfigMap>(name).Data;
        }
    }

    public static bool OnPath(string command) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, command)));
}
