using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace PeerAspnet;

public record ClickResult(long Round, long Clicks);
public record PlayerScore(string Name, long Clicks);
public record RoundInfo(long Round, long StartsAt, long EndsAt, long ServerTime, long MyClicks, PlayerScore[] Top);
public record RoundResult(long Round, long StartedAt, long EndedAt, string[] Winners, long WinningClicks,
                          long TotalClicks, long Players);

// Rounds are fixed slices of the Unix clock: round k covers [k·len, (k+1)·len).
public sealed class RoundClock(long roundMs)
{
    public long RoundMs => roundMs;
    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    public long Current => Now / roundMs;
    public long StartOf(long round) => round * roundMs;
    public long EndOf(long round) => (round + 1) * roundMs;
    public static RedisKey Scores(long round) => $"peer:round:{round}:scores";
    public static RedisKey Result(long round) => $"peer:round:{round}:result";
}

[Authorize]
public sealed class GameHub(IConnectionMultiplexer redis, RoundClock clock) : Hub
{
    public async Task<ClickResult> Click()
    {
        long round = clock.Current;
        double total = await redis.GetDatabase()
            .SortedSetIncrementAsync(RoundClock.Scores(round), Context.User!.Identity!.Name!, 1);
        return new ClickResult(round, (long)total);
    }

    public async Task<RoundInfo> GetRound()
    {
        long round = clock.Current;
        var db = redis.GetDatabase();
        var mine = db.SortedSetScoreAsync(RoundClock.Scores(round), Context.User!.Identity!.Name!);
        var top = db.SortedSetRangeByRankWithScoresAsync(RoundClock.Scores(round), 0, 9, Order.Descending);
        await Task.WhenAll(mine, top);
        return new RoundInfo(round, clock.StartOf(round), clock.EndOf(round), RoundClock.Now,
            (long)(mine.Result ?? 0), top.Result.Select(e => new PlayerScore(e.Element!, (long)e.Score)).ToArray());
    }
}

// Closes each round at its end and announces it to every client through IHubContext (the Redis
// backplane carries it to the other instances). SET NX on the result: one announcement per round
// however many instances run.
public sealed class RoundCloser(IConnectionMultiplexer redis, RoundClock clock, IHubContext<GameHub> hub,
                                ILogger<RoundCloser> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            long round = clock.Current;
            long wait = clock.EndOf(round) - RoundClock.Now;
            if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait), stoppingToken);
            try
            {
                await Close(round, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "closing round {Round} failed", round);
            }
        }
    }

    private async Task Close(long round, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var scores = await db.SortedSetRangeByRankWithScoresAsync(RoundClock.Scores(round), 0, -1, Order.Descending);
        long best = scores.Length > 0 ? (long)scores[0].Score : 0;
        var result = new RoundResult(round, clock.StartOf(round), clock.EndOf(round),
            scores.TakeWhile(s => (long)s.Score == best && best > 0).Select(s => s.Element.ToString()).ToArray(),
            best, scores.Sum(s => (long)s.Score), scores.Length);
        bool first = await db.StringSetAsync(RoundClock.Result(round),
            System.Text.Json.JsonSerializer.Serialize(result), TimeSpan.FromDays(3), When.NotExists);
        await db.KeyExpireAsync(RoundClock.Scores(round), TimeSpan.FromDays(3));
        if (first) await hub.Clients.All.SendAsync("RoundEnded", result, ct);
    }
}
