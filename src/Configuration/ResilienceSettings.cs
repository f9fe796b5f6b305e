using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace NoOrg.Configuration;

/// <summary>Retry, timeout, circuit breaker and bulkhead for outbound calls; defaults plus per-destination overrides.</summary>
[SettingsArea("NOORG_RESILIENCE", "Resilience of outbound calls")]
public sealed class ResilienceSettings
{
    [Setting("RETRY_ATTEMPTS", "retries after a failed outbound call (0 turns retries off)")]
    [Range(0, 10)]
    public int RetryAttempts { get; set; } = 3;

    [Setting("RETRY_BASE_DELAY_MS", "first retry delay; later ones grow exponentially with jitter")]
    [Range(1, 60_000)]
    public int RetryBaseDelayMs { get; set; } = 200;

    [Setting("ATTEMPT_TIMEOUT_SECONDS", "timeout of one attempt")]
    [Range(1, 600)]
    public int AttemptTimeoutSeconds { get; set; } = 10;

    [Setting("TOTAL_TIMEOUT_SECONDS", "timeout of a call including all its retries")]
    [Range(1, 3600)]
    public int TotalTimeoutSeconds { get; set; } = 60;

    [Setting("BREAKER_FAILURE_RATIO", "share of failed calls within the sampling window that opens the circuit")]
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Setting("BREAKER_MIN_THROUGHPUT", "calls needed in the sampling window before the circuit may open")]
    [Range(2, 100_000)]
    public int BreakerMinThroughput { get; set; } = 10;

    [Setting("BREAKER_SAMPLING_SECONDS", "window over which the failure ratio is measured")]
    [Range(1, 3600)]
    public int BreakerSamplingSeconds { get; set; } = 30;

    [Setting("BREAKER_BREAK_SECONDS", "how long an open circuit rejects calls before it lets one trial call through")]
    [Range(1, 3600)]
    public int BreakerBreakSeconds { get; set; } = 30;

    [Setting("MAX_CONCURRENCY", "bulkhead: calls to one destination in flight at once, per silo")]
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = 32;

    [Setting("QUEUE_LIMIT", "bulkhead: calls waiting for a free slot before further ones are rejected")]
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = 64;

    [Setting("DESTINATIONS", "per-destination overrides: name:key=value,...;name:... with keys retries, baseDelayMs, attemptTimeoutSeconds, totalTimeoutSeconds, failureRatio, minThroughput, samplingSeconds, breakSeconds, maxConcurrency, queueLimit")]
    public string Destinations { get; set; } = "";

    /// <summary>The profile of <paramref name="destination"/>: the defaults with its overrides applied.</summary>
    public ResilienceProfile For(string destination)
    {
        var profile = Defaults;
        foreach (var (name, pairs) in ParseDestinations(Destinations, errors: null))
        {
            if (string.Equals(name, destination, StringComparison.OrdinalIgnoreCase))
            {
                foreach (var (key, value) in pairs)
                {
                    profile = Apply(profile, key, value) ?? profile;
                }
            }
        }

        return profile;
    }

    public ResilienceProfile Defaults => new(RetryAttempts, TimeSpan.FromMilliseconds(RetryBaseDelayMs), TimeSpan.FromSeconds(AttemptTimeoutSeconds),
        TimeSpan.FromSeconds(TotalTimeoutSeconds), BreakerFailureRatio, BreakerMinThroughput, TimeSpan.FromSeconds(BreakerSamplingSeconds),
        TimeSpan.FromSeconds(BreakerBreakSeconds), MaxConcurrency, QueueLimit);

    internal IEnumerable<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        foreach (var (name, pairs) in ParseDestinations(Destinations, errors))
        {
            var profile = Defaults;
            foreach (var (key, value) in pairs)
            {
                if (Apply(profile, key, value) is { } applied)
                {
                    profile = applied;
                }
                else
                {
                    errors.Add(new SettingError("NOORG_RESILIENCE_DESTINATIONS", Destinations, $"destination '{name}': '{key}={value}' is not a known key with a valid value"));
                }
            }

            if (profile.AttemptTimeout > profile.TotalTimeout)
            {
                errors.Add(new SettingError("NOORG_RESILIENCE_DESTINATIONS", Destinations, $"destination '{name}': the attempt timeout exceeds the total timeout"));
            }
        }

        if (AttemptTimeoutSeconds > TotalTimeoutSeconds)
        {
            errors.Add(new SettingError("NOORG_RESILIENCE_ATTEMPT_TIMEOUT_SECONDS", AttemptTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                "must not exceed NOORG_RESILIENCE_TOTAL_TIMEOUT_SECONDS"));
        }

        return errors;
    }

    private static List<(string Name, List<(string Key, string Value)> Pairs)> ParseDestinations(string text, List<SettingError>? errors)
    {
        var result = new List<(string, List<(string, string)>)>();
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // The settings follow the last colon, so a name may hold colons of its own (webhook:host:port).
            var colon = part.LastIndexOf(':');
            if (colon <= 0)
            {
                errors?.Add(new SettingError("NOORG_RESILIENCE_DESTINATIONS", text, $"'{part}' must look like name:key=value,key=value"));
                continue;
            }

            var pairs = new List<(string, string)>();
            foreach (var pair in part[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    errors?.Add(new SettingError("NOORG_RESILIENCE_DESTINATIONS", text, $"'{pair}' must look like key=value"));
                    continue;
                }

                pairs.Add((pair[..equals].Trim(), pair[(equals + 1)..].Trim()));
            }

            result.Add((part[..colon].Trim(), pairs));
        }

        return result;
    }

    private static ResilienceProfile? Apply(ResilienceProfile p, string key, string value)
    {
        var isInt = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n);
        var isDouble = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);
        return key.ToLowerInvariant() switch
        {
            "retries" when isInt && n is >= 0 and <= 10 => p with { RetryAttempts = n },
            "basedelayms" when isInt && n is >= 1 and <= 60_000 => p with { RetryBaseDelay = TimeSpan.FromMilliseconds(n) },
            "attempttimeoutseconds" when isInt && n is >= 1 and <= 600 => p with { AttemptTimeout = TimeSpan.FromSeconds(n) },
            "totaltimeoutseconds" when isInt && n is >= 1 and <= 3600 => p with { TotalTimeout = TimeSpan.FromSeconds(n) },
            "failureratio" when isDouble && d is >= 0.01 and <= 1.0 => p with { BreakerFailureRatio = d },
            "minthroughput" when isInt && n is >= 2 and <= 100_000 => p with { BreakerMinThroughput = n },
            "samplingseconds" when isInt && n is >= 1 and <= 3600 => p with { BreakerSamplingDuration = TimeSpan.FromSeconds(n) },
            "breakseconds" when isInt && n is >= 1 and <= 3600 => p with { BreakerBreakDuration = TimeSpan.FromSeconds(n) },
            "maxconcurrency" when isInt && n is >= 1 and <= 10_000 => p with { MaxConcurrency = n },
            "queuelimit" when isInt && n is >= 0 and <= 100_000 => p with { QueueLimit = n },
            _ => null,
        };
    }
}

/// <summary>The resilience settings that apply to one destination.</summary>
public sealed record ResilienceProfile(
    int RetryAttempts,
    TimeSpan RetryBaseDelay,
    TimeSpan AttemptTimeout,
    TimeSpan TotalTimeout,
    double BreakerFailureRatio,
    int BreakerMinThroughput,
    TimeSpan BreakerSamplingDuration,
    TimeSpan BreakerBreakDuration,
    int MaxConcurrency,
    int QueueLimit);
