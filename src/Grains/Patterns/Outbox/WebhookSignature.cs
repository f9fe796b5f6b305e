using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NoOrg.Grains.Patterns.Outbox;

/// <summary>
/// The signature of a webhook request: <c>NoOrg-Signature: v1=HEX(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>
/// with <c>NoOrg-Timestamp</c> in Unix seconds. Receivers recompute it and compare in constant time, and should
/// refuse old timestamps (replays).
/// </summary>
public static class WebhookSignature
{
    public const string MessageIdHeader = "NoOrg-Message-Id";
    public const string EventTypeHeader = "NoOrg-Event";
    public const string TimestampHeader = "NoOrg-Timestamp";
    public const string SignatureHeader = "NoOrg-Signature";
    private const string Version = "v1=";

    public static string Sign(string secret, long timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(body);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body));
        return Version + Convert.ToHexStringLower(mac);
    }

    public static bool Verify(string secret, string timestamp, string body, string signature)
    {
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || signature is null)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, seconds, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    /// <summary>A random secret: 32 bytes, hex.</summary>
    public static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
}
