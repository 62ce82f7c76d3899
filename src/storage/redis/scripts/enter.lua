-- POST /queue/queue, within the target gate's tag (queue_store checks tokens the user holds
-- in other tags first). KEYS: the user's index in this tag. ARGV: user, step, schedule (step
-- 2), fresh token id of this tag, endpoint.
-- Returns view(outcome): created | existing | exists (a live token of another step) | flow_violated.
local user, step, schedule, fresh, endpoint = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local now = now_ms()
local t = load_token(redis.call('GET', KEYS[1]))
local live = t ~= nil and (t.status == 'WAITING' or is_live_active(t, now))

local target = nil
if step == 1 then target = 'performances'
elseif step == 2 then target = 'performance_seats:' .. schedule
elseif t ~= nil then
  local from = string.match(t.gate, '^take_performance_seat:(.+)$')
  if from then target = t.gate end
end

if live and target ~= nil and t.gate == target then return view('existing', t.id, now) end
if live then return view('exists', t.id, now) end
if step ~= 1 then return { 'flow_violated' } end
if is_sold_out(target) then return { 'sold_out' } end
if t ~= nil then remove_token(t) end
local seq = issue(user, target, fresh, endpoint, now)
return arrival_view('created', fresh, user, target, endpoint, seq, now)
