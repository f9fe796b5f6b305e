namespace NoOrg.Grains.Errors;

/// <summary>
/// A failure the caller can act on. Each subtype has a stable <see cref="Code"/>; all cross the wire intact, so a
/// client catches the same type the grain threw.
/// </summary>
[GenerateSerializer, Alias("noorg.error")]
public class NoOrgException : Exception
{
    public NoOrgException() { }

    public NoOrgException(string message) : base(message) { }

    public NoOrgException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Every subtype passes its code through here, from each of its constructors, so no way of raising it loses the code.</summary>
    protected NoOrgException(string code, string? message, Exception? innerException = null) : base(message, innerException) => Code = code;

    /// <summary>One of <see cref="ErrorCodes"/>.</summary>
    [Id(0)] public string Code { get; private set; } = ErrorCodes.Unspecified;
}

/// <summary>
/// The request itself is wrong (a missing name, an input too large, an unknown dependency). Validators collect every
/// problem first: <see cref="Problems"/> lists them, each as "field: what is wrong and what is allowed".
/// </summary>
[GenerateSerializer, Alias("noorg.error.validation")]
public sealed class ValidationException : NoOrgException
{
    public ValidationException() : base(ErrorCodes.Validation, message: null) { }

    public ValidationException(string message) : base(ErrorCodes.Validation, message) { }

    public ValidationException(string message, Exception innerException) : base(ErrorCodes.Validation, message, innerException) { }

    /// <summary>"<paramref name="subject"/>: problem; problem." with the problems kept apart in <see cref="Problems"/>.</summary>
    public ValidationException(string subject, IReadOnlyList<string> problems)
        : base(ErrorCodes.Validation, $"{subject}: {string.Join("; ", problems ?? [])}.") => Problems = (problems ?? []).ToArray();

    /// <summary>Each problem as "field: message"; empty when the error was raised with a message only.</summary>
    [Id(0)] public IReadOnlyList<string> Problems { get; private set; } = [];
}

/// <summary>The agent or task does not exist.</summary>
[GenerateSerializer, Alias("noorg.error.not-found")]
public sealed class NotFoundException : NoOrgException
{
    public NotFoundException() : base(ErrorCodes.NotFound, message: null) { }

    public NotFoundException(string message) : base(ErrorCodes.NotFound, message) { }

    public NotFoundException(string message, Exception innerException) : base(ErrorCodes.NotFound, message, innerException) { }

    /// <summary>The one message for a task id that names nothing, wherever it is noticed (grain, client, HTTP API).</summary>
    public static NotFoundException ForTask(string id) => new($"Task '{id}' does not exist (never created, or removed by retention).");

    /// <summary>The one message for an agent id that names nothing.</summary>
    public static NotFoundException ForAgent(string id) => new($"Agent '{id}' is not registered.");

    /// <summary>The one message for a saga id that names nothing.</summary>
    public static NotFoundException ForSaga(string id) => new($"Saga '{id}' does not exist.");
}

/// <summary>The request contradicts what exists (same id or idempotency key with different content).</summary>
[GenerateSerializer, Alias("noorg.error.conflict")]
public sealed class ConflictException : NoOrgException
{
    public ConflictException() : base(ErrorCodes.Conflict, message: null) { }

    public ConflictException(string message) : base(ErrorCodes.Conflict, message) { }

    public ConflictException(string message, Exception innerException) : base(ErrorCodes.Conflict, message, innerException) { }
}

/// <summary>The transition is not allowed from the current state; nothing was changed.</summary>
[GenerateSerializer, Alias("noorg.error.invalid-transition")]
public sealed class InvalidTransitionException : NoOrgException
{
    public InvalidTransitionException() : base(ErrorCodes.InvalidTransition, message: null) { }

    public InvalidTransitionException(string message) : base(ErrorCodes.InvalidTransition, message) { }

    public InvalidTransitionException(string message, Exception innerException) : base(ErrorCodes.InvalidTransition, message, innerException) { }
}

/// <summary>A dependency (the database) could not answer; nothing was acknowledged, and the call may be retried.</summary>
[GenerateSerializer, Alias("noorg.error.unavailable")]
public sealed class UnavailableException : NoOrgException
{
    public UnavailableException() : base(ErrorCodes.Unavailable, message: null) { }

    public UnavailableException(string message) : base(ErrorCodes.Unavailable, message) { }

    public UnavailableException(string message, Exception innerException) : base(ErrorCodes.Unavailable, message, innerException) { }
}

/// <summary>
/// The call carries no credential, or one that is unknown, expired, revoked, rotated out or not valid (the message
/// says which). Not retried: the same credential would be refused again.
/// </summary>
[GenerateSerializer, Alias("noorg.error.unauthorized")]
public sealed class UnauthorizedException : NoOrgException
{
    public UnauthorizedException() : base(ErrorCodes.Unauthorized, message: null) { }

    public UnauthorizedException(string message) : base(ErrorCodes.Unauthorized, message) { }

    public UnauthorizedException(string message, Exception innerException) : base(ErrorCodes.Unauthorized, message, innerException) { }
}

/// <summary>The caller is known but its credential does not allow this operation (a role it lacks, another agent's work).</summary>
[GenerateSerializer, Alias("noorg.error.forbidden")]
public sealed class ForbiddenException : NoOrgException
{
    public ForbiddenException() : base(ErrorCodes.Forbidden, message: null) { }

    public ForbiddenException(string message) : base(ErrorCodes.Forbidden, message) { }

    public ForbiddenException(string message, Exception innerException) : base(ErrorCodes.Forbidden, message, innerException) { }
}

/// <summary>
/// The cluster failed with an error that has no NoOrg code and could not cross the wire as it was (a driver's or a
/// library's own exception type). <see cref="ErrorType"/> names the original type; the message is its message.
/// Not retried: nothing says a second attempt would fare better.
/// </summary>
[GenerateSerializer, Alias("noorg.error.internal")]
public sealed class InternalErrorException : NoOrgException
{
    public InternalErrorException() : base(ErrorCodes.Internal, message: null) { }

    public InternalErrorException(string message) : base(ErrorCodes.Internal, message) { }

    public InternalErrorException(string message, Exception innerException) : base(ErrorCodes.Internal, message, innerException) { }

    public InternalErrorException(string errorType, string message) : base(ErrorCodes.Internal, message) => ErrorType = errorType;

    /// <summary>The full name of the exception type that was replaced, e.g. <c>System.Text.Json.JsonException</c>.</summary>
    [Id(0)] public string ErrorType { get; private set; } = "";
}

/// <summary>
/// A watcher of every task, agent or saga may have missed changes: a hub moved or restarted, or the watcher fell
/// behind and its buffer overflowed. Watch again to go on from now, and read the index (list) for the current state.
/// </summary>
[GenerateSerializer, Alias("noorg.error.watch-gap")]
public sealed class WatchGapException : NoOrgException
{
    public WatchGapException() : base(ErrorCodes.WatchGap, message: null) { }

    public WatchGapException(string message) : base(ErrorCodes.WatchGap, message) { }

    public WatchGapException(string message, Exception innerException) : base(ErrorCodes.WatchGap, message, innerException) { }
}
