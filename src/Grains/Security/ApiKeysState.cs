namespace NoOrg.Grains.Security;

/// <summary>The durable state of the API keys grain: every key ever made, revoked and rotated ones included.</summary>
[GenerateSerializer, Alias("noorg.security.api-keys-state")]
public sealed record ApiKeysState
{
    [Id(0)] public IReadOnlyList<StoredApiKey> Keys { get; init; } = [];
}

/// <summary>One key as stored: its public details, and its secret only as salt and hash.</summary>
[GenerateSerializer, Immutable, Alias("noorg.security.stored-api-key")]
public sealed record StoredApiKey(
    string Id,
    string Name,
    IReadOnlyList<AccessRole> Roles,
    IReadOnlyList<string> AgentIds,
    byte[] Salt,
    byte[] Hash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? ReplacedBy,
    DateTimeOffset? GraceUntil)
{
    /// <summary>Why the key does not work at <paramref name="now"/>, or <see cref="ApiKeyRefusal.None"/> when it does.</summary>
    public ApiKeyRefusal RefusalAt(DateTimeOffset now) =>
        RevokedAt is not null ? ApiKeyRefusal.Revoked
        : GraceUntil <= now ? ApiKeyRefusal.RotatedOut
        : ExpiresAt <= now ? ApiKeyRefusal.Expired
        : ApiKeyRefusal.None;

    public ApiKeyInfo ToInfo() => new(Id, Name, Roles, AgentIds, CreatedAt, ExpiresAt, LastUsedAt, RevokedAt, ReplacedBy, GraceUntil);

    public AccessPrincipal ToPrincipal() => new(Id, Name, Roles, AgentIds);
}
