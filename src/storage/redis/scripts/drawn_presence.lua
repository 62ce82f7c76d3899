-- After a gate's draw is published: every drawn fan still in line is seen as of now, so that
-- one who never shows up leaves the line after QUEUE_IDLE_SECONDS, as anyone waiting does
-- (tick.lua). Not part of draw.lua, so that the draw is published, and admissions start, that
-- much sooner; a fan's own presence meanwhile is kept (NX). Harmless to run twice.
-- KEYS: the gate's draw hash (its slot). ARGV: gate, then token ids. Returns how many were
-- still in line.
local gate = ARGV[1]
local waiting, seen = gate_key(gate, 'waiting'), gate_key(gate, 'seen')
local now = now_ms()
local last = #ARGV - 1 -- the record retention closes every queue script's ARGV (prelude)
local marked = 0
for first = 2, last, 2000 do -- (each ZADD below takes at most 4,000 values: unpack's limit is 8,000)
  local to = math.min(first + 1999, last)
  local places = redis.call('ZMSCORE', waiting, unpack(ARGV, first, to))
  local marks = {}
  for k = 1, #places do
    if places[k] then
      marks[#marks + 1] = now
      marks[#marks + 1] = ARGV[first + k - 1]
    end
  end
  if #marks > 0 then redis.call('ZADD', seen, 'NX', unpack(marks)) end
  marked = marked + #marks / 2
end
return marked
