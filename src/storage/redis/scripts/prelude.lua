-- Shared by every queue script (prepended to each). All times come from Redis's clock.
--
-- Keys. Every key a script touches carries one hash tag, the tag of the gate it is about:
-- the gate's name for the performances gate, the schedule for a schedule's two gates (so
-- steps 2 and 3 hand a token over in one slot, beside the sold-out mark). A script runs in
-- one tag's slot, which is what lets the queue run on a Redis Cluster (docs/waiting-queue.md).
--   tp:gate:{performances}:P              the performances gate's part P
--   tp:gate:<kind>:{<schedule>}:P         a schedule gate's part P (kind: performance_seats,
--                                         take_performance_seat); the parts:
--     waiting   ZSET token id -> arrival number (FIFO line)
--     active    ZSET token id -> expiry (ms)
--     state     HASH seq, last_tick, allowance, rate (measured), admitted, serving
--     recent    ZSET token id -> admission time (the last second's admissions)
--     settings  HASH capacity, rate (operator overrides)
--     seen      ZSET token id -> last sign of a waiting fan (a call, a poll, a stream)
--     called    ZSET token id -> last gated call of an admitted fan
--     prequeue  ZSET token id -> reserved arrival number (before the ticketing start)
--     draw      HASH opens_at, commitment, seed, drawn_at, entrants (the fair start)
--     entrants  LIST the drawn order, published after the draw (SHA-256 of each token id)
--     drawn:<id>, entrants:<id>   a draw's line and list while an instance writes them
--                                 (expiring), before draw.lua swaps them in
--   tp:token:{<tag>}:<uuid>   HASH user, gate, endpoint, status, seq, issued, active, expire,
--                             to (the gate a consumed step-1 token was handed to),
--                             opens (a pre-queued token's ticketing start);
--                             the token's id is "<tag>.<uuid>", so the id names its slot
--   tp:user:{<tag>}:<user>    STRING the token the user holds in this tag
--   tp:soldout:{<schedule>}   STRING present once every seat of the schedule is sold
-- Outside the scripts (queue_store.cpp): tp:gates, the gates that have a line or admitted
-- tokens, and tp:user:<user>, the user's latest token id (a hint for calls without a token).

-- Read once per script run: a run is atomic, so one moment serves all of it (a batch of gated
-- calls included).
local clock_ms
local function now_ms()
  if not clock_ms then
    local t = redis.call('TIME')
    clock_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return clock_ms
end

-- The tag of a gate: its schedule, or the gate's own name for the performances gate.
local function tag_of(gate) return string.match(gate, ':(.+)$') or gate end

local function gate_key(gate, part)
  local kind, schedule = string.match(gate, '^([^:]+):(.+)$')
  if kind then return 'tp:gate:' .. kind .. ':{' .. schedule .. '}:' .. part end
  return 'tp:gate:{' .. gate .. '}:' .. part
end

-- A token id is "<tag>.<uuid>"; the caller sends only ids of this script's tag.
local function token_key(id)
  local tag, rest = string.match(id, '^(.+)%.([^.]+)$')
  return 'tp:token:{' .. tag .. '}:' .. rest
end

local function user_key(tag, user) return 'tp:user:{' .. tag .. '}:' .. user end

-- How long a token's record and its user's index outlive the token's use, so a late call can
-- still be told "expired": the last ARGV of every queue script (QUEUE_RECORD_RETENTION_SECONDS).
-- A waiting token's keys have no expiry: they go with the token (admitted, left, sold out).
-- Every per-fan key ends this way, and a gate's state expires once its gate is empty, so
-- Redis's memory follows the crowd and not the history of sales (docs/waiting-queue.md).
local record_ttl_seconds = tonumber(ARGV[#ARGV])

-- A pre-queued token the draw has placed in the line is waiting, at the number it was drawn
-- (draw.lua leaves its record as it was, for speed); nil while it is not drawn.
local function drawn_number(id, gate)
  return redis.call('ZSCORE', gate_key(gate, 'waiting'), id) or nil
end

local function load_token(id)
  if not id or id == '' or not string.find(id, '.', 1, true) then return nil end
  local f = redis.call('HMGET', token_key(id), 'user', 'gate', 'status', 'expire', 'endpoint')
  if not f[1] or f[3] == 'HANDED' then return nil end -- a consumed step-1 token (hand_over.lua)
  local status = f[3]
  if status == 'PRE_QUEUE' and drawn_number(id, f[2]) then status = 'WAITING' end
  return { id = id, user = f[1], gate = f[2], status = status, expire = tonumber(f[4]), endpoint = f[5] }
end

-- A gate's measured rate and its operator's rate ('' when it uses the default), read once per
-- script run: no script both sets them and answers about the gate afterwards.
local rates_of_gate = {}
local function gate_rates(gate)
  local known = rates_of_gate[gate]
  if not known then
    known = { redis.call('HGET', gate_key(gate, 'state'), 'rate') or '0',
              redis.call('HGET', gate_key(gate, 'settings'), 'rate') or '' }
    rates_of_gate[gate] = known
  end
  return known[1], known[2]
end

local function is_live_active(t, now) return t.status == 'ACTIVE' and t.expire ~= nil and t.expire > now end

-- The answer every script returns about one token:
-- {outcome, id, user, gate, endpoint, status, issued, active, expire, rank, measured_rate, seq,
--  configured_rate ('' when the gate uses the default), 'joined' or '', opens ('' but for a
--  pre-queued token)}
local function view(outcome, id, now)
  if not id or id == '' then return { outcome } end
  local f = redis.call('HMGET', token_key(id), 'user', 'gate', 'endpoint', 'status', 'issued', 'active', 'expire', 'seq',
                       'opens')
  if not f[1] then return { outcome } end
  local status, seq, opens = f[4], f[8], f[9]
  if status == 'PRE_QUEUE' then
    local drawn = drawn_number(id, f[2])
    if drawn then status, seq, opens = 'WAITING', drawn, nil end
  end
  local rank = -1
  if status == 'WAITING' then
    local r = redis.call('ZRANK', gate_key(f[2], 'waiting'), id)
    if r then rank = r + 1 end
  elseif status == 'ACTIVE' then
    if tonumber(f[7]) > now then rank = 0 else status = 'EXPIRED' end
  end
  local rate, configured = gate_rates(f[2])
  return { outcome, id, f[1], f[2], f[3], status, f[5] or '', f[6] or '', f[7] or '', tostring(rank), rate,
           seq or '', configured, '', opens or '' }
end

-- A new arrival number. The gate's state lives as long as the gate has anyone in it (its
-- expiry, set when the gate empties, is lifted), so numbers never restart under a line. The
-- expiry is lifted once per script run (forget_if_empty sets it again, and says so here).
local persisted = {}
local function next_arrival(gate)
  local state = gate_key(gate, 'state')
  if not persisted[gate] then
    redis.call('PERSIST', state)
    persisted[gate] = true
  end
  return redis.call('HINCRBY', state, 'seq', 1)
end

-- A new token at the back of the gate's line; returns its arrival number.
local function issue(user, gate, id, endpoint, now)
  local seq = next_arrival(gate)
  redis.call('HSET', token_key(id), 'user', user, 'gate', gate, 'endpoint', endpoint,
             'status', 'WAITING', 'seq', seq, 'issued', now)
  redis.call('ZADD', gate_key(gate, 'waiting'), seq, id)
  redis.call('ZADD', gate_key(gate, 'seen'), now, id)
  redis.call('SET', user_key(tag_of(gate), user), id)
  return seq
end

-- view() of a token issue() has just written, from what the caller knows rather than read
-- back: only its place and the gate's rates are read. Its number is the gate's newest, the
-- line's largest, so its place is the line's length. The last element says the token has
-- just joined the line, so the caller lists its gate among those to tick.
local function arrival_view(outcome, id, user, gate, endpoint, seq, now)
  local rank = redis.call('ZCARD', gate_key(gate, 'waiting'))
  local rate, configured = gate_rates(gate)
  return { outcome, id, user, gate, endpoint, 'WAITING', tostring(now), '', '', tostring(rank), rate, tostring(seq),
           configured, 'joined', '' }
end

-- Before its performance's ticketing start, a schedule's gate takes arrivals into its
-- pre-queue: no place yet, but an arrival number reserved, so that every later arrival comes
-- after everyone drawn. The first entry fixes the draw's terms (the seed, which no API shows
-- before the draw, and its commitment, which the audit shows at once); docs/waiting-queue.md,
-- "The fair start".
local function pre_queue(user, gate, id, endpoint, now, opens_at, seed, commitment)
  local draw = gate_key(gate, 'draw')
  if redis.call('EXISTS', draw) == 0 then
    redis.call('HSET', draw, 'opens_at', opens_at, 'commitment', commitment, 'seed', seed)
  end
  local opens = redis.call('HGET', draw, 'opens_at')
  local seq = next_arrival(gate)
  redis.call('HSET', token_key(id), 'user', user, 'gate', gate, 'endpoint', endpoint,
             'status', 'PRE_QUEUE', 'seq', seq, 'issued', now, 'opens', opens)
  redis.call('ZADD', gate_key(gate, 'prequeue'), seq, id)
  redis.call('SET', user_key(tag_of(gate), user), id)
  local v = view('wait', id, now)
  v[14] = 'joined'
  return v
end

-- The token has ended (admitted, expired, sold out): its record and its user's index are kept
-- `extra_seconds` (the admission's validity) plus the retention, then Redis drops them.
local function retire(id, user, gate, extra_seconds)
  local ttl = record_ttl_seconds + (extra_seconds or 0)
  redis.call('EXPIRE', token_key(id), ttl)
  local index = user and user_key(tag_of(gate), user)
  if index and redis.call('GET', index) == id then redis.call('EXPIRE', index, ttl) end
end

-- Back of the line: a new arrival number, as if the fan had just come.
local function requeue(t, now)
  redis.call('ZREM', gate_key(t.gate, 'active'), t.id)
  local seq = next_arrival(t.gate)
  redis.call('HSET', token_key(t.id), 'status', 'WAITING', 'seq', seq)
  redis.call('HDEL', token_key(t.id), 'active', 'expire')
  redis.call('PERSIST', token_key(t.id))
  redis.call('PERSIST', user_key(tag_of(t.gate), t.user))
  redis.call('ZADD', gate_key(t.gate, 'waiting'), seq, t.id)
  redis.call('ZADD', gate_key(t.gate, 'seen'), now, t.id)
  redis.call('ZREM', gate_key(t.gate, 'called'), t.id)
end

-- Frees the token's place at once and forgets it.
local function remove_token(t)
  if t.status == 'PRE_QUEUE' then
    -- The pre-queue is frozen from the ticketing start on (the draw reads it then): a fan
    -- who leaves later is still an entrant, and the draw finds no token to place.
    local opens = tonumber(redis.call('HGET', gate_key(t.gate, 'draw'), 'opens_at'))
    if opens and now_ms() < opens then redis.call('ZREM', gate_key(t.gate, 'prequeue'), t.id) end
  end
  redis.call('ZREM', gate_key(t.gate, 'waiting'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'active'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'seen'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'called'), t.id)
  local index = user_key(tag_of(t.gate), t.user)
  if redis.call('GET', index) == t.id then redis.call('DEL', index) end
  redis.call('DEL', token_key(t.id))
end

local function schedule_of(gate) return string.match(gate, ':(.+)$') end

local function is_sold_out(gate)
  local schedule = schedule_of(gate)
  return schedule ~= nil and redis.call('EXISTS', 'tp:soldout:{' .. schedule .. '}') == 1
end

-- Tells the token it will never be served: out of the line, status SOLD_OUT.
local function mark_sold_out(t)
  redis.call('ZREM', gate_key(t.gate, 'waiting'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'active'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'seen'), t.id)
  redis.call('ZREM', gate_key(t.gate, 'called'), t.id)
  redis.call('HSET', token_key(t.id), 'status', 'SOLD_OUT')
  retire(t.id, t.user, t.gate)
end

-- A gate with no one in line and no one admitted is forgotten: its state (arrival numbers,
-- measured rate) expires after the retention unless someone arrives (next_arrival lifts the
-- expiry), and the caller takes it off the gates to tick.
local function forget_if_empty(gate)
  if redis.call('ZCARD', gate_key(gate, 'waiting')) + redis.call('ZCARD', gate_key(gate, 'active')) +
     redis.call('ZCARD', gate_key(gate, 'prequeue')) > 0 then return end
  redis.call('EXPIRE', gate_key(gate, 'state'), record_ttl_seconds)
  persisted[gate] = nil
end
