-- The first half of the hand-over from the performances gate to a schedule's seat list,
-- which crosses slots (docs/waiting-queue.md, "Across slots"): the step-1 token is consumed
-- here, marked as handed to the target gate, and queue_store then issues the step-2 token in
-- the schedule's slot. Calling again for the same target answers ok again, so a call that
-- failed in between (or several calls at once) still ends with one step-2 token; a token
-- handed to one schedule cannot be handed to another.
-- KEYS: the token's record. ARGV: user, token id, target gate.
-- Returns { ok | not_found | not_yours | flow_violated }.
local user, id, target = ARGV[1], ARGV[2], ARGV[3]
local now = now_ms()
local f = redis.call('HMGET', token_key(id), 'user', 'gate', 'status', 'expire', 'to')
if not f[1] then return { 'not_found' } end
if f[1] ~= user then return { 'not_yours' } end
if f[3] == 'HANDED' then return { f[5] == target and 'ok' or 'flow_violated' } end
local t = { id = id, user = f[1], gate = f[2], status = f[3], expire = tonumber(f[4]) }
if t.gate ~= 'performances' or not is_live_active(t, now) then return { 'flow_violated' } end
redis.call('ZREM', gate_key(t.gate, 'active'), id) -- its place is free at once
redis.call('ZREM', gate_key(t.gate, 'called'), id)
redis.call('HSET', token_key(id), 'status', 'HANDED', 'to', target)
local index = user_key(tag_of(t.gate), user)
if redis.call('GET', index) == id then redis.call('DEL', index) end
retire(id, nil, t.gate)
return { 'ok' }
