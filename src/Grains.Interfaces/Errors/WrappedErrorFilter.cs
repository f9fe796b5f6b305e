using Orleans.Serialization.Invocation;

namespace NoOrg.Grains.Errors;

/// <summary>
/// Hands a caller the NoOrg error itself where Orleans wrapped it: a failure to load or store grain state reaches the
/// caller inside an <see cref="OrleansException"/> ("Error from storage provider ..."), also when it made the grain's
/// activation fail. Registered on every client (<c>UseNoOrg</c>) and every silo, so a caller can catch
/// <see cref="UnavailableException"/> and the client's retry filter sees it as retryable.
/// </summary>
public sealed class WrappedErrorFilter : IOutgoingGrainCallFilter
{
    /// <summary>The NoOrg error inside Orleans' wrappers of <paramref name="exception"/>, or the exception itself.</summary>
    public static Exception Unwrap(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        for (var current = exception; current is OrleansException; current = current.InnerException)
        {
            if (current.InnerException is NoOrgException inner)
            {
                return inner;
            }
        }

        return exception;
    }

    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await context.Invoke();
        }
        catch (OrleansException e) when (Unwrap(e) is NoOrgException wrapped)
        {
            throw wrapped; // a rejected call (its activation failed) throws; an answered one carries its error in Response
        }

        if (context.Response?.Exception is { } failure && Unwrap(failure) is var unwrapped && !ReferenceEquals(unwrapped, failure))
        {
            context.Response = Response.FromException(unwrapped);
        }
    }
}
