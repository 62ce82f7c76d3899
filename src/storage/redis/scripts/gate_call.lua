-- A call to a gated booking step (docs/waiting-queue.md, docs/api-contract.md#booking-flow).
-- ARGV: user, step (1..3), schedule (step 2), presented token id ('' if none), a fresh token
-- id, the endpoint. Returns view(outcome): serve | wait | sold_out | flow_violated |
-- not_yours | not_found.
local user, step, schedule, presented, fresh, endpoint =
  ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local now = now_ms()

local t = load_token(presented)
if presented ~= '' and t == nil then return { 'not_found' } end
if t ~= nil and t.user ~= user then return { 'not_yours' } end
if t == nil then
  -- No token shown: a fan already in line gets the state of the token they hold.
  t = load_token(redis.call('GET', user_key(user)))
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

if t == nil then
  if step == 1 then
    local seq = issue(user, target, fresh, endpoint, now)
    return arrival_view('wait', fresh, user, target, endpoint, seq, now)
  end
  return { 'flow_violated' }
end

if t.gate == target then
  if is_live_active(t, now) then return view('serve', t.id, now) end
  if t.status == 'WAITING' then return view('wait', t.id, now) end
  if t.status == 'SOLD_OUT' then return view('sold_out', t.id, now) end
  requeue(t, now) -- an expired token goes to the back of the line
  return view('wait', t.id, now)
end

-- The hand-over: an active token of the previous step is consumed for a token of this one.
local previous = (step == 2 and 'performances') or (step == 3 and 'performance_seats:' .. schedule_of(target)) or nil
if previous ~= nil and t.gate == previous then
  if not is_live_active(t, now) then return { 'flow_violated' } end
  remove_token(t)
  local seq = issue(user, target, fresh, endpoint, now)
  return arrival_view('wait', fresh, user, target, endpoint, seq, now)
end

-- Going back to step 1 gives up the later step's place: back of the line, one token only.
if step == 1 then
  remove_token(t)
  local seq = issue(user, target, fresh, endpoint, now)
  return arrival_view('wait', fresh, user, target, endpoint, seq, now)
end
return { 'flow_violated' }
