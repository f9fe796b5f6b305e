namespace NoOrg.Client.Ai;

/// <summary>Why a model call or an AI task failed; <see cref="Code"/> is one of <see cref="LlmErrorCodes"/>.</summary>
public sealed class LlmException : Exception
{
    public LlmException() { }

    public LlmException(string message) : base(message) { }

    public LlmException(string message, Exception innerException) : base(message, innerException) { }

    public LlmException(string code, string message, Exception? innerException = null) : base(message, innerException) => Code = code;

    public string Code { get; } = LlmErrorCodes.Provider;
}

/// <summary>The codes of <see cref="LlmException"/>, all in one place.</summary>
public static class LlmErrorCodes
{
    /// <summary>The provider failed the request (after the retries the governance allows).</summary>
    public const string Provider = "llm.provider";

    /// <summary>The breaker is open after repeated failures: the call was not sent.</summary>
    public const string CircuitOpen = "llm.circuit-open";

    /// <summary>The request timed out.</summary>
    public const string Timeout = "llm.timeout";

    /// <summary>The budget is spent: the call was not sent.</summary>
    public const string BudgetExhausted = "llm.budget-exhausted";

    /// <summary>The model declined to answer (a refusal or a content filter).</summary>
    public const string Refused = "llm.refused";

    /// <summary>The model's answer is not JSON or does not match the requested schema.</summary>
    public const string InvalidOutput = "llm.invalid-output";

    /// <summary>The task cannot be turned into a prompt: unknown type, or input the template needs is missing.</summary>
    public const string InvalidTask = "llm.invalid-task";
}
