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

local entrants, waiting = gate_key(gate, 'entrants'), gate_key(gate, 'waiting')
for i = 4, #ARGV - 1, 3 do
  local id, entrant, number = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  redis.call('RPUSH', entrants, entrant)
  local key = token_key(id)
  -- A fan who left after the start stays an entrant, with no token to place.
  if redis.call('HGET', key, 'status') == 'PRE_QUEUE' then
    redis.call('HSET', key, 'status', 'WAITING', 'seq', number)
    redis.call('ZADD', waiting, number, id)
  end
  placed = placed + 1
end
redis.call('HSET', draw, 'placed', placed)
if placed >= total then
  redis.call('HSET', draw, 'drawn_at', now, 'entrants', placed)
  redis.call('DEL', gate_key(gate, 'prequeue'))
  -- The published draw is kept as long as a token's record: long enough to check one's place.
  redis.call('EXPIRE', draw, record_ttl_seconds)
  redis.call('EXPIRE', entrants, record_ttl_seconds)
end
return { 'ok', placed }
