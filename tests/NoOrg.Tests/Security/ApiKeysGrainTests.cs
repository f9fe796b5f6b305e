using System.Globalization;
using NoOrg.Grains.Errors;
using NoOrg.Grains.Security;
using NoOrg.Storage;
using NoOrg.Tests.Infrastructure;

namespace NoOrg.Tests.Security;

/// <summary>The API keys grain on each database: keys survive deactivation, secrets are never stored, refusals say why.</summary>
public abstract class ApiKeysGrainTests(ClusterFixture fixture)
{
    private IApiKeysGrain Keys => fixture.Client.GetGrain<IApiKeysGrain>(IApiKeysGrain.Key);

    [SkippableFact]
    public async Task A_created_key_verifies_after_deactivation_and_its_secret_is_stored_only_as_a_hash()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var created = await Keys.CreateAsync(new ApiKeySpec("worker-eu", [AccessRole.Agent], ["agent-eu-1"]));
        Assert.StartsWith(ApiKeySecrets.Prefix + created.Key.Id + "_", created.Secret, StringComparison.Ordinal);

        await fixture.Cluster.DeactivateAsync(Keys);

        var verdict = await Keys.VerifyAsync(created.Secret);
        Assert.Equal(ApiKeyRefusal.None, verdict.Refusal);
        Assert.Equal(created.Key.Id, verdict.Principal!.Id);
        Assert.Equal([AccessRole.Agent], verdict.Principal.Roles);
        Assert.Equal(["agent-eu-1"], verdict.Principal.AgentIds);
        Assert.NotNull((await Keys.ListAsync()).Single(k => k.Id == created.Key.Id).LastUsedAt);

        ApiKeySecrets.TryParse(created.Secret, out _, out var secret);
        Assert.True(await StoredRowsContainingAsync(created.Key.Id) > 0, "the key's record is in the grain state table");
        Assert.Equal(0, await StoredRowsContainingAsync(secret));
    }

    [SkippableFact]
    public async Task A_wrong_secret_for_a_known_id_is_unknown()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var created = await Keys.CreateAsync(new ApiKeySpec("reader", [AccessRole.Reader], []));

        var verdict = await Keys.VerifyAsync(ApiKeySecrets.Format(created.Key.Id, ApiKeySecrets.NewSecret()));

        Assert.Null(verdict.Principal);
        Assert.Equal(ApiKeyRefusal.Unknown, verdict.Refusal);
    }

    [SkippableFact]
    public async Task Revoked_and_rotated_out_keys_are_refused_after_deactivation_and_the_replacement_works()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var revoked = await Keys.CreateAsync(new ApiKeySpec("to revoke", [AccessRole.Operator], []));
        var rotated = await Keys.CreateAsync(new ApiKeySpec("to rotate", [AccessRole.Operator], []));
        await Keys.RevokeAsync(revoked.Key.Id);
        var replacement = await Keys.RotateAsync(rotated.Key.Id, TimeSpan.Zero);

        await fixture.Cluster.DeactivateAsync(Keys);

        Assert.Equal(ApiKeyRefusal.Revoked, (await Keys.VerifyAsync(revoked.Secret)).Refusal);
        Assert.Equal(ApiKeyRefusal.RotatedOut, (await Keys.VerifyAsync(rotated.Secret)).Refusal);
        Assert.Equal("to rotate", (await Keys.VerifyAsync(replacement.Secret)).Principal?.Name);
        var old = (await Keys.ListAsync()).Single(k => k.Id == rotated.Key.Id);
        Assert.Equal(replacement.Key.Id, old.ReplacedBy);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => Keys.RotateAsync(rotated.Key.Id, TimeSpan.Zero));
    }

    [SkippableFact]
    public async Task Invalid_keys_are_refused_with_every_problem_and_nothing_is_stored()
    {
        Skip.If(fixture.Cluster is null, ClusterDatabases.SkipReason(fixture.Provider));
        var before = (await Keys.ListAsync()).Count;

        var error = await Assert.ThrowsAsync<ValidationException>(() =>
            Keys.CreateAsync(new ApiKeySpec(" ", [AccessRole.Agent], [], DateTimeOffset.UtcNow.AddMinutes(-1))));

        Assert.Contains(error.Problems, p => p.StartsWith("name:", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("agentIds:", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("expiresAt:", StringComparison.Ordinal));
        await Assert.ThrowsAsync<ValidationException>(() => Keys.CreateAsync(new ApiKeySpec("reader", [AccessRole.Reader], ["agent-1"])));
        await Assert.ThrowsAsync<NotFoundException>(() => Keys.RevokeAsync("k000000000000"));
        Assert.Equal(before, (await Keys.ListAsync()).Count);
    }

    private async Task<long> StoredRowsContainingAsync(string text)
    {
        var dialect = fixture.Provider.ToDialect();
        await using var connection = await StorageConnections.OpenAsync(dialect, fixture.Properties["NOORG_STORAGE_CONNECTION_STRING"], CancellationToken.None);
        await using var command = connection.CreateCommand(null, "SELECT COUNT(*) FROM orleans_grain_state WHERE CAST(payload AS TEXT) LIKE @text");
        command.AddParameter("@text", "%" + text + "%");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

[Collection(SqliteCluster.Name)]
public sealed class SqliteApiKeysGrainTests(SqliteClusterFixture fixture) : ApiKeysGrainTests(fixture);

[Collection(PostgresCluster.Name)]
public sealed class PostgresApiKeysGrainTests(PostgresClusterFixture fixture) : ApiKeysGrainTests(fixture);

public sealed class ApiKeySecretsTests
{
    [Fact]
    public void A_secret_matches_only_its_own_salt_hash_and_pepper()
    {
        var secret = ApiKeySecrets.NewSecret();
        var salt = ApiKeySecrets.NewSalt();
        var hash = ApiKeySecrets.Hash("pepper-one", salt, secret);

        Assert.True(ApiKeySecrets.Matches("pepper-one", salt, hash, secret));
        Assert.False(ApiKeySecrets.Matches("pepper-two", salt, hash, secret));
        Assert.False(ApiKeySecrets.Matches("pepper-one", ApiKeySecrets.NewSalt(), hash, secret));
        Assert.False(ApiKeySecrets.Matches("pepper-one", salt, hash, ApiKeySecrets.NewSecret()));
    }

    [Theory]
    [InlineData("noorg_kabc_secret", true, "kabc", "secret")]
    [InlineData("noorg_kabc_sec_ret-", true, "kabc", "sec_ret-")]
    [InlineData("noorg__secret", false, "", "")]
    [InlineData("noorg_kabc_", false, "", "")]
    [InlineData("bearer-anything", false, "", "")]
    public void Keys_of_noorg_format_parse_into_id_and_secret(string presented, bool parses, string id, string secret)
    {
        Assert.Equal(parses, ApiKeySecrets.TryParse(presented, out var parsedId, out var parsedSecret));
        Assert.Equal(parses ? id : "", parses ? parsedId : "");
        Assert.Equal(parses ? secret : "", parses ? parsedSecret : "");
    }
}
