using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using StackExchange.Redis;

namespace PeerAspnet;

public record Credentials(string Name, string Password);

public sealed class PasswordHasher(int iterations)
{
    public string Hash(string password)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        byte[] hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"{iterations}.{Convert.ToBase64String(salt)}.{Convert.ToBase64String(hash)}";
    }

    public static bool Verify(string password, string stored)
    {
        var parts = stored.Split('.');
        if (parts.Length != 3) return false;
        byte[] expected = Convert.FromBase64String(parts[2]);
        byte[] actual = Rfc2898DeriveBytes.Pbkdf2(password, Convert.FromBase64String(parts[1]),
            int.Parse(parts[0]), HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}

public sealed class TokenIssuer(SymmetricSecurityKey key)
{
    private readonly JsonWebTokenHandler _handler = new();

    public string Issue(string name) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Subject = new ClaimsIdentity([new Claim("name", name)]),
        Expires = DateTime.UtcNow.AddHours(12),
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
    });
}

// The same account API as clickrace's gateway (POST /api/accounts, POST /api/sessions), so the
// same load generator logs in to either.
public static class Accounts
{
    public static void Map(WebApplication app)
    {
        app.MapPost("/api/accounts", async (Credentials c, IConnectionMultiplexer redis, PasswordHasher hasher) =>
        {
            if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 24 || (c.Password ?? "").Length < 8)
                return Results.BadRequest(new { error = "bad name or password" });
            bool created = await redis.GetDatabase()
                .HashSetAsync($"peer:user:{c.Name.ToLowerInvariant()}", "hash", hasher.Hash(c.Password!), When.NotExists);
            return created ? Results.Created($"/api/accounts/{c.Name}", new { name = c.Name })
                           : Results.Conflict(new { error = "name taken" });
        });
        app.MapPost("/api/sessions", async (Credentials c, IConnectionMultiplexer redis, TokenIssuer tokens) =>
        {
            var stored = await redis.GetDatabase().HashGetAsync($"peer:user:{(c.Name ?? "").ToLowerInvariant()}", "hash");
            if (stored.IsNullOrEmpty || !PasswordHasher.Verify(c.Password ?? "", stored!))
                return Results.Unauthorized();
            return Results.Ok(new { token = tokens.Issue(c.Name!) });
        });
    }
}
