-- schedule_copy.lua: writes one partition's copy of the schedule (docs/bus.md "Partitions"):
-- what click.lua and seal.lua read in that partition's slot. The leader writes every copy when
-- it creates, changes or promotes the schedule and again at every lease renewal, so a partition
-- whose primary failed over to an empty replica gets its copy back within a renewal.
-- KEYS[1] = Pk schedule, KEYS[2] = Pk term.
-- ARGV = term (the leader's, from lease.lua), then field, value, ... (every field of P schedule).
-- The copy is replaced whole (DEL + HSET): a field the schedule no longer has (a cancelled
-- next_*, a prev_* gone) goes from the copy too.
-- Reply: 1. Errors: "NOTLEADER term <t>" (an older leader: its schedule may be stale),
--        "BADARG ...".
local function posint(v, maxlen)
  return v ~= nil and string.match(v, '^[1-9][0-9]*$') ~= nil and #v <= maxlen
end
if #KEYS ~= 2 then return redis.error_reply('BADARG expected 2 keys') end
if not posint(ARGV[1], 15) then return redis.error_reply('BADARG term must be a positive integer') end
if #ARGV < 7 or #ARGV % 2 ~= 1 then
  return redis.error_reply('BADARG expected term, then field/value pairs (epoch, len, base ...)')
end
local known = { epoch = true, len = true, base = true, next_epoch = true, next_len = true,
  next_base = true, prev_epoch = true, prev_len = true, prev_base = true, partitions = true }
local fields, has = {}, {}
for i = 2, #ARGV, 2 do
  local name, value = ARGV[i], ARGV[i + 1]
  if not known[name] then return redis.error_reply('BADARG unknown schedule field ' .. name) end
  if not string.match(value, '^-?[0-9]+$') or #value > 16 then
    return redis.error_reply('BADARG schedule field ' .. name .. ' must be an integer')
  end
  fields[#fields + 1] = name
  fields[#fields + 1] = value
  has[name] = true
end
if not (has.epoch and has.len and has.base) then
  return redis.error_reply('BADARG the copy needs epoch, len and base')
end

local term = tonumber(ARGV[1])
local seen = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if term < seen then return redis.error_reply('NOTLEADER term ' .. string.format('%d', seen)) end
if term > seen then redis.call('SET', KEYS[2], ARGV[1]) end

redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(fields))
return 1
