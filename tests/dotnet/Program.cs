// The official .NET SignalR client (Microsoft.AspNetCore.SignalR.Client + Protocols.MessagePack)
// against a running clickrace gateway, as a .NET app would use it: JSON and MessagePack, typed On<T>
// event handlers, WithAutomaticReconnect + WithStatefulReconnect, and a hosted client service that
// starts its connection once under a semaphore however many callers race.
// Usage: ClickraceDotnetClient <gateway base url> <hub url through the cuttable proxy>
//        <five login tokens, comma-separated: one player per scenario> <round ms>
// Driven by tests/interop/dotnet_client.test.mjs: for the blip scenarios it prints "BLIPS <name>" and
// waits for a line "DONE" on stdin (the driver cuts the proxy three times meanwhile).
// Prints "PASS <name>" / "FAIL <name>: <why>" per scenario and "N passed, N failed"; exit 0 iff all pass.
using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var baseUrl = args[0];
var proxyHubUrl = args[1];
var tokens = new Queue<string>(args[2].Split(','));
var roundMs = long.Parse(args[3]);
int passed = 0, failed = 0;

async Task Scenario(string name, Func<Task> body) {
  try {
    await body().WaitAsync(TimeSpan.FromSeconds(60));
    passed++;
    Console.WriteLine($"PASS {name}");
  } catch (Exception e) {
    failed++;
    Console.WriteLine($"FAIL {name}: {e.GetType().Name}: {e.Message}");
  }
}

HubConnection Build(string url, string token, bool messagepack, bool stateful = false) {
  var b = new HubConnectionBuilder()
      .WithUrl(url, o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
      .WithAutomaticReconnect(new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1),
                                      TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) })
      .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.None));
  if (stateful) b = b.WithStatefulReconnect();
  if (messagepack) b = b.AddMessagePackProtocol();
  return b.Build();
}

void Check(bool ok, string what) { if (!ok) throw new Exception(what); }

// Per round, one player's acknowledged totals are exactly 1..n: each click counted once.
void CheckCountedOnce(IEnumerable<ClickResult> results) {
  foreach (var g in results.GroupBy(r => r.round)) {
    var totals = g.Select(r => r.clicks).OrderBy(x => x).ToList();
    for (int i = 0; i < totals.Count; i++) {
      Check(totals[i] == i + 1, $"round {g.Key}: totals {string.Join(",", totals)}");
    }
  }
}

void CheckConsecutive(List<long> rounds) {
  for (int i = 1; i < rounds.Count; i++) {
    Check(rounds[i] == rounds[i - 1] + 1, $"RoundEnded sequence {string.Join(",", rounds)}");
  }
}

async Task Basic(bool messagepack) {
  await using var conn = Build($"{baseUrl}/hub", tokens.Dequeue(), messagepack, stateful: true);
  var ended = new ConcurrentQueue<RoundResult>();
  var started = new ConcurrentQueue<RoundStarted>();
  var boards = new ConcurrentQueue<Leaderboard>();
  conn.On<RoundResult>("RoundEnded", r => ended.Enqueue(r));
  conn.On<RoundStarted>("RoundStarted", r => started.Enqueue(r));
  conn.On<Leaderboard>("Leaderboard", r => boards.Enqueue(r));
  await conn.StartAsync();
  Check(conn.ConnectionId?.Length == 22, "a negotiated connection id");
  var results = new List<ClickResult>();
  for (int i = 0; i < 20; i++) results.Add(await conn.InvokeAsync<ClickResult>("Click"));
  CheckCountedOnce(results);
  var before = await conn.InvokeAsync<ClickResult>("Click");
  await conn.SendAsync("Click");
  var after = await conn.InvokeAsync<ClickResult>("Click");
  if (after.round == before.round) Check(after.clicks == before.clicks + 2, "a send is counted");
  var info = await conn.InvokeAsync<RoundInfo>("GetRound");
  Check(info.round > 0 && info.endsAt - info.startsAt == roundMs && info.serverTime > 1_700_000_000_000,
        $"GetRound {info.round} {info.startsAt}..{info.endsAt} at {info.serverTime}");
  Check(info.top != null, "GetRound top");
  try {
    await conn.InvokeAsync<object>("NoSuchMethod");
    Check(false, "unknown method accepted");
  } catch (HubException e) {
    Check(e.Message.Contains("Unknown hub method 'NoSuchMethod'"), e.Message);
  }
  var deadline = DateTime.UtcNow.AddSeconds(10);
  while ((!ended.Any(r => r.round >= before.round) || started.IsEmpty || boards.IsEmpty) &&
         DateTime.UtcNow < deadline) {
    await Task.Delay(50);
  }
  var end = ended.FirstOrDefault(r => r.round >= before.round);
  Check(end != null, "a typed RoundEnded");
  Check(end!.endedAt - end.startedAt == roundMs && end.winners != null && end.players >= 1 &&
        end.totalClicks >= end.winningClicks, $"RoundEnded values {end.round}");
  Check(!started.IsEmpty && started.First().endsAt - started.First().startsAt == roundMs, "a typed RoundStarted");
  Check(!boards.IsEmpty && boards.First().top != null, "a typed Leaderboard");
  await conn.StopAsync();
}

