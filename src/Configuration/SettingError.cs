namespace NoOrg.Configuration;

/// <summary>One problem with one configuration key: what was given and what is allowed.</summary>
public sealed record SettingError(string Key, string? Value, string Problem)
{
    public override string ToString() =>
        Value is null ? $"{Key}: {Problem}" : $"{Key}='{Value}': {Problem}";
}

/// <summary>Every configuration problem found at start-up, reported together.</summary>
public sealed class ConfigurationValidationException(IReadOnlyList<SettingError> errors)
    : Exception(Describe(errors))
{
    public IReadOnlyList<SettingError> Errors { get; } = errors;

    private static string Describe(IReadOnlyList<SettingError> errors) =>
        $"NoOrg configuration is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):"
        + string.Concat(errors.Select(e => $"{Environment.NewLine}  - {e}"));
}
