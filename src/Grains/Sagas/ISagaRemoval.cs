namespace NoOrg.Grains.Sagas;

/// <summary>Silo-internal: retention removes a finished saga through its coordinator, so no activation keeps a removed saga.</summary>
[Alias("noorg.sagas.removal")]
public interface ISagaRemoval : IGrainWithStringKey
{
    /// <summary>
    /// Removes the saga whole (state, log, step and compensation states, index row) in one transaction; false, and
    /// nothing removed, when it is not finished or still has events to deliver.
    /// </summary>
    [Alias("remove")] Task<bool> RemoveAsync();
}

/// <summary>Silo-internal: a step or compensation grain of a removed saga drops what it holds in memory.</summary>
[Alias("noorg.sagas.action-removal")]
public interface ISagaActionRemoval : IGrainWithStringKey
{
    [Alias("forget")] Task ForgetAsync();
}
