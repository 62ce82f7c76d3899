-- Publishes a gate's draw at once (docs/waiting-queue.md, "The fair start"). The caller
-- computed the order from the seed and the frozen pre-queue, and wrote it aside with plain
-- commands (queue_store::publish_draw): a line `drawn:<id>` (token id -> place, from 1) and
-- the list `entrants:<id>` in drawn order, both of this gate's slot and expiring. This script
-- swaps them in: so fans see no draw, then the whole draw; and several instances drawing at
-- once each write their own, and only the first to get here publishes.
-- KEYS: the gate's draw hash (its slot). ARGV: gate, the id of the written draw, the number
-- of entrants. Returns { ok | drawn | early | incomplete | not_found }.
--
-- No token's record is touched: a drawn token keeps the status PRE_QUEUE in its record, and
-- its place in `waiting` is what says it was drawn (load_token and view in the prelude,
-- queue_store::token_info) until the tick admits it and writes its record. A fan who left
-- after the start stays an entrant, and their id a place with no record, which the tick
-- drops when it comes to it. The drawn fans' presence (`seen`) is written once the draw is
-- published, by drawn_presence.lua, so that admissions need not wait for it.
local gate, written, total = ARGV[1], ARGV[2], tonumber(ARGV[3])
local draw = gate_key(gate, 'draw')
local line, list = gate_key(gate, 'drawn:' .. written), gate_key(gate, 'entrants:' .. written)
local f = redis.call('HMGET', draw, 'opens_at', 'drawn_at')
local verdict = 'ok'
if not f[1] then verdict = 'not_found'
elseif f[2] then verdict = 'drawn'
elseif now_ms() < tonumber(f[1]) then verdict = 'early'
elseif redis.call('ZCARD', line) ~= total or redis.call('LLEN', list) ~= total then verdict = 'incomplete'
end
if verdict ~= 'ok' then
  redis.call('UNLINK', line, list)
  return { verdict }
end

local now = now_ms()
local waiting = gate_key(gate, 'waiting')
-- Fans who came after the start are in line already, with numbers above every reserved one
-- (so above every place): they join the drawn line behind everyone drawn. They are few, the
-- arrivals of the draw's own duration.
local late = total > 0 and redis.call('ZRANGE', waiting, 0, -1, 'WITHSCORES') or {}
for i = 1, #late, 4000 do
  local pairs_of_late = {}
  for k = i, math.min(i + 3999, #late), 2 do
    pairs_of_late[#pairs_of_late + 1] = late[k + 1]
    pairs_of_late[#pairs_of_late + 1] = late[k]
  end
  redis.call('ZADD', line, unpack(pairs_of_late))
end
if total > 0 then
  redis.call('RENAME', line, waiting)
  redis.call('PERSIST', waiting) -- a line lives as long as anyone is in it
  redis.call('RENAME', list, gate_key(gate, 'entrants'))
end
redis.call('HSET', draw, 'drawn_at', now, 'entrants', total)
-- UNLINK: a large pre-queue is freed in the background, not while Redis waits.
redis.call('UNLINK', gate_key(gate, 'prequeue'), gate_key(gate, 'drawing'))
-- The published draw is kept as long as a token's record: long enough to check one's place.
redis.call('EXPIRE', draw, record_ttl_seconds)
redis.call('EXPIRE', gate_key(gate, 'entrants'), record_ttl_seconds)
return { 'ok' }
