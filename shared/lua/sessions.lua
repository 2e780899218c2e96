-- sessions.lua: the hub connections one account holds over the whole fleet, so that a newer
-- connection beyond CLICKRACE_MAX_CONNECTIONS_PER_PLAYER closes the account's oldest one.
-- KEYS[1] = P player:<name>:conns, a zset: member "<opened ms>:<instance>:<connection id>",
--           score = when its gateway last confirmed it (Redis TIME, ms). The key expires when no
--           gateway confirms anything for stale_ms.
-- ARGV[1] = op:
--   'open', P, instance, connection_id, cap, stale_ms -> {member, evicted}
--       Drops members not confirmed within stale_ms (their gateway died without saying so), adds
--       the new one, and while more than `cap` remain removes the oldest-opened ones (never the
--       new one) and PUBLISHes each one's connection id on P gateway:<instance>:kick, the channel
--       of the gateway that holds it, which closes it.
--   'touch', member, stale_ms -> 1 confirmed | 0 gone while others remain (it was evicted: close
--       it even if the kick message was lost) | -1 the key is gone (expired, or Redis lost its
--       data: nothing to conclude)
--   'close', member -> 1 removed | 0 not there
-- Errors: "BADARG ...".
local key, op = KEYS[1], ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end

if op == 'open' then
  local P, instance, conn, cap, stale = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
  if P == nil or instance == nil or not string.match(instance, '^[0-9a-z]+$') or #instance > 64 then
    return redis.error_reply('BADARG instance must be 1 to 64 lowercase letters or digits')
  end
  if conn == nil or conn == '' or #conn > 128 then
    return redis.error_reply('BADARG connection id must be 1 to 128 bytes')
  end
  if not posint(cap, 6) or not posint(stale, 10) then
    return redis.error_reply('BADARG cap and stale_ms must be positive integers')
  end
  cap, stale = tonumber(cap), tonumber(stale)
  local now = now_ms()
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%d', now - stale))
  local member = string.format('%d', now) .. ':' .. instance .. ':' .. conn
  redis.call('ZADD', key, now, member)
  local n = redis.call('ZCARD', key)
  local evicted = 0
  if n > cap then
    local all = redis.call('ZRANGE', key, 0, -1)
    local function opened(m) return tonumber(string.match(m, '^(%d+):')) or 0 end
    table.sort(all, function(a, b)
      if opened(a) ~= opened(b) then return opened(a) < opened(b) end
      return a < b
    end)
    for _, m in ipairs(all) do
      if n - evicted <= cap then break end
      if m ~= member then
        redis.call('ZREM', key, m)
        evicted = evicted + 1
        local inst, id = string.match(m, '^%d+:([^:]+):(.+)$')
        if inst then redis.call('PUBLISH', P .. 'gateway:' .. inst .. ':kick', id) end
      end
    end
  end
  redis.call('PEXPIRE', key, stale)
  return { member, evicted }
elseif op == 'touch' then
  local member, stale = ARGV[2], ARGV[3]
  if member == nil or member == '' or not posint(stale, 10) then
    return redis.error_reply('BADARG expected member, stale_ms')
  end
  if redis.call('EXISTS', key) == 0 then return -1 end
  if not redis.call('ZSCORE', key, member) then return 0 end
  redis.call('ZADD', key, 'XX', now_ms(), member)
  redis.call('PEXPIRE', key, stale)
  return 1
elseif op == 'close' then
  if ARGV[2] == nil then return redis.error_reply('BADARG expected member') end
  return redis.call('ZREM', key, ARGV[2])
end
return redis.error_reply('BADARG op must be open, touch or close')
