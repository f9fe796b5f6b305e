using System.Data.Common;
using NoOrg.Storage;

namespace NoOrg.Grains.Errors;

/// <summary>
/// What an exception becomes before it crosses the wire: a storage failure is <see cref="UnavailableException"/>
/// (retryable), a NoOrg error stays as it is, and any other error whose type (or an inner one) has no Orleans codec
/// becomes <see cref="InternalErrorException"/> naming the original type. Driver exception types never reach a client.
/// </summary>
internal static class WireErrors
{
    /// <summary>A database driver failure anywhere in the chain, or NoOrg's own storage failure.</summary>
    public static bool IsStorageFailure(Exception exception) =>
        Chain(exception).Any(e => e is DbException or StorageException);

    public static UnavailableException Unavailable(string operation, Exception exception)
    {
        var cause = Chain(exception).FirstOrDefault(e => e is DbException or StorageException) ?? exception;
        return new UnavailableException(
            $"{operation}: the database did not answer ({cause.GetType().Name}: {cause.Message}). Nothing was acknowledged; retry the call.");
    }

    /// <summary>The exception to send instead of <paramref name="exception"/>, or null when it can cross as it is.</summary>
    public static Exception? Replacement(string operation, Exception exception, Func<Type, bool> canSerialize)
    {
        if (exception is NoOrgException)
        {
            return null;
        }

        if (WrappedErrorFilter.Unwrap(exception) is NoOrgException wrapped)
        {
            return wrapped;
        }

        if (IsStorageFailure(exception))
        {
            return Unavailable(operation, exception);
        }

        if (Chain(exception).All(e => canSerialize(e.GetType())))
        {
            return null;
        }

        var type = exception.GetType().FullName ?? exception.GetType().Name;
        return new InternalErrorException(type, $"{operation} failed: {type}: {exception.Message}");
    }

    /// <summary>The exception and every inner one (all of an aggregate's), depth first.</summary>
    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>();
        pending.Push(exception);
        while (pending.TryPop(out var current))
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
