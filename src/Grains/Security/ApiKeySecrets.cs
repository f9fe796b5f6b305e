using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace NoOrg.Grains.Security;

/// <summary>
/// How a stored API key is written and checked. A key is <c>noorg_{id}_{secret}</c> with 256 random bits of secret;
/// what is stored is HMAC-SHA256 under the pepper of (a 16-byte random salt, the secret). A slow KDF (PBKDF2) protects
/// guessable passwords; these secrets are random and as long as the hash, so a fast keyed hash is as strong against an
/// offline search and keeps every request's check at microseconds. The pepper, outside the database, means a stolen
/// copy of the state cannot even be tested against a guess.
/// </summary>
public static class ApiKeySecrets
{
    public const string Prefix = "noorg_";
    private const int SecretBytes = 32;
    private const int SaltBytes = 16;

    public static string NewId() => "k" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    public static byte[] NewSalt() => RandomNumberGenerator.GetBytes(SaltBytes);

    public static string Format(string id, string secret) => $"{Prefix}{id}_{secret}";

    /// <summary>The id and secret of a presented key of NoOrg's format, or false for anything else.</summary>
    public static bool TryParse(string presented, out string id, out string secret)
    {
        id = secret = "";
        if (presented is null || !presented.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = presented.AsSpan(Prefix.Length);
        var separator = rest.IndexOf('_');
        if (separator <= 0 || separator == rest.Length - 1)
        {
            return false;
        }

        id = rest[..separator].ToString();
        secret = rest[(separator + 1)..].ToString();
        return true;
    }

    public static byte[] Hash(string pepper, byte[] salt, string secret)
    {
        ArgumentNullException.ThrowIfNull(salt);
        var secretBytes = Encoding.UTF8.GetBytes(secret ?? "");
        var data = new byte[salt.Length + secretBytes.Length];
        salt.CopyTo(data, 0);
        secretBytes.CopyTo(data, salt.Length);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(pepper ?? ""), data);
    }

    public static bool Matches(string pepper, byte[] salt, byte[] hash, string secret) =>
        CryptographicOperations.FixedTimeEquals(Hash(pepper, salt, secret), hash);
}