// Clicks until the driver says DONE (it cuts the connection three times meanwhile), in bursts so
// invocations are in flight across each cut.
async Task Blips(string name, bool messagepack) {
  await using var conn = Build(proxyHubUrl, tokens.Dequeue(), messagepack, stateful: true);
  var ended = new List<long>();
  int reconnecting = 0;
  conn.On<RoundResult>("RoundEnded", r => { lock (ended) ended.Add(r.round); });
  conn.Reconnecting += _ => { Interlocked.Increment(ref reconnecting); return Task.CompletedTask; };
  await conn.StartAsync();
  var id = conn.ConnectionId;
  var pending = new List<Task<ClickResult>>();
  Console.WriteLine($"BLIPS {name}");
  var done = Task.Run(() => Console.In.ReadLine());
  while (!done.IsCompleted) {
    for (int i = 0; i < 5; i++) pending.Add(conn.InvokeAsync<ClickResult>("Click"));
    await Task.Delay(100);
  }
  var results = await Task.WhenAll(pending);
  CheckCountedOnce(results);
  var last = results.Max(r => r.round);
  var deadline = DateTime.UtcNow.AddSeconds(10);
  while (DateTime.UtcNow < deadline) {
    lock (ended) if (ended.Contains(last)) break;
    await Task.Delay(50);
  }
  lock (ended) {
    Check(ended.Contains(last), $"RoundEnded {last} arrived");
    CheckConsecutive(ended);
  }
  Check(reconnecting == 0, $"the blips showed as reconnecting {reconnecting} times");
  Check(conn.ConnectionId == id && conn.State == HubConnectionState.Connected, "the same connection");
  Console.WriteLine($"clicks acknowledged across the blips: {results.Length}");
  await conn.StopAsync();
}

async Task Hosted() {
  var builder = Host.CreateApplicationBuilder();
  builder.Logging.ClearProviders();
  builder.Services.AddSingleton(new HubOptions2($"{baseUrl}/hub", tokens.Dequeue()));
  builder.Services.AddSingleton<ClickraceHubClient>();
  builder.Services.AddHostedService(sp => sp.GetRequiredService<ClickraceHubClient>());
  using var host = builder.Build();
  var client = host.Services.GetRequiredService<ClickraceHubClient>();
  // Callers race before the host has even started the service.
  var racing = Enumerable.Range(0, 50).Select(_ => Task.Run(() => client.ClickAsync())).ToList();
  await host.StartAsync();
  var results = await Task.WhenAll(racing);
  Check(client.Starts == 1, $"the connection was started {client.Starts} times");
  CheckCountedOnce(results);
  Check(results.Length == 50, "every caller got its click acknowledged");
  await host.StopAsync();
}

await Scenario("json: typed handlers, invoke/send, errors", () => Basic(false));
await Scenario("messagepack: typed handlers, invoke/send, errors", () => Basic(true));
await Scenario("hosted service: one start under a semaphore, 50 racing callers", Hosted);
await Scenario("json: stateful reconnect over three blips", () => Blips("json", false));
await Scenario("messagepack: stateful reconnect over three blips", () => Blips("messagepack", true));
Console.WriteLine($"{passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

// ---- typed payloads: property names as on the wire (camelCase JSON, MessagePack map keys) ----
#pragma warning disable IDE1006
public sealed class ClickResult { public long round { get; set; } public long clicks { get; set; } }
public sealed class TopEntry { public string name { get; set; } = ""; public long clicks { get; set; } }
public sealed class RoundInfo {
  public long round { get; set; } public long startsAt { get; set; } public long endsAt { get; set; }
  public long serverTime { get; set; } public long myClicks { get; set; } public List<TopEntry>? top { get; set; }
}
public sealed class RoundStarted {
  public long round { get; set; } public long startsAt { get; set; } public long endsAt { get; set; }
  public long serverTime { get; set; }
}
public sealed class RoundResult {
  public long round { get; set; } public long startedAt { get; set; } public long endedAt { get; set; }
  public List<string>? winners { get; set; } public long winningClicks { get; set; }
  public long totalClicks { get; set; } public long players { get; set; }
}
public sealed class Leaderboard {
  public long round { get; set; } public long remainingMs { get; set; } public long totalClicks { get; set; }
  public List<TopEntry>? top { get; set; }
}
#pragma warning restore IDE1006

public sealed record HubOptions2(string Url, string Token);

// The pattern .NET worker services use: one HubConnection owned by a hosted service; any caller may
// need it before StartAsync ran or while it reconnects, so starting is idempotent under a semaphore.
public sealed class ClickraceHubClient : IHostedService, IAsyncDisposable {
  private readonly HubConnection _conn;
  private readonly SemaphoreSlim _startLock = new(1, 1);
  private int _starts;
  public int Starts => _starts;

  public ClickraceHubClient(HubOptions2 options) {
    _conn = new HubConnectionBuilder()
        .WithUrl(options.Url, o => o.AccessTokenProvider = () => Task.FromResult<string?>(options.Token))
        .WithAutomaticReconnect()
        .WithStatefulReconnect()
        .AddMessagePackProtocol()
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.None))
        .Build();
    _conn.On<RoundResult>("RoundEnded", _ => { });
  }

  public Task StartAsync(CancellationToken ct) => EnsureStartedAsync(ct);

  public async Task EnsureStartedAsync(CancellationToken ct = default) {
    if (_conn.State == HubConnectionState.Connected) return;
    await _startLock.WaitAsync(ct);
    try {
      if (_conn.State == HubConnectionState.Disconnected) {
        Interlocked.Increment(ref _starts);
        await _conn.StartAsync(ct);
      }
    } finally {
      _startLock.Release();
    }
  }

  public async Task<ClickResult> ClickAsync() {
    await EnsureStartedAsync();
    return await _conn.InvokeAsync<ClickResult>("Click");
  }

  public Task StopAsync(CancellationToken ct) => _conn.StopAsync(ct);
  public ValueTask DisposeAsync() => _conn.DisposeAsync();
}
