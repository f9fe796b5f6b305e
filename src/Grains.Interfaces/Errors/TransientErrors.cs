using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace NoOrg.Grains.Errors;

/// <summary>
/// The failures that say the cluster or its storage was briefly unable to take a call, not that the call was wrong:
/// a rejected message, a timeout, a silo that died or could not be reached, storage that failed. Retrying the same
/// call later can succeed. One list for the client's retry filter, the HTTP API's "unavailable" answer and the
/// dispatcher's log level.
/// </summary>
public static class TransientErrors
{
    /// <summary>Whether <paramref name="exception"/> (unwrapped from Orleans' wrappers) is transient.</summary>
    public static bool IsTransient(Exception? exception) => exception is not null && WrappedErrorFilter.Unwrap(exception) is
        OrleansMessageRejectionException or TimeoutException or SiloUnavailableException or ConnectionFailedException
        or UnavailableException;
}
