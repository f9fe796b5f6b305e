using System.Security.Cryptography;
using NoOrg.Configuration;
using NoOrg.Configuration.Security;
using NoOrg.Grains.Security;
using NoOrg.Testing;

namespace NoOrg.Tests.Security;

/// <summary>
/// A two-silo cluster that requires authentication on grain calls: a bootstrap admin key, stored keys, JWTs signed
/// with an HMAC key file, and a one-second credential cache. Its own client presents no credential; a test presents
/// one per call (<see cref="AsAsync{T}"/>).
/// </summary>
public sealed class GrainCallAuthCluster : NoOrgClusterFixture, IAsyncLifetime
{
    public static readonly string Bootstrap = new('g', 40);
    public const string Issuer = "https://issuer.grain-calls.test";
    public const string Audience = "noorg-grain-calls";
    public const int CacheSeconds = 1;

    private readonly DirectoryInfo keys = Directory.CreateTempSubdirectory("noorg-grain-auth-");

    public GrainCallAuthCluster() : base(StorageProvider.Sqlite)
    {
        File.WriteAllText(JwtKeyFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        Settings["NOORG_SECURITY_REQUIRE_AUTH"] = "true";
        Settings["NOORG_SECURITY_API_KEYS"] = Bootstrap;
        Settings["NOORG_SECURITY_API_KEY_PEPPER"] = new string('q', 40);
        Settings["NOORG_SECURITY_GRAIN_CALL_CACHE_SECONDS"] = CacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["NOORG_SECURITY_JWT_ISSUER"] = Issuer;
        Settings["NOORG_SECURITY_JWT_AUDIENCE"] = Audience;
        Settings["NOORG_SECURITY_JWT_KEY_FILES"] = JwtKeyFile;
        Settings["NOORG_SECURITY_JWT_CLOCK_SKEW_SECONDS"] = "2";
    }

    public string JwtKeyFile => Path.Combine(keys.FullName, "hs1.key");

    /// <summary><paramref name="call"/> made with <paramref name="credential"/> (none when null).</summary>
    public static async Task<T> AsAsync<T>(string? credential, Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (credential is null)
        {
            return await call();
        }

        using (GrainCallCredential.Use(credential))
        {
            return await call();
        }
    }

    public static Task AsAsync(string? credential, Func<Task> call) =>
        AsAsync<bool>(credential, async () =>
        {
            await call();
            return true;
        });

    /// <summary>A new stored key (made with the bootstrap key) and its secret.</summary>
    public Task<ApiKeyCreated> CreateKeyAsync(AccessRole role, params string[] agents) =>
        AsAsync(Bootstrap, () => Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key)
            .CreateAsync(new ApiKeySpec($"{role} {Guid.NewGuid():N}", [role], agents)));

    public string Token(string role, DateTime notBefore, DateTime expires, params string[] agents) =>
        JwtKeyFiles.Mint(JwtKeyFiles.Load(JwtKeyFile), Issuer, Audience, "sub-" + role, [role], agents, notBefore, expires);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        keys.Delete(recursive: true);
    }
}
