namespace NoOrg.Storage;

/// <summary>One query an Orleans provider loads from the OrleansQuery table at start.</summary>
public sealed record OrleansQueryRequirement(string Key, OrleansFeatures Feature)
{
    /// <summary>The provider that fails to start without this query, as a reader would look for it.</summary>
    public string Provider => Feature switch
    {
        OrleansFeatures.Persistence => "grain storage (AddAdoNetGrainStorage)",
        OrleansFeatures.Reminders => "reminders (UseAdoNetReminderService)",
        OrleansFeatures.Clustering => "clustering (UseAdoNetClustering, silos and clients)",
        _ => Feature.ToString(),
    };
}

/// <summary>
/// The query keys each Orleans 10 ADO.NET provider reads from OrleansQuery: the one list the start-up check,
/// the migrations' tests and the documentation rely on.
/// </summary>
public static class OrleansQueryKeys
{
    public static IReadOnlyList<OrleansQueryRequirement> All { get; } =
    [
        new("ReadFromStorageKey", OrleansFeatures.Persistence),
        new("WriteToStorageKey", OrleansFeatures.Persistence),
        new("ClearStorageKey", OrleansFeatures.Persistence),
        // Only read with AdoNetGrainStorageOptions.DeleteStateOnClear, but ours always provide it.
        new("DeleteStorageKey", OrleansFeatures.Persistence),

        new("ReadReminderRowsKey", OrleansFeatures.Reminders),
        new("ReadReminderRowKey", OrleansFeatures.Reminders),
        new("ReadRangeRows1Key", OrleansFeatures.Reminders),
        new("ReadRangeRows2Key", OrleansFeatures.Reminders),
        new("UpsertReminderRowKey", OrleansFeatures.Reminders),
        new("DeleteReminderRowKey", OrleansFeatures.Reminders),
        new("DeleteReminderRowsKey", OrleansFeatures.Reminders),

        new("InsertMembershipVersionKey", OrleansFeatures.Clustering),
        new("MembershipReadAllKey", OrleansFeatures.Clustering),
        new("MembershipReadRowKey", OrleansFeatures.Clustering),
        new("InsertMembershipKey", OrleansFeatures.Clustering),
        new("UpdateMembershipKey", OrleansFeatures.Clustering),
        new("UpdateIAmAlivetimeKey", OrleansFeatures.Clustering),
        new("GatewaysQueryKey", OrleansFeatures.Clustering),
        new("CleanupDefunctSiloEntriesKey", OrleansFeatures.Clustering),
        new("DeleteMembershipTableEntriesKey", OrleansFeatures.Clustering),
    ];

    /// <summary>The queries the providers behind <paramref name="features"/> need, in table order.</summary>
    public static IReadOnlyList<OrleansQueryRequirement> For(OrleansFeatures features) =>
        All.Where(q => (features & q.Feature) != 0).ToList();
}
