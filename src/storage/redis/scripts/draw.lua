-- Places one run of a gate's drawn pre-queue (docs/waiting-queue.md, "The fair start"). The
-- caller computed the whole order from the seed and the frozen pre-queue; any instance may
-- do so at the same moment, and as the order is the same for all, a run is placed only by
-- the caller that finds `placed` where it expects it (the others learn where to go on).
-- KEYS: the gate's draw hash (its slot). ARGV: gate, the places already placed before this run,
-- the pre-queue's size, then for each place in order: token id, entrant (SHA-256 of the id),
-- arrival number. Returns { ok | moved | drawn | early | not_found, places placed }.
local gate, from, total = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local draw = gate_key(gate, 'draw')
local f = redis.call('HMGET', draw, 'opens_at', 'drawn_at', 'placed')
if not f[1] then return { 'not_found', 0 } end
local placed = tonumber(f[3]) or 0
if f[2] then return { 'drawn', placed } end
local now = now_ms()
if now < tonumber(f[1]) then return { 'early', placed } end
if placed ~= from then return { 'moved', placed } end

-- Lua's unpack takes a few thousand values at a time: the list and the line grow in slices.
local function push_all(command, key, values)
  for i = 1, #values, 4000 do
    redis.call(command, key, unpack(values, i, math.min(i + 3999, #values)))
  end
end

local entrants, line, seen = {}, {}, {}
for i = 4, #ARGV - 1, 3 do
  local id, number = ARGV[i], ARGV[i + 2]
  entrants[#entrants + 1] = ARGV[i + 1]
  local key = token_key(id)
  -- A fan who left after the start stays an entrant, with no token to place.
  if redis.call('HGET', key, 'status') == 'PRE_QUEUE' then
    redis.call('HSET', key, 'status', 'WAITING', 'seq', number)
    line[#line + 1] = number
    line[#line + 1] = id
    seen[#seen + 1] = now -- from the draw on, the fan shows presence as everyone waiting does
    seen[#seen + 1] = id
  end
end
if #entrants > 0 then push_all('RPUSH', gate_key(gate, 'entrants'), entrants) end
if #line > 0 then
  push_all('ZADD', gate_key(gate, 'waiting'), line)
  push_all('ZADD', gate_key(gate, 'seen'), seen)
end
placed = placed + #entrants
redis.call('HSET', draw, 'placed', placed)
-- The instance drawing keeps its claim while it makes progress (tick.lua).
redis.call('PEXPIRE', gate_key(gate, 'drawing'), 10000)
if placed >= total then
  redis.call('HSET', draw, 'drawn_at', now, 'entrants', placed)
  redis.call('DEL', gate_key(gate, 'prequeue'), gate_key(gate, 'drawing'))
  -- The published draw is kept as long as a token's record: long enough to check one's place.
  redis.call('EXPIRE', draw, record_ttl_seconds)
  redis.call('EXPIRE', gate_key(gate, 'entrants'), record_ttl_seconds)
end
return { 'ok', placed }
