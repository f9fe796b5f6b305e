using System.Data.Common;
using NoOrg.Storage;

namespace NoOrg.Grains.Errors;

/// <summary>
/// Database driver exceptions cannot cross the wire (their types have no Orleans codec), so a caller would see a
/// serialization failure instead of the cause. This filter turns them into <see cref="UnavailableException"/>.
/// </summary>
internal sealed class StorageErrorFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (e is DbException or StorageException || e.InnerException is DbException)
        {
            throw new UnavailableException($"{context.InterfaceName}.{context.MethodName}: the database did not answer: {e.Message}");
        }
    }
}
