using NoOrg.Configuration;
using NoOrg.Grains.Errors;

namespace NoOrg.Grains.Security;

/// <summary>
/// Creates, lists, revokes, rotates and verifies the cluster's API keys (see <see cref="ApiKeySecrets"/> for how a
/// secret is kept). Every change is written before it is answered; a failed write leaves the state as it was.
/// </summary>
public sealed class ApiKeysGrain(
    [PersistentState("noorg.security.api-keys", StorageNames.Default)] IPersistentState<ApiKeysState> state,
    NoOrgSettings settings,
    TimeProvider clock) : Grain, IApiKeysGrain
{
    internal const int MaxKeys = 1000;
    internal const int MaxNameLength = 100;
    internal const int MaxAgentIds = 100;
    internal const int MaxAgentIdLength = 200;
    internal static readonly TimeSpan MaxGrace = TimeSpan.FromDays(30);

    /// <summary>Last-used times are kept to this precision, so a busy key does not write on every request.</summary>
    internal static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    private string Pepper => settings.Security.ApiKeyPepper;

    public async Task<ApiKeyCreated> CreateAsync(ApiKeySpec spec)
    {
        var now = clock.GetUtcNow();
        Validate(spec, now);
        var (stored, secret) = NewKey(spec.Name, spec.Roles, spec.AgentIds, spec.ExpiresAt, now);
        await WriteAsync(state.State with { Keys = [.. state.State.Keys, stored] });
        return new ApiKeyCreated(stored.ToInfo(), ApiKeySecrets.Format(stored.Id, secret));
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<ApiKeyInfo>>([.. state.State.Keys.OrderBy(k => k.CreatedAt).Select(k => k.ToInfo())]);

    public async Task<ApiKeyInfo> RevokeAsync(string id)
    {
        var key = Find(id);
        if (key.RevokedAt is not null)
        {
            return key.ToInfo();
        }

        var revoked = key with { RevokedAt = clock.GetUtcNow() };
        await WriteAsync(Replace(revoked));
        return revoked.ToInfo();
    }

    public async Task<ApiKeyCreated> RotateAsync(string id, TimeSpan grace)
    {
        if (grace < TimeSpan.Zero || grace > MaxGrace)
        {
            throw new ValidationException("API key cannot be rotated", [$"grace: 0 to {MaxGrace.TotalDays} days (got {grace})"]);
        }

        var now = clock.GetUtcNow();
        var old = Find(id);
        if (old.ReplacedBy is not null || old.RefusalAt(now) != ApiKeyRefusal.None)
        {
            throw new InvalidTransitionException(
                $"API key '{id}' cannot be rotated: it is {(old.ReplacedBy is not null ? $"already rotated to '{old.ReplacedBy}'" : old.RefusalAt(now).ToString().ToLowerInvariant())}.");
        }

        var (stored, secret) = NewKey(old.Name, old.Roles, old.AgentIds, old.ExpiresAt, now);
        var retiring = old with { ReplacedBy = stored.Id, GraceUntil = now + grace };
        var next = Replace(retiring);
        await WriteAsync(next with { Keys = [.. next.Keys, stored] });
        return new ApiKeyCreated(stored.ToInfo(), ApiKeySecrets.Format(stored.Id, secret));
    }

    public async Task<ApiKeyVerdict> VerifyAsync(string presented)
    {
        if (!ApiKeySecrets.TryParse(presented, out var id, out var secret)
            || state.State.Keys.FirstOrDefault(k => string.Equals(k.Id, id, StringComparison.Ordinal)) is not { } key
            || !ApiKeySecrets.Matches(Pepper, key.Salt, key.Hash, secret))
        {
            return new ApiKeyVerdict(null, ApiKeyRefusal.Unknown);
        }

        var now = clock.GetUtcNow();
        var refusal = key.RefusalAt(now);
        if (refusal != ApiKeyRefusal.None)
        {
            return new ApiKeyVerdict(null, refusal);
        }

        if (key.LastUsedAt is not { } last || now - last >= LastUsedPrecision)
        {
            try
            {
                await WriteAsync(Replace(key with { LastUsedAt = now }));
            }
            catch (UnavailableException)
            {
                // The last-used time is a hint; a database that does not answer must not refuse a valid key.
            }
        }

        return new ApiKeyVerdict(key.ToPrincipal(), ApiKeyRefusal.None);
    }

    private (StoredApiKey Key, string Secret) NewKey(
        string name, IReadOnlyList<AccessRole> roles, IReadOnlyList<string> agentIds, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var secret = ApiKeySecrets.NewSecret();
        var salt = ApiKeySecrets.NewSalt();
        var key = new StoredApiKey(ApiKeySecrets.NewId(), name.Trim(), [.. roles.Distinct()], [.. agentIds.Distinct(StringComparer.Ordinal)],
            salt, ApiKeySecrets.Hash(Pepper, salt, secret), now, expiresAt, null, null, null, null);
        return (key, secret);
    }

    private void Validate(ApiKeySpec spec, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(spec.Name) || spec.Name.Length > MaxNameLength || spec.Name.Any(char.IsControl))
        {
            problems.Add($"name: 1 to {MaxNameLength} characters, not blank, no control characters");
        }

        var roles = spec.Roles ?? [];
        var agents = spec.AgentIds ?? [];
        if (roles.Count == 0 || roles.Any(r => !Enum.IsDefined(r)))
        {
            problems.Add("roles: one or more of admin, operator, agent, reader");
        }

        if (roles.Contains(AccessRole.Agent) && agents.Count == 0)
        {
            problems.Add("agentIds: an agent key is bound to one or more agent ids");
        }

        if (!roles.Contains(AccessRole.Agent) && agents.Count > 0)
        {
            problems.Add("agentIds: only an agent key is bound to agent ids (add the agent role or leave them out)");
        }

        if (agents.Count > MaxAgentIds || agents.Any(a => string.IsNullOrWhiteSpace(a) || a.Length > MaxAgentIdLength))
        {
            problems.Add($"agentIds: at most {MaxAgentIds}, each 1 to {MaxAgentIdLength} characters");
        }

        if (spec.ExpiresAt is { } expires && expires <= now)
        {
            problems.Add($"expiresAt: must be in the future (got {expires:O})");
        }

        if (state.State.Keys.Count >= MaxKeys)
        {
            problems.Add($"keys: at most {MaxKeys} are kept; revoked ones count too");
        }

        if (problems.Count > 0)
        {
            throw new ValidationException("API key cannot be created", problems);
        }
    }

    private StoredApiKey Find(string id) =>
        state.State.Keys.FirstOrDefault(k => string.Equals(k.Id, id, StringComparison.Ordinal))
        ?? throw new NotFoundException($"API key '{id}' does not exist (see: noorg keys list).");

    private ApiKeysState Replace(StoredApiKey key) =>
        state.State with { Keys = [.. state.State.Keys.Select(k => string.Equals(k.Id, key.Id, StringComparison.Ordinal) ? key : k)] };

    private async Task WriteAsync(ApiKeysState next)
    {
        var before = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = before;
            throw;
        }
    }
}
