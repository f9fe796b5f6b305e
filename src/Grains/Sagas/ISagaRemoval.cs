namespace NoOrg.Grains.Sagas;

/// <summary>
/// Silo-internal: retention removes a finished saga through its coordinator, so no activation keeps a removed saga,
/// and times out abandoned compensation scopes that have no reminder of their own.
/// </summary>
[Alias("noorg.sagas.removal")]
public interface ISagaRemoval : IGrainWithStringKey
{
    /// <summary>
    /// Removes the saga whole (state, log, step and compensation states, index row) in one transaction; false, and
    /// nothing removed, when it is not finished or still has events to deliver.
    /// </summary>
    [Alias("remove")] Task<bool> RemoveAsync();

    /// <summary>
    /// An open scope untouched for NOORG_SAGAS_SCOPE_TIMEOUT_SECONDS is aborted (true); one still within it has its
    /// time-out reminder armed (false), as have scopes opened before scopes armed one. Anything else: false, no change.
    /// </summary>
    [Alias("expire-scope")] Task<bool> ExpireIfAbandonedAsync();
}

/// <summary>Silo-internal: a step or compensation grain of a removed saga drops what it holds in memory.</summary>
[Alias("noorg.sagas.action-removal")]
public interface ISagaActionRemoval : IGrainWithStringKey
{
    [Alias("forget")] Task ForgetAsync();
}
