namespace NoOrg.Tests.Infrastructure;

/// <summary>A fact that needs a PostgreSQL server; skipped, with the reason, when NOORG_TEST_POSTGRES is not set.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabases.PostgresAvailable)
        {
            Skip = TestDatabases.PostgresSkipReason;
        }
    }
}
