namespace NoOrg.Grains.Errors;

/// <summary>
/// NoOrg's one vocabulary of error codes: what <see cref="NoOrgException.Code"/> carries, what the HTTP API puts in a
/// problem document's <c>code</c> (and <c>type</c>, as <c>urn:noorg:error:{code}</c>), and what the CLI prints.
/// </summary>
public static class ErrorCodes
{
    /// <summary>A <see cref="NoOrgException"/> raised without a more precise kind.</summary>
    public const string Unspecified = "noorg.error";

    public const string Validation = "validation";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not-found";
    public const string MethodNotAllowed = "method-not-allowed";
    public const string Conflict = "conflict";
    public const string InvalidTransition = "invalid-transition";
    public const string TooLarge = "too-large";
    public const string UnsupportedMediaType = "unsupported-media-type";
    public const string RateLimited = "rate-limited";
    public const string Internal = "internal";
    public const string Unavailable = "unavailable";
    public const string WatchGap = "watch-gap";

    /// <summary>Every code above.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Unspecified, Validation, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict, InvalidTransition, TooLarge,
        UnsupportedMediaType, RateLimited, Internal, Unavailable, WatchGap,
    ];
}
