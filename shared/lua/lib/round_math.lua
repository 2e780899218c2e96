-- round_math (shared/lua/lib): the schedule and round math of docs/bus.md, one copy for every
-- script (embed_lua.cmake puts this text where a script says `-- #include round_math`); the
-- same definitions as clickrace/core/round_math.hpp.

-- Redis's clock in ms: all attribution uses it, never a service's clock.
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The schedule hash at `key`: s = {epoch, len, base [, next] [, prev]} (next/prev: {epoch, len,
-- base}), plus the values of the `extra` field names in s.extra (false when absent). On a
-- missing hash: nil and the error reply `missing`; on a malformed one: nil and BADSCHEDULE.
local function read_schedule(key, missing, extra)
  local fields = { 'epoch', 'len', 'base', 'next_epoch', 'next_len', 'next_base', 'prev_epoch',
    'prev_len', 'prev_base' }
  for _, name in ipairs(extra or {}) do fields[#fields + 1] = name end
  local f = redis.call('HMGET', key, unpack(fields))
  if not f[1] then return nil, redis.error_reply(missing) end
  local s = { epoch = tonumber(f[1]), len = tonumber(f[2]), base = tonumber(f[3]), extra = {} }
  if not s.epoch or not s.len or not s.base or s.len <= 0 then
    return nil, redis.error_reply('BADSCHEDULE the stored schedule is malformed')
  end
  local function segment(i)
    local e, l, b = tonumber(f[i]), tonumber(f[i + 1]), tonumber(f[i + 2])
    if e and l and b and l > 0 then return { epoch = e, len = l, base = b } end
    return nil
  end
  s.next, s.prev = segment(4), segment(7)
  for i = 10, #f do s.extra[#s.extra + 1] = f[i] end
  return s
end

-- The round containing instant t: from next_* once t reaches next_epoch; before the epoch, the
-- first round (its start lies after t).
local function round_at(s, t)
  local seg = s
  if s.next and t >= s.next.epoch then seg = s.next end
  if t < seg.epoch then return seg.base end
  return seg.base + math.floor((t - seg.epoch) / seg.len)
end

-- The window [start, end) of round r: from next_* when r >= next_base, from the main fields when
-- r >= base, else from prev_* (the segment the last promotion replaced), else the main fields
-- extrapolated backwards.
local function window_of(s, r)
  local seg = s
  if s.next and r >= s.next.base then
    seg = s.next
  elseif r >= s.base then
    seg = s
  elseif s.prev and r >= s.prev.base then
    seg = s.prev
  end
  local start = seg.epoch + (r - seg.base) * seg.len
  return start, start + seg.len
end
