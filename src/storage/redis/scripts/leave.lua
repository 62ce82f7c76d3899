-- Leaves the line or gives up an admission, freeing the place at once. ARGV: user, token id
-- ('' = whatever token the user holds: used when a seat is taken or paid for).
-- Returns { ok | not_yours | not_found }.
local user, id = ARGV[1], ARGV[2]
if id == '' then
  id = redis.call('GET', user_key(user))
  if not id then return { 'ok' } end
end
local t = load_token(id)
if t == nil then return { 'not_found' } end
if t.user ~= user then return { 'not_yours' } end
remove_token(t)
return { 'ok' }
