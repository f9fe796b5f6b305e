using System.CommandLine;
using NoOrg.Configuration.Security;

namespace NoOrg.Cli.Commands;

/// <summary><c>noorg auth token</c>: a JWT for development and tests, signed with a local key file.</summary>
internal static class AuthCommands
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    public static Command Create() => new("auth", "Credentials for the HTTP API") { Token() };

    private static Command Token()
    {
        var key = new Option<string>("--key") { Description = "Key file to sign with: an HMAC secret (32+ bytes) or a PEM RSA/EC private key; its name is the kid", Required = true };
        var subject = new Option<string>("--subject") { Description = "Who the token is for (sub; recorded as jwt:SUBJECT in histories)", Required = true };
        var roles = KeysCommands.RolesOption();
        var agents = new Option<string[]>("--agent") { Description = "Agent id an agent token acts for (repeatable)", AllowMultipleArgumentsPerToken = true };
        var lifetime = new Option<TimeSpan>("--lifetime") { Description = "How long the token is valid, as hh:mm:ss", DefaultValueFactory = _ => DefaultLifetime };
        var issuer = new Option<string?>("--issuer") { Description = "iss (default: NOORG_SECURITY_JWT_ISSUER)" };
        var audience = new Option<string?>("--audience") { Description = "aud (default: NOORG_SECURITY_JWT_AUDIENCE)" };
        var command = new Command("token", "Print a signed JWT for the HTTP API (development: production tokens come from your identity provider)")
        {
            key, subject, roles, agents, lifetime, issuer, audience,
        };
        command.SetAction(CliContext.Run((parse, settings, _) =>
        {
            var iss = parse.GetValue(issuer) ?? settings.Security.JwtIssuer;
            var aud = parse.GetValue(audience) ?? settings.Security.JwtAudience;
            if (iss.Length == 0 || aud.Length == 0 || parse.GetValue(lifetime) <= TimeSpan.Zero)
            {
                throw new CliInputException("give --issuer and --audience (or set NOORG_SECURITY_JWT_ISSUER and NOORG_SECURITY_JWT_AUDIENCE) and a positive --lifetime");
            }

            if (!JwtKeyFiles.TryLoad(parse.GetValue(key)!, out var signing, out var problem))
            {
                throw new CliInputException($"--key: {problem}");
            }

            var now = DateTime.UtcNow;
            var token = JwtKeyFiles.Mint(signing, iss, aud, parse.GetValue(subject)!,
                [.. parse.GetValue(roles)!.Select(r => r.ToString().ToLowerInvariant())], parse.GetValue(agents) ?? [], now, now + parse.GetValue(lifetime));
            CliContext.Write(parse, new { token, expires = now + parse.GetValue(lifetime) }, t => Console.Out.WriteLine(t.token));
            return Task.FromResult(CliContext.Ok);
        }));
        return command;
    }
}
