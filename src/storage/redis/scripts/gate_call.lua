-- Gated calls to the booking steps (docs/waiting-queue.md, docs/api-contract.md#booking-flow),
-- each decided within one tag: the target gate's, or for step 3 the token's. A hand-over from
-- the performances gate to a schedule's crosses tags, so queue_store does it in steps around
-- this script (docs/waiting-queue.md, "Across slots").
-- One run decides a batch of calls of one tag, one after the other, as separate runs would
-- (queue_store batches the calls that arrive while the tag's previous batch is in Redis:
-- docs/waiting-queue.md, "Batched gated calls"). Call i is KEYS[i] and ARGV's i-th group of 10.
-- KEYS[i]: the user's index in this tag (its slot). ARGV group: user, step (1..3), schedule
-- (step 2), presented token id ('' if none; always of this tag), a fresh token id of this tag,
-- the endpoint, '1' when the caller has checked that the user holds an active token of the
-- previous step in another tag (which it consumes afterwards), else ''; then for a schedule's
-- gate whose ticketing start may not have come, that start (ms), a fresh draw seed and its
-- commitment (all '' otherwise): see pre_queue in the prelude.
-- A call is a sign of presence: it keeps a waiting token in line and an admitted one's place
-- (tick.lua lets tokens without one go).
-- Returns one view(outcome) per call: serve | wait | sold_out | flow_violated | not_yours |
-- not_found.
local function gate_call(user_index, user, step, schedule, presented, fresh, endpoint, handed_over, opens_at, seed,
                         commitment)
  local now = now_ms()
  local t = load_token(presented)
  if presented ~= '' and t == nil then return { 'not_found' } end
  if t ~= nil and t.user ~= user then return { 'not_yours' } end
  if t == nil then
    -- No token shown: a fan already in line in this tag gets the state of the token they hold.
    t = load_token(redis.call('GET', user_index))
  end

  local target
  if step == 1 then
    target = 'performances'
  elseif step == 2 then
    target = 'performance_seats:' .. schedule
  else
    -- Step 3's schedule is the one of the token: its own gate, or the step-2 gate it leaves.
    local from = t and (string.match(t.gate, '^take_performance_seat:(.+)$') or string.match(t.gate, '^performance_seats:(.+)$'))
    if not from then return { 'flow_violated' } end
    target = 'take_performance_seat:' .. from
  end

  if is_sold_out(target) then
    if t ~= nil and t.gate == target then mark_sold_out(t) end
    return view('sold_out', t and t.gate == target and t.id or '', now)
  end

  if t ~= nil and t.gate == target then
    if t.status == 'PRE_QUEUE' then return view('wait', t.id, now) end
    if is_live_active(t, now) then
      redis.call('ZADD', gate_key(target, 'called'), 'XX', now, t.id)
      return view('serve', t.id, now)
    end
    if t.status == 'WAITING' then
      redis.call('ZADD', gate_key(target, 'seen'), 'XX', now, t.id)
      return view('wait', t.id, now)
    end
    if t.status == 'SOLD_OUT' then return view('sold_out', t.id, now) end
    requeue(t, now) -- an expired token goes to the back of the line
    local v = view('wait', t.id, now)
    v[14] = 'joined'
    return v
  end

  -- A token of the previous step, active, is consumed for a token of this one: here for step 3
  -- (same tag), or by the caller for step 2 (handed_over). Going back to step 1 gives up a later
  -- step's place: back of the line, one token only.
  local previous = step == 3 and ('performance_seats:' .. schedule_of(target)) or nil
  local hand_over = handed_over or (t ~= nil and t.gate == previous)
  if hand_over and t ~= nil and t.gate == previous and not is_live_active(t, now) then return { 'flow_violated' } end
  if hand_over or step == 1 then
    if t ~= nil then remove_token(t) end
    if step ~= 1 and opens_at and now < opens_at then
      return pre_queue(user, target, fresh, endpoint, now, opens_at, seed, commitment)
    end
    local seq = issue(user, target, fresh, endpoint, now)
    return arrival_view('wait', fresh, user, target, endpoint, seq, now)
  end
  return { 'flow_violated' }
end

local answers = {}
for i = 1, #KEYS do
  local a = (i - 1) * 10
  answers[i] = gate_call(KEYS[i], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6],
                         ARGV[a + 7] == '1', tonumber(ARGV[a + 8]), ARGV[a + 9], ARGV[a + 10])
end
return answers
