-- GET /queue/queue and its stream. ARGV: user ('' for the stream), token id. Returns view(outcome): ok | expired | not_yours | not_found.
local user, id = ARGV[1], ARGV[2]
local now = now_ms()
local t = load_token(id)
if t == nil then return { 'not_found' } end
if user ~= '' and t.user ~= user then return { 'not_yours' } end -- '' : the stream, by id alone
if t.status == 'EXPIRED' or (t.status == 'ACTIVE' and not is_live_active(t, now)) then
  return view('expired', id, now)
end
return view('ok', id, now)
