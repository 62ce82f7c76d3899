-- One admission round for one gate; any instance may run it at any moment, and running it
-- twice at once is harmless: allowance accrues with Redis's clock, not with the number of
-- callers. ARGV: gate, default capacity, default rate (per second), token TTL (ms), spacing
-- (ms), how long a waiting token may go without a sign of its fan, and an admitted one without
-- a gated call (ms). KEYS: the gate's state (its slot). Returns {admitted, waiting, active} after the
-- round; with none of either, the caller takes the gate off the gates to tick.
local gate, default_capacity, default_rate, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local spacing, idle_waiting, idle_active = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local now = now_ms()
local waiting_key, active_key, state_key = gate_key(gate, 'waiting'), gate_key(gate, 'active'), gate_key(gate, 'state')

-- A gate with a pre-queue admits no one until it is drawn (docs/waiting-queue.md, "The fair
-- start"). The draw is the caller's (it needs SHA-256, which scripts lack): the 4th answer
-- asks for it once the ticketing start has come, of one instance at a time (a claim that
-- lapses after 10 s without progress, so the draw goes on if its instance dies). The
-- pre-queued count among the waiting.
local draw = redis.call('HMGET', gate_key(gate, 'draw'), 'opens_at', 'drawn_at')
if draw[1] and not draw[2] then
  local waiting = redis.call('ZCARD', waiting_key) + redis.call('ZCARD', gate_key(gate, 'prequeue'))
  local due = now >= tonumber(draw[1]) and redis.call('SET', gate_key(gate, 'drawing'), '1', 'NX', 'PX', 10000)
  return { 0, waiting, redis.call('ZCARD', active_key), due and 'draw' or 'pre_queue' }
end

-- Every instance ticks every gate; a gate ticked by another instance less than `spacing` ago
-- has nothing new to admit worth a round, so the round stops here (it would only split the
-- same admissions into smaller batches, at the cost of a whole round per instance).
local last_tick = tonumber(redis.call('HGET', state_key, 'last_tick'))
if last_tick and now - last_tick < spacing then
  local waiting, active = redis.call('ZCARD', waiting_key), redis.call('ZCARD', active_key)
  if waiting + active == 0 then forget_if_empty(gate) end -- the caller takes it off the list
  return { 0, waiting, active }
end

-- Expired admissions free their place. They are not re-queued here (an abandoned token
-- must not cycle); a fan who comes back is re-queued by the gated call.
local seen_key, called_key = gate_key(gate, 'seen'), gate_key(gate, 'called')
local function expire(id)
  redis.call('ZREM', active_key, id)
  redis.call('ZREM', waiting_key, id)
  redis.call('ZREM', seen_key, id)
  redis.call('ZREM', called_key, id)
  if redis.call('EXISTS', token_key(id)) == 1 then
    redis.call('HSET', token_key(id), 'status', 'EXPIRED')
    retire(id, redis.call('HGET', token_key(id), 'user'), gate)
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', active_key, '-inf', now)) do expire(id) end
-- Abandonment (docs/waiting-queue.md): a waiting fan with no call, poll or stream for
-- `idle_waiting` leaves the line, and the ranks behind move up; an admitted fan with no gated
-- call for `idle_active` frees the place. Both read as expired, as an admission that ran out.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', seen_key, '-inf', now - idle_waiting, 'LIMIT', 0, 1000)) do
  expire(id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', called_key, '-inf', now - idle_active, 'LIMIT', 0, 1000)) do
  expire(id)
end

if is_sold_out(gate) then
  for _, id in ipairs(redis.call('ZRANGE', waiting_key, 0, -1)) do
    local t = load_token(id)
    if t then mark_sold_out(t) else redis.call('ZREM', waiting_key, id) end
  end
  forget_if_empty(gate)
  return { 0, 0, redis.call('ZCARD', active_key) }
end

local settings = redis.call('HMGET', gate_key(gate, 'settings'), 'capacity', 'rate')
local capacity = tonumber(settings[1]) or default_capacity
local rate = tonumber(settings[2]) or default_rate
local state = redis.call('HMGET', state_key, 'last_tick', 'allowance', 'rate')
local last = tonumber(state[1]) or now
local allowance = tonumber(state[2]) or 0
local measured = tonumber(state[3]) or 0
local elapsed = math.max(0, now - last)

-- Token bucket: `rate` admissions per second, at most one second's worth saved up.
allowance = math.min(rate, allowance + elapsed * rate / 1000) -- rate 0 empties it: paused at once
-- And never more than `rate` admissions in any one second, whatever the bucket saved up:
-- the admissions of the last second are remembered.
local recent_key = gate_key(gate, 'recent')
redis.call('ZREMRANGEBYSCORE', recent_key, '-inf', now - 1000)
local in_last_second = redis.call('ZCARD', recent_key)
local active = redis.call('ZCARD', active_key)
local waiting = redis.call('ZCARD', waiting_key)
local admit = math.min(capacity - active, math.floor(allowance), waiting, rate - in_last_second)
if admit < 0 then admit = 0 end
if admit > 0 then
  local popped = redis.call('ZPOPMIN', waiting_key, admit) -- lowest arrival numbers first
  for i = 1, #popped, 2 do
    local id = popped[i]
    local user = redis.call('HGET', token_key(id), 'user')
    redis.call('ZREM', seen_key, id)
    -- A drawn fan who left after the start has a place but no record (draw.lua): skipped.
    if user then
      -- The number is written too: a drawn token's record still has its reserved one.
      redis.call('HSET', token_key(id), 'status', 'ACTIVE', 'active', now, 'expire', now + ttl, 'seq', popped[i + 1])
      retire(id, user, gate, math.ceil(ttl / 1000))
      redis.call('ZADD', active_key, now + ttl, id)
      redis.call('ZADD', recent_key, now, id)
      redis.call('ZADD', called_key, now, id) -- the admission counts as the first call
    end
  end
  redis.call('PEXPIRE', recent_key, 2000)
  -- Admissions per wall-clock second, in a ring of 11 one-second slots ("second:count"):
  -- the operator's admissions_per_second counts the last 10 whole seconds.
  local second = math.floor(now / 1000)
  local ring_key, slot = gate_key(gate, 'admissions'), tostring(second % 11)
  local count, held = admit, redis.call('HGET', ring_key, slot)
  if held then
    local at, before = string.match(held, '^(%d+):(%d+)$')
    if tonumber(at) == second then count = count + tonumber(before) end
  end
  redis.call('HSET', ring_key, slot, second .. ':' .. count)
  redis.call('PEXPIRE', ring_key, 12000)
  -- "Now serving": the arrival number of the last fan let in. Streams turn it into their
  -- own rank (their number minus this) without asking Redis per fan.
  redis.call('HSET', state_key, 'serving', popped[#popped])
  allowance = allowance - admit
end

-- The measured admission rate, smoothed over about a second, for wait estimates.
if elapsed > 0 then
  local alpha = math.min(1, elapsed / 1000)
  measured = measured + alpha * (admit * 1000 / elapsed - measured)
  -- Decaying towards zero would reach denormal numbers that readers cannot parse.
  if measured < 0.001 then measured = 0 end
end
redis.call('HSET', state_key, 'last_tick', now, 'allowance', tostring(allowance), 'rate', tostring(measured))
redis.call('HINCRBY', state_key, 'admitted', admit)
if waiting - admit == 0 and active + admit == 0 then forget_if_empty(gate) end
return { admit, waiting - admit, active + admit }
