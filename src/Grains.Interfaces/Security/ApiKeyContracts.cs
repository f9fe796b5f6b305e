namespace NoOrg.Grains.Security;

/// <summary>
/// What a credential may do. <see cref="Admin"/> includes <see cref="Operator"/>, which includes <see cref="Reader"/>;
/// <see cref="Agent"/> stands apart: only the operations of the agent ids the credential is bound to.
/// </summary>
public enum AccessRole { Reader, Agent, Operator, Admin }

/// <summary>What a new API key is for. <see cref="AgentIds"/> is required for the agent role and refused without it.</summary>
[GenerateSerializer, Immutable, Alias("noorg.security.api-key-spec")]
public sealed record ApiKeySpec(string Name, IReadOnlyList<AccessRole> Roles, IReadOnlyList<string> AgentIds, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// A stored API key as it is shown (never its secret nor its hash). A rotated key has <see cref="ReplacedBy"/> and
/// works until <see cref="GraceUntil"/>; a revoked one has <see cref="RevokedAt"/> and works no more.
/// </summary>
[GenerateSerializer, Immutable, Alias("noorg.security.api-key")]
public sealed record ApiKeyInfo(
    string Id,
    string Name,
    IReadOnlyList<AccessRole> Roles,
    IReadOnlyList<string> AgentIds,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? ReplacedBy,
    DateTimeOffset? GraceUntil);

/// <summary>A new key and its secret, which is shown here once and stored only as a salted hash.</summary>
[GenerateSerializer, Immutable, Alias("noorg.security.api-key-created")]
public sealed record ApiKeyCreated(ApiKeyInfo Key, string Secret);

/// <summary>Who a verified credential is: the key's id and name, its roles and the agents it is bound to.</summary>
[GenerateSerializer, Immutable, Alias("noorg.security.principal")]
public sealed record AccessPrincipal(string Id, string Name, IReadOnlyList<AccessRole> Roles, IReadOnlyList<string> AgentIds);

/// <summary>Why a presented key was refused (a typed answer rather than an exception: a refusal is not a failure).</summary>
public enum ApiKeyRefusal { None, Unknown, Expired, Revoked, RotatedOut }

/// <summary>The answer to a verification: the principal, or why there is none.</summary>
[GenerateSerializer, Immutable, Alias("noorg.security.api-key-verdict")]
public sealed record ApiKeyVerdict(AccessPrincipal? Principal, ApiKeyRefusal Refusal);

/// <summary>
/// The cluster's API keys, in one grain with its own durable state. Secrets are kept as salted HMAC-SHA256 hashes
/// under the silo's pepper (<c>NOORG_SECURITY_API_KEY_PEPPER</c>); a key is <c>noorg_{id}_{secret}</c>, so its
/// record is found by id and the hash compared in constant time.
/// </summary>
[Alias("noorg.security.api-keys")]
[Requires(AccessRole.Admin)]
public interface IApiKeysGrain : IGrainWithIntegerKey
{
    public const long Key = 0;

    [Alias("create")] Task<ApiKeyCreated> CreateAsync(ApiKeySpec spec);

    [Alias("list")] Task<IReadOnlyList<ApiKeyInfo>> ListAsync();

    /// <summary>The key stops working at once. Not found for an unknown id; revoking twice is a no-op.</summary>
    [Alias("revoke")] Task<ApiKeyInfo> RevokeAsync(string id);

    /// <summary>A new key with the same name, roles and agents; the old one keeps working for <paramref name="grace"/>, then stops.</summary>
    [Alias("rotate")] Task<ApiKeyCreated> RotateAsync(string id, TimeSpan grace);

    /// <summary>Checks a presented key and records when it was last used.</summary>
    [Alias("verify")] Task<ApiKeyVerdict> VerifyAsync(string presented);
}
