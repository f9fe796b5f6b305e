namespace NoOrg.Grains.Patterns.Caching;

/// <summary>Loads a missing value of one cache in the silo; register it with <see cref="CacheRegistration.AddNoOrgCache{TLoader}"/>.</summary>
public interface ICacheLoader
{
    /// <summary>The value of <paramref name="key"/>, or null when there is none (null is not cached).</summary>
    Task<string?> LoadAsync(string key, CancellationToken cancellationToken);
}
