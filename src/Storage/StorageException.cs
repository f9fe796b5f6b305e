namespace NoOrg.Storage;

/// <summary>Anything that keeps NoOrg's database from being usable; the message says what to do about it.</summary>
public abstract class StorageException : Exception
{
    protected StorageException(string code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>A stable, machine-readable reason, e.g. <c>storage.migration_failed</c>.</summary>
    public string Code { get; }

    /// <summary>A driver's message as a sentence, so that advice can follow it.</summary>
    internal static string AsSentence(string? message)
    {
        var text = (message ?? "").Trim();
        return text.Length == 0 || text.EndsWith('.') || text.EndsWith('!') || text.EndsWith('?') ? text : text + ".";
    }
}
