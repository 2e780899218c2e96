-- lease.lua: the scheduler leader lease (compare-and-extend, compare-and-delete) and the leader
-- term that fences the partitions' seal.lua and schedule_copy.lua (docs/bus.md "Partitions").
-- KEYS[1] = P scheduler:leader, KEYS[2] = P scheduler:term (optional; same hash tag).
-- ARGV = op ('acquire' | 'release'), holder, ttl_ms [, floor].
-- Reply: acquire -> without KEYS[2]: 1 if `holder` holds the lease afterwards, else 0;
--                   with KEYS[2]: the holder's term (>= 1) if it holds the lease afterwards,
--                   else 0. The term is incremented whenever a new holder takes the lease (and
--                   when a holder finds it missing); `floor` (a term a partition answered with,
--                   e.g. after the term key was lost) makes the holder's term at least floor + 1.
--        release -> 1 if it was deleted (held by `holder`), else 0.
-- Error: "BADARG ..." on bad input.
local op, holder, ttl, floor = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if holder == nil or holder == '' or #holder > 256 then
  return redis.error_reply('BADARG holder must be 1 to 256 bytes')
end
if floor ~= nil and (not string.match(floor, '^[0-9]+$') or #floor > 15) then
  return redis.error_reply('BADARG floor must be a non-negative integer')
end
local cur = redis.call('GET', KEYS[1])
if op == 'acquire' then
  if ttl == nil or not string.match(ttl, '^[1-9][0-9]*$') or #ttl > 10 then
    return redis.error_reply('BADARG ttl_ms must be a positive integer')
  end
  if cur and cur ~= holder then
    return 0
  end
  if cur == holder then
    redis.call('PEXPIRE', KEYS[1], ttl)
  else
    redis.call('SET', KEYS[1], holder, 'PX', ttl)
  end
  if not KEYS[2] then return 1 end
  local stored = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  local term = stored
  -- A new holder starts a new term; so does a holder whose term vanished (data loss).
  if cur ~= holder or term < 1 then term = term + 1 end
  if floor and term <= tonumber(floor) then term = tonumber(floor) + 1 end
  if term ~= stored then redis.call('SET', KEYS[2], string.format('%d', term)) end
  return term
elseif op == 'release' then
  if cur == holder then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
return redis.error_reply('BADARG op must be acquire or release')
