using System.Data.Common;
using NoOrg.Storage;

namespace NoOrg.Grains;

/// <summary>
/// The database grain state and the read models live in, with the silo's one pool of connections to it: the Orleans
/// providers open theirs from <see cref="Source"/> too (see <see cref="StorageDataSources"/>).
/// </summary>
public sealed class IndexDatabase(StorageDialect dialect, string connectionString) : IAsyncDisposable, IDisposable
{
    public StorageDialect Dialect { get; } = dialect;

    public string ConnectionString { get; } = connectionString;

    public DbDataSource Source { get; } = StorageDataSources.Create(dialect, connectionString);

    /// <summary>An open connection from the pool.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
        await Source.OpenConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => Source.DisposeAsync();

    public void Dispose() => Source.Dispose();
}
