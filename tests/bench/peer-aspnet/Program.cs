// The ASP.NET Core SignalR peer (see PeerAspnet.csproj). Configuration from the environment:
//   PEER_REDIS (127.0.0.1:6379)  PEER_PORT (0 = any free port; Kestrel logs "Now listening on")
//   PEER_ROUND_MS (10000)  PEER_TOKEN_KEY (>= 32 bytes)  PEER_PBKDF2_ITERATIONS (100000)
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using PeerAspnet;
using StackExchange.Redis;

var builder = WebApplication.CreateBuilder(args);
string redisConfig = Environment.GetEnvironmentVariable("PEER_REDIS") ?? "127.0.0.1:6379";
string port = Environment.GetEnvironmentVariable("PEER_PORT") ?? "0";
long roundMs = long.Parse(Environment.GetEnvironmentVariable("PEER_ROUND_MS") ?? "10000");
var signingKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(
    Environment.GetEnvironmentVariable("PEER_TOKEN_KEY") ?? "peer-aspnet-bench-signing-key-0123456789"));

builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redisConfig));
builder.Services.AddSingleton(new RoundClock(roundMs));
builder.Services.AddSingleton(new TokenIssuer(signingKey));
builder.Services.AddSingleton(new PasswordHasher(
    int.Parse(Environment.GetEnvironmentVariable("PEER_PBKDF2_ITERATIONS") ?? "100000")));
builder.Services.AddHostedService<RoundCloser>();

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
    .AddJwtBearer(options =>
    {
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = false,
            ValidateAudience = false,
            IssuerSigningKey = signingKey,
            NameClaimType = "name",
        };
        // Browsers cannot set headers on WebSockets: the token comes as access_token (docs).
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                var token = context.Request.Query["access_token"];
                if (!string.IsNullOrEmpty(token) && context.HttpContext.Request.Path.StartsWithSegments("/hub"))
                    context.Token = token;
                return Task.CompletedTask;
            },
        };
    });
builder.Services.AddAuthorization();
builder.Services.AddSignalR()
    .AddStackExchangeRedis(redisConfig, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("peer"));

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
Accounts.Map(app);
app.MapHub<GameHub>("/hub");
app.Run();
