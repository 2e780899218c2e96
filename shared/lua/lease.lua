-- lease.lua: the scheduler leader lease (compare-and-extend, compare-and-delete).
-- KEYS[1] = P scheduler:leader.  ARGV = op ('acquire' | 'release'), holder, ttl_ms.
-- Reply: acquire -> 1 if `holder` holds the lease afterwards, else 0;
--        release -> 1 if it was deleted (held by `holder`), else 0.
-- Error: "BADARG ..." on bad input.
local op, holder, ttl = ARGV[1], ARGV[2], ARGV[3]
if holder == nil or holder == '' or #holder > 256 then
  return redis.error_reply('BADARG holder must be 1 to 256 bytes')
end
local cur = redis.call('GET', KEYS[1])
if op == 'acquire' then
  if ttl == nil or not string.match(ttl, '^[1-9][0-9]*$') or #ttl > 10 then
    return redis.error_reply('BADARG ttl_ms must be a positive integer')
  end
  if cur == holder then
    redis.call('PEXPIRE', KEYS[1], ttl)
    return 1
  end
  if cur then
    return 0
  end
  redis.call('SET', KEYS[1], holder, 'PX', ttl)
  return 1
elseif op == 'release' then
  if cur == holder then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
return redis.error_reply('BADARG op must be acquire or release')
