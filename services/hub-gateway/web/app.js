/* clickrace game page. Plain JS, no build step; uses the official @microsoft/signalr browser bundle
 * (vendor/signalr.min.js, copied from npm at build time).
 *
 * Stable hooks for browser tests (each element has the id and a data-testid of the same name):
 *   Auth (visible when signed out):  #auth, #auth-form, #name, #password, #login (submit),
 *                                    #register, #auth-error (text of the last auth failure)
 *   Header:   #conn-state  text and data-state = "connecting" | "connected" | "reconnecting" | "offline"
 *             #user-box, #me (signed-in name), #logout
 *   Game (visible when signed in):   #game
 *             #round        "Round <id>"; data-round = <id> (empty before the first round is known)
 *             #countdown    seconds left as "12.3"; data-remaining-ms = integer ms left (server clock)
 *             #total-clicks all clicks in the round so far (from Leaderboard); data-total
 *             #click        the big button (pointer, touch, Space/Enter anywhere on the page)
 *             #my-clicks    my clicks this round, from Click()'s returned total; data-round
 *             #toast        transient notices (e.g. the rate limit); data-kind = "error" | "info"
 *             #offline-box, #reconnect   shown when the connection gave up
 *             #leaderboard  <li data-testid="leaderboard-row" data-name data-clicks>, class "me" for me
 *             #result       last RoundEnded; data-round, data-won = "true" | "false"
 *               #result-round, #winners (<li data-testid="winner" data-name>), #winning-clicks,
 *               #more-winners ("+N more" when winnerCount > winners.length), #you-won,
 *               #result-players, #result-empty (a round with no clicks)
 *             #recent       GET /api/rounds?limit=10, <li data-testid="recent-row" data-round>
 * localStorage key "clickrace.session" = {"token","name","expiresAt"} (epoch ms).
 */
