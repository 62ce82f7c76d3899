-- Leaves the line or gives up an admission, freeing the place at once. KEYS: the token's
-- record (its slot). ARGV: user, token id. Returns { ok | not_yours | not_found }.
local user, id = ARGV[1], ARGV[2]
local t = load_token(id)
if t == nil then return { 'not_found' } end
if t.user ~= user then return { 'not_yours' } end
remove_token(t)
return { 'ok' }
