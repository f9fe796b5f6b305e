using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace NoOrg.Configuration.Security;

/// <summary>
/// JWT signing keys from files, one key a file, its name (without extension) its key id (<c>kid</c>): a PEM RSA or
/// EC key (public for the silo, private for <c>noorg auth token</c>; RS256, ES256/384/512), or any other text of at
/// least 32 bytes as an HMAC secret (HS256).
/// </summary>
public static class JwtKeyFiles
{
    public const int MinimumSecretBytes = 32;

    /// <summary>The claim that lists an agent token's agent ids (a string or an array).</summary>
    public const string AgentsClaim = "agents";

    /// <summary>Reads the key in <paramref name="path"/>; a clear <see cref="InvalidDataException"/> when it is not one.</summary>
    public static SecurityKey Load(string path)
    {
        var text = File.ReadAllText(path).Trim();
        var id = Path.GetFileNameWithoutExtension(path);
        if (!text.StartsWith("-----BEGIN ", StringComparison.Ordinal))
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            return bytes.Length >= MinimumSecretBytes
                ? new SymmetricSecurityKey(bytes) { KeyId = id }
                : throw new InvalidDataException($"{path}: an HMAC secret needs at least {MinimumSecretBytes} bytes (got {bytes.Length}), or give a PEM RSA or EC key");
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(text);
            return new RsaSecurityKey(rsa) { KeyId = id };
        }
        catch (ArgumentException)
        {
            try
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(text);
                return new ECDsaSecurityKey(ec) { KeyId = id };
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{path}: not a PEM RSA or EC key ({e.Message})", e);
            }
        }
    }

    /// <summary>Like <see cref="Load"/>, with what went wrong (an unreadable file, not a key) as <paramref name="problem"/>.</summary>
    public static bool TryLoad(string path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SecurityKey? key, out string problem)
    {
        try
        {
            key = Load(path);
            problem = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or CryptographicException)
        {
            key = null;
            problem = e.Message;
            return false;
        }
    }

    /// <summary>The signing algorithm for a key: HS256, RS256, or ES256/384/512 by curve size.</summary>
    public static string Algorithm(SecurityKey key) => key switch
    {
        SymmetricSecurityKey => SecurityAlgorithms.HmacSha256,
        RsaSecurityKey => SecurityAlgorithms.RsaSha256,
        ECDsaSecurityKey { KeySize: 384 } => SecurityAlgorithms.EcdsaSha384,
        ECDsaSecurityKey { KeySize: 521 } => SecurityAlgorithms.EcdsaSha512,
        ECDsaSecurityKey => SecurityAlgorithms.EcdsaSha256,
        _ => throw new InvalidDataException($"unsupported key type {key?.GetType().Name}"),
    };

    /// <summary>
    /// A signed token for <paramref name="subject"/> with <c>roles</c> and <c>agents</c> claims, valid from
    /// <paramref name="notBefore"/> to <paramref name="expires"/> (what <c>noorg auth token</c> prints).
    /// </summary>
    public static string Mint(SecurityKey key, string issuer, string audience, string subject, IReadOnlyList<string> roles,
        IReadOnlyList<string> agents, DateTime notBefore, DateTime expires)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(agents);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { ["sub"] = subject, ["roles"] = roles.ToArray() };
        if (agents.Count > 0)
        {
            claims[AgentsClaim] = agents.ToArray();
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            NotBefore = notBefore,
            IssuedAt = notBefore < DateTime.UtcNow ? notBefore : DateTime.UtcNow,
            Expires = expires,
            SigningCredentials = new SigningCredentials(key, Algorithm(key)),
        });
    }

    /// <summary>The values of every claim of <paramref name="types"/> (a JSON array arrives as one claim per value).</summary>
    public static IEnumerable<string> Values(ClaimsPrincipal principal, params string[] types)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return types.SelectMany(principal.FindAll).SelectMany(c => c.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
