using NoOrg.Grains.Security;
using Orleans.Runtime;

namespace NoOrg.Client;

/// <summary>
/// Presents the client's credential (<c>NOORG_SECURITY_CLIENT_CREDENTIAL</c>) on every grain call, unless the call
/// already carries one (<see cref="GrainCallCredential.Use"/>: an app acting for one of its own callers).
/// </summary>
internal sealed class CredentialFilter(string credential) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        // Async on purpose: the entry set here stays with this call and does not leak into the caller's flow.
        if (RequestContext.Get(GrainCallCredential.Key) is null)
        {
            RequestContext.Set(GrainCallCredential.Key, credential);
        }

        await context.Invoke();
    }
}
