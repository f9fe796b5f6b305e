namespace NoOrg.Storage;

/// <summary>The Orleans ADO.NET providers a silo uses; each needs its own queries in the OrleansQuery table.</summary>
[Flags]
public enum OrleansFeatures
{
    None = 0,

    /// <summary>Grain state: <c>AddAdoNetGrainStorage</c>.</summary>
    Persistence = 1,

    /// <summary>Reminders: <c>UseAdoNetReminderService</c>.</summary>
    Reminders = 2,

    /// <summary>Membership and the client gateway list: <c>UseAdoNetClustering</c>.</summary>
    Clustering = 4,

    All = Persistence | Reminders | Clustering,
}