(function () {
  "use strict";

  var SESSION_KEY = "clickrace.session";
  var RECENT_LIMIT = 10;
  var MAX_IN_FLIGHT = 64; // clicks awaiting an answer; beyond this we are only feeding the rate limiter
  var GIVE_UP_AFTER_MS = 5 * 60 * 1000; // automatic reconnect stops after this; the user can retry

  var $ = function (id) { return document.getElementById(id); };
  var el = {
    auth: $("auth"), authForm: $("auth-form"), name: $("name"), password: $("password"),
    login: $("login"), register: $("register"), authError: $("auth-error"),
    conn: $("conn-state"), userBox: $("user-box"), me: $("me"), logout: $("logout"),
    game: $("game"), round: $("round"), countdown: $("countdown"), countdownUnit: $("countdown-unit"), progress: $("progress-bar"),
    total: $("total-clicks"), click: $("click"), clickFx: $("click-fx"), myClicks: $("my-clicks"),
    toast: $("toast"), offlineBox: $("offline-box"), reconnect: $("reconnect"),
    offlineReason: $("offline-reason"),
    board: $("leaderboard"), boardEmpty: $("leaderboard-empty"),
    result: $("result"), resultRound: $("result-round"), winners: $("winners"),
    moreWinners: $("more-winners"), winningClicks: $("winning-clicks"), youWon: $("you-won"),
    resultPlayers: $("result-players"), resultEmpty: $("result-empty"), resultBody: $("result-body"),
    recent: $("recent"), recentEmpty: $("recent-empty")
  };

  // ---- state -------------------------------------------------------------------------------
  var session = null;      // {token, name, expiresAt}
  var conn = null;         // signalR.HubConnection
  var connGen = 0;         // bumps on every new connection, so stale callbacks are ignored
  var retryTimer = null;   // first-start retries (the client only auto-reconnects after a success)
  var expiryTimer = null;
  var clockOffset = 0;     // server time - local time, ms
  var bestRtt = Infinity;  // the GetRound sample with the smallest round trip sets the offset
  var round = null;        // {round, startsAt, endsAt}
  var myClicks = {};       // round id -> my highest acknowledged total
  var inFlight = 0;
  var authRejected = false; // a reconnect attempt got 401: the token is no longer accepted
  var syncing = null;       // the GetRound in flight, so bursts of triggers make one call
  var toastTimer = null;

  // ---- small helpers -----------------------------------------------------------------------
  function serverNow() { return Date.now() + clockOffset; }
  function sameName(a, b) { return String(a).toLowerCase() === String(b).toLowerCase(); }
  function fmtInt(n) { return Number(n || 0).toLocaleString("en-US"); }
  function plural(n, one, many) { return fmtInt(n) + " " + (n === 1 ? one : many); }

  function setConn(state, label, reason) {
    el.offlineReason.textContent = reason || "Connection lost.";
    el.reconnect.textContent = reason ? "Play here" : "Reconnect";
    el.conn.dataset.state = state;
    el.conn.textContent = label || state;
    el.offlineBox.hidden = !(state === "offline" && session);
    el.click.disabled = false; // stays clickable: clicks while offline give a notice instead
    document.body.dataset.conn = state;
  }

  function showToast(text, kind) {
    el.toast.textContent = text;
    el.toast.dataset.kind = kind || "info";
    el.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.toast.hidden = true; }, 2500);
  }

  function is401(err) {
    if (!err) return false;
    if (err.statusCode === 401) return true;
    return /Status code '401'|\b401\b|Unauthorized/i.test(String(err.message || err));
  }

  // ---- session -----------------------------------------------------------------------------
  function loadSession() {
    try {
      var s = JSON.parse(localStorage.getItem(SESSION_KEY) || "null");
      if (s && typeof s.token === "string" && typeof s.name === "string" &&
          typeof s.expiresAt === "number" && s.expiresAt > Date.now() + 5000) {
        return s;
      }
    } catch (e) { /* corrupt entry: treat as signed out */ }
    localStorage.removeItem(SESSION_KEY);
    return null;
  }

  function saveSession(s) {
    session = { token: s.token, name: s.name, expiresAt: Number(s.expiresAt) };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  }

  function sessionExpired() { return !session || session.expiresAt <= Date.now(); }

  async function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    var res = await fetch(path, opts);
    var data = null;
    try { data = await res.json(); } catch (e) { /* empty or non-JSON body */ }
    return { status: res.status, ok: res.ok, data: data };
  }

  function authError(text) {
    el.authError.textContent = text;
    el.authError.hidden = !text;
  }

  function validateForm() {
    var name = el.name.value.trim();
    var password = el.password.value;
    if (!/^[A-Za-z0-9_-]{3,24}$/.test(name)) {
      authError("Names are 3–24 letters, digits, _ or -.");
      el.name.focus();
      return null;
    }
    if (password.length < 8 || password.length > 128) {
      authError("Passwords are 8–128 characters.");
      el.password.focus();
      return null;
    }
    return { name: name, password: password };
  }

  function setAuthBusy(busy) {
    el.login.disabled = busy;
    el.register.disabled = busy;
    el.authForm.setAttribute("aria-busy", busy ? "true" : "false");
  }

  async function logIn(creds) {
    var r = await api("POST", "/api/sessions", creds);
    if (r.status === 200 && r.data && r.data.token) {
      saveSession(r.data);
      el.password.value = "";
      authError("");
      enterGame();
      return;
    }
    if (r.status === 401) authError("Wrong name or password.");
    else if (r.status === 429) authError("Too many attempts. Wait a moment and try again.");
    else authError((r.data && r.data.error) || "Could not log in (HTTP " + r.status + ").");
  }

  async function onLogin(ev) {
    ev.preventDefault();
    var creds = validateForm();
    if (!creds) return;
    setAuthBusy(true);
    try { await logIn(creds); }
    catch (e) { authError("The server is unreachable. Try again in a moment."); }
    finally { setAuthBusy(false); }
  }

  async function onRegister() {
    var creds = validateForm();
    if (!creds) return;
    setAuthBusy(true);
    try {
      var r = await api("POST", "/api/accounts", creds);
      if (r.status === 201) { await logIn(creds); return; }
      if (r.status === 409) authError("That name is taken. Pick another or log in.");
      else authError((r.data && r.data.error) || "Could not create the account (HTTP " + r.status + ").");
    } catch (e) {
      authError("The server is unreachable. Try again in a moment.");
    } finally {
      setAuthBusy(false);
    }
  }

  function showAuth(message) {
    stopConnection();
    session = null;
    localStorage.removeItem(SESSION_KEY);
    clearTimeout(expiryTimer);
    el.game.hidden = true;
    el.userBox.hidden = true;
    document.body.classList.remove("signed-in");
    el.auth.hidden = false;
    authError(message || "");
    setConn("offline");
  }

  function enterGame() {
    el.auth.hidden = true;
    el.game.hidden = false;
    document.body.classList.add("signed-in");
    el.userBox.hidden = false;
    el.me.textContent = session.name;
    el.name.value = session.name;
    armExpiry();
    refreshRecent();
    startConnection();
  }

  function armExpiry() {
    clearTimeout(expiryTimer);
    if (!session) return;
    // setTimeout overflows above 2^31 ms; re-check daily for very long-lived tokens.
    var left = Math.min(session.expiresAt - Date.now(), 86400000);
    expiryTimer = setTimeout(function () {
      if (sessionExpired()) showAuth("Your session expired. Please log in again.");
      else armExpiry();
    }, Math.max(left, 0));
  }

  // ---- hub connection ----------------------------------------------------------------------
  function buildConnection() {
    return new signalR.HubConnectionBuilder()
      .withUrl("/hub", { accessTokenFactory: function () { return session ? session.token : ""; } })
      // A blip (a phone losing its network for a moment) resumes the same connection: nothing
      // shows, and no RoundEnded or click completion sent meanwhile is lost. If the gateway can no
      // longer resume it, the client falls back to the automatic reconnect below.
      .withStatefulReconnect()
      .withAutomaticReconnect({
        nextRetryDelayInMilliseconds: function (ctx) {
          // A token that has expired will never be accepted again: stop and ask for a login.
          if (is401(ctx.retryReason)) authRejected = true;
          if (sessionExpired() || authRejected) return null;
          if (ctx.elapsedMilliseconds > GIVE_UP_AFTER_MS) return null;
          var delays = [0, 1000, 2000, 5000];
          var base = ctx.previousRetryCount < delays.length ? delays[ctx.previousRetryCount] : 10000;
          return base + Math.floor(Math.random() * 500); // jitter: gateways restart together
        }
      })
      .configureLogging(signalR.LogLevel.Warning)
      .build();
  }

  function startConnection() {
    stopConnection();
    var gen = ++connGen;
    authRejected = false;
    var c = buildConnection();
    conn = c;

    c.on("RoundStarted", function (d) { if (gen === connGen) onRoundStarted(d); });
    c.on("Leaderboard", function (d) { if (gen === connGen) onLeaderboard(d); });
    c.on("RoundEnded", function (d) { if (gen === connGen) onRoundEnded(d); });

    c.onreconnecting(function () {
      if (gen !== connGen) return;
      setConn("reconnecting", "reconnecting…");
    });
    c.onreconnected(function () {
      if (gen !== connGen) return;
      setConn("connected");
      syncRound();
      // A new connection (the stateful one could not be resumed): results announced while we
      // were away are caught up from /api/rounds, the newest one shown as the last result.
      refreshRecent(true);
    });
    c.onclose(function (err) {
      if (gen !== connGen) return;
      if (authRejected || is401(err) || sessionExpired()) { showAuth("Your session expired. Please log in again."); return; }
      // The server closed us for a newer connection of the same account (the per-account cap):
      // say so, and reconnect only when the player asks (which closes the other tab in turn).
      var m = err && /newer connection elsewhere \(at most (\d+) at once\)/.exec(err.message || "");
      if (m) {
        setConn("offline", "closed", "This tab was closed: your account is playing in another tab or device " +
          "(at most " + m[1] + " at once).");
        return;
      }
      setConn("offline");
    });

    setConn("connecting", "connecting…");
    connectWithRetry(c, gen, 0);
  }

  function connectWithRetry(c, gen, attempt) {
    c.start().then(function () {
      if (gen !== connGen) return;
      setConn("connected");
      syncRound();
    }).catch(function (err) {
      if (gen !== connGen) return;
      if (is401(err)) { showAuth("Your session expired. Please log in again."); return; }
      // The client does not retry a failed first start() by itself.
      var delay = Math.min(1000 * Math.pow(2, attempt), 15000) + Math.floor(Math.random() * 500);
      setConn("offline", "offline – retrying");
      retryTimer = setTimeout(function () { connectWithRetry(c, gen, attempt + 1); }, delay);
    });
  }

  function stopConnection() {
    connGen++;
    clearTimeout(retryTimer);
    if (conn) { var c = conn; conn = null; c.stop().catch(function () {}); }
    inFlight = 0;
  }

  function connected() {
    return conn && conn.state === signalR.HubConnectionState.Connected;
  }

  // ---- round state -------------------------------------------------------------------------
  function sampleOffset(serverTime, sentAt, receivedAt) {
    if (typeof serverTime !== "number") return;
    var rtt = receivedAt - sentAt;
    // Prefer the lowest-latency sample; a one-way event (rtt unknown) only fills in when we have none.
    if (rtt <= bestRtt || bestRtt === Infinity) {
      bestRtt = rtt;
      clockOffset = serverTime - (sentAt + receivedAt) / 2;
    }
  }

  function setRound(d) {
    if (!d || typeof d.round !== "number") return;
    var changed = !round || round.round !== d.round;
    round = { round: d.round, startsAt: d.startsAt, endsAt: d.endsAt };
    shownTenths = null;
    el.round.textContent = "Round " + d.round;
    el.round.dataset.round = String(d.round);
    if (changed) {
      renderBoard({ round: d.round, totalClicks: 0, top: [] });
      renderMyClicks();
    }
  }

  function syncRound() {
    if (!syncing) syncing = doSyncRound().finally(function () { syncing = null; });
    return syncing;
  }

  async function doSyncRound() {
    var c = conn, gen = connGen;
    if (!c) return;
    var sent = Date.now();
    try {
      var d = await c.invoke("GetRound");
      if (gen !== connGen) return;
      sampleOffset(d.serverTime, sent, Date.now());
      setRound(d);
      if (typeof d.myClicks === "number") noteMyClicks(d.round, d.myClicks);
      renderBoard({ round: d.round, top: d.top || [] });
    } catch (e) {
      if (gen !== connGen) return;
      if (/no round/i.test(String(e.message))) {
        el.round.textContent = "Waiting for the first round…";
      }
    }
  }

  function onRoundStarted(d) {
    var now = Date.now();
    // A one-way sample: only use it before any GetRound round trip has measured the offset.
    if (bestRtt === Infinity && typeof d.serverTime === "number") clockOffset = d.serverTime - now;
    setRound(d);
  }

  function onLeaderboard(d) {
    if (!d || typeof d.round !== "number") return;
    if (!round || d.round > round.round) {
      // We missed the RoundStarted (e.g. during a reconnect): fetch the round's times.
      syncRound();
      return;
    }
    if (d.round !== round.round) return;
    renderBoard(d);
  }

  var lastResultRound = -1;
  function onRoundEnded(r) {
    if (!r || typeof r.round !== "number") return;
    lastResultRound = r.round;
    renderResult(r);
    refreshRecent();
  }

  function noteMyClicks(roundId, total) {
    if (!(myClicks[roundId] >= total)) myClicks[roundId] = total;
    // Keep the map small: only recent rounds matter.
    var ids = Object.keys(myClicks);
    if (ids.length > 8) ids.sort(function (a, b) { return a - b; }).slice(0, ids.length - 8)
      .forEach(function (k) { delete myClicks[k]; });
    if (!round || roundId > round.round) { syncRound(); return; }
    renderMyClicks();
  }

  function renderMyClicks() {
    var id = round ? round.round : null;
    var n = id !== null && myClicks[id] ? myClicks[id] : 0;
    el.myClicks.textContent = String(n); // plain digits: tests read it as a number
    el.myClicks.dataset.round = id === null ? "" : String(id);
  }

  // ---- clicking ----------------------------------------------------------------------------
  function doClick() {
    if (!session) return;
    pulse();
    if (!connected()) {
      showToast(conn && conn.state === signalR.HubConnectionState.Reconnecting
        ? "Reconnecting… clicks resume in a moment." : "Not connected.", "error");
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) { showToast("Whoa, slow down!", "error"); return; }
    inFlight++;
    var gen = connGen;
    conn.invoke("Click").then(function (r) {
      if (gen !== connGen) return;
      if (r && typeof r.round === "number" && typeof r.clicks === "number") noteMyClicks(r.round, r.clicks);
    }).catch(function (err) {
      if (gen !== connGen) return;
      var msg = String((err && err.message) || err);
      if (/rate/i.test(msg)) showToast("Too fast! Some clicks were not counted.", "error");
      else if (/no round/i.test(msg)) showToast("No round is running yet. Hang on…", "info");
      else if (/connection|closed|stopped/i.test(msg)) { /* the state pill already says it */ }
      else showToast(msg.replace(/^.*HubException:\s*/, "") || "Click failed.", "error");
    }).finally(function () {
      if (gen === connGen) inFlight = Math.max(0, inFlight - 1);
    });
  }

  function pulse() {
    el.click.classList.remove("hit");
    void el.click.offsetWidth; // restart the CSS animation
    el.click.classList.add("hit");
    var dot = document.createElement("span");
    dot.className = "plus-one";
    dot.textContent = "+1";
    dot.style.left = (35 + Math.random() * 30) + "%";
    el.clickFx.appendChild(dot);
    setTimeout(function () { dot.remove(); }, 650);
  }

  function isTypingTarget(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
                 t.isContentEditable);
  }

  function bindClickInput() {
    // pointerdown fires once per press for mouse, pen and each finger; no 300 ms delay, no double-fire
    // from the emulated mouse events that follow a touch (those arrive as `click`, ignored below).
    el.click.addEventListener("pointerdown", function (e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      e.preventDefault();
      doClick();
    });
    el.click.addEventListener("contextmenu", function (e) { e.preventDefault(); });
    var keyHeld = false;
    document.addEventListener("keydown", function (e) {
      if (el.game.hidden || isTypingTarget(e.target)) return;
      if (e.key !== " " && e.key !== "Enter" && e.key !== "Spacebar") return;
      // Other buttons keep their own keyboard activation.
      if (e.target && e.target.tagName === "BUTTON" && e.target !== el.click) return;
      e.preventDefault(); // no page scroll, no native button activation
      if (e.repeat) return; // holding the key is not clicking
      keyHeld = true;
      doClick();
    });
    document.addEventListener("keyup", function (e) {
      if ((e.key === " " || e.key === "Spacebar") && e.target === el.click) e.preventDefault();
      setTimeout(function () { keyHeld = false; }, 0);
    });
    // Only activations without a pointer or our key handler (assistive tech) count through `click`.
    el.click.addEventListener("click", function (e) {
      if (e.detail === 0 && !keyHeld) doClick();
    });
  }

  // ---- rendering ---------------------------------------------------------------------------
  // Runs every frame; touches the DOM only when the shown tenth of a second changes.
  var shownTenths = null;
  function tick() {
    requestAnimationFrame(tick);
    var hasRound = round && typeof round.endsAt === "number";
    var left = hasRound ? Math.max(0, round.endsAt - serverNow()) : 0;
    var tenths = hasRound ? Math.ceil(left / 100) : -1;
    if (tenths === shownTenths) return;
    shownTenths = tenths;
    if (hasRound) {
      var len = Math.max(1, round.endsAt - round.startsAt);
      el.countdown.textContent = (tenths / 10).toFixed(1);
      el.countdown.dataset.remainingMs = String(Math.round(left));
      el.countdown.classList.toggle("urgent", left > 0 && left <= 5000);
      el.progress.style.transform = "scaleX(" + Math.min(1, left / len).toFixed(4) + ")";
      document.body.classList.toggle("round-over", left <= 0);
      el.countdownUnit.textContent = left > 0 ? "seconds left" : "round over – results coming";
    } else {
      el.countdown.textContent = "–";
      el.countdown.dataset.remainingMs = "";
      el.countdown.classList.remove("urgent");
      el.countdownUnit.textContent = "waiting for a round";
      el.progress.style.transform = "scaleX(0)";
    }
  }

  function renderBoard(d) {
    var top = d.top || [];
    if (typeof d.totalClicks === "number") {
      el.total.textContent = plural(d.totalClicks || 0, "click", "clicks") + " in total";
      el.total.dataset.total = String(d.totalClicks || 0);
    }
    var frag = document.createDocumentFragment();
    top.forEach(function (p, i) {
      var li = document.createElement("li");
      li.dataset.testid = "leaderboard-row";
      li.dataset.name = p.name;
      li.dataset.clicks = String(p.clicks);
      if (session && sameName(p.name, session.name)) li.className = "me";
      var rank = document.createElement("span");
      rank.className = "rank";
      rank.textContent = String(i + 1);
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = p.name;
      var clicks = document.createElement("span");
      clicks.className = "clicks";
      clicks.textContent = fmtInt(p.clicks);
      li.append(rank, name, clicks);
      frag.appendChild(li);
    });
    el.board.replaceChildren(frag);
    el.boardEmpty.hidden = top.length > 0;
  }

  function renderResult(r) {
    var winners = Array.isArray(r.winners) ? r.winners : [];
    var count = typeof r.winnerCount === "number" ? r.winnerCount : winners.length;
    var won = !!session && winners.some(function (w) { return sameName(w, session.name); });
    el.result.hidden = false;
    el.result.dataset.round = String(r.round);
    el.result.dataset.won = won ? "true" : "false";
    el.resultRound.textContent = String(r.round);
    el.youWon.hidden = !won;
    el.resultEmpty.hidden = count > 0;
    el.resultBody.hidden = count === 0;

    var frag = document.createDocumentFragment();
    winners.forEach(function (w) {
      var li = document.createElement("li");
      li.dataset.testid = "winner";
      li.dataset.name = w;
      li.textContent = w;
      if (session && sameName(w, session.name)) li.className = "me";
      frag.appendChild(li);
    });
    el.winners.replaceChildren(frag);
    var more = count - winners.length;
    el.moreWinners.hidden = more <= 0;
    el.moreWinners.textContent = more > 0 ? "+" + fmtInt(more) + " more" : "";
    el.winningClicks.textContent = fmtInt(r.winningClicks);
    el.resultPlayers.textContent = fmtInt(r.players);
    $("players-word").textContent = r.players === 1 ? "player" : "players";

    el.result.classList.remove("flash");
    void el.result.offsetWidth;
    el.result.classList.add("flash");
  }

  var recentSeq = 0;
  async function refreshRecent(catchUp) {
    var seq = ++recentSeq;
    try {
      var r = await api("GET", "/api/rounds?limit=" + RECENT_LIMIT);
      if (seq !== recentSeq || !r.ok || !Array.isArray(r.data)) return;
      renderRecent(r.data);
      var newest = r.data[0];
      if (catchUp && newest && typeof newest.round === "number" && newest.round > lastResultRound) {
        lastResultRound = newest.round;
        renderResult(newest);
      }
    } catch (e) { /* keep the last list; the next RoundEnded refreshes it */ }
  }

  function renderRecent(list) {
    var frag = document.createDocumentFragment();
    list.forEach(function (r) {
      var winners = Array.isArray(r.winners) ? r.winners : [];
      var count = typeof r.winnerCount === "number" ? r.winnerCount : winners.length;
      var li = document.createElement("li");
      li.dataset.testid = "recent-row";
      li.dataset.round = String(r.round);
      var won = session && winners.some(function (w) { return sameName(w, session.name); });
      if (won) li.className = "won";
      var id = document.createElement("span");
      id.className = "rid";
      id.textContent = "#" + r.round;
      var who = document.createElement("span");
      who.className = "who";
      var names = document.createElement("span");
      names.className = "names";
      who.appendChild(names);
      if (count === 0) {
        names.textContent = "no clicks";
        who.classList.add("muted");
      } else {
        names.textContent = winners.slice(0, 3).join(", ");
        var rest = count - Math.min(winners.length, 3);
        if (rest > 0) {
          var more = document.createElement("span");
          more.className = "more";
          more.textContent = "+" + fmtInt(rest) + " more";
          who.appendChild(more);
        }
      }
      var clicks = document.createElement("span");
      clicks.className = "clicks";
      clicks.textContent = count === 0 ? "" : fmtInt(r.winningClicks);
      li.append(id, who, clicks);
      frag.appendChild(li);
    });
    el.recent.replaceChildren(frag);
    el.recentEmpty.hidden = list.length > 0;
  }

  // ---- boot --------------------------------------------------------------------------------
  function boot() {
    if (typeof signalR === "undefined") {
      document.body.textContent = "The SignalR client failed to load (vendor/signalr.min.js).";
      return;
    }
    el.authForm.addEventListener("submit", onLogin);
    el.register.addEventListener("click", onRegister);
    el.logout.addEventListener("click", function () { showAuth(""); });
    el.reconnect.addEventListener("click", function () { startConnection(); });
    bindClickInput();
    // Another tab logged out or in: follow it.
    window.addEventListener("storage", function (e) {
      if (e.key !== SESSION_KEY) return;
      var s = loadSession();
      if (!s && session) showAuth("");
      else if (s && (!session || s.token !== session.token)) { session = s; enterGame(); }
    });
    requestAnimationFrame(tick);
    session = loadSession();
    if (session) enterGame();
    else showAuth("");
  }

  boot();
})();
