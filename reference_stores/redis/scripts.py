"""The Lua scripts of ``RedisStore``: each runs atomically on the server (key layout in ``keys``).

Redis runs a script whole, with no other command in between, and a client that goes away
does not stop it: an ``add`` is all or nothing even when its connection is killed. A script
does not roll back on a runtime error, so ``ADD`` checks every key's type before it writes.
"""

from __future__ import annotations

FORMAT = "tracestore-redis 1"

# ARGV: base, format, then five per row (digest, blob, module, <m>, qualname), oldest first.
# Rows are grouped by key, so each key gets one variadic write per 1,000 entries.
ADD = """
local base, format = ARGV[1], ARGV[2]
local n = (#ARGV - 2) / 5
local CHUNK = 2000  -- arguments per variadic call (Lua's unpack has a stack limit)
local function check(key, kind)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= kind then
    return 'WRONGTYPE key ' .. key .. ' is a ' .. found .. ', not a ' .. kind
  end
end
local marker = redis.call('GET', base .. 'format')
if marker and marker ~= format then
  return redis.error_reply('FORMAT keys of this prefix hold ' .. marker .. ', not ' .. format)
end
-- Group the writes by key, checking each key's type once, before anything is written.
local groups, order = {}, {}
local function group(key, kind, command)
  local found = groups[key]
  if not found then
    local err = check(key, kind)
    if err then return nil, err end
    found = {command = command, args = {}, seen = {}}
    groups[key] = found
    order[#order + 1] = key
  end
  return found
end
local fixed = {{'rows', 'hash', 'HSET'}, {'all', 'zset', 'ZADD'}, {'mods', 'set', 'SADD'}}
for _, each in ipairs(fixed) do
  local _, err = group(base .. each[1], each[2], each[3])
  if err then return redis.error_reply(err) end
end
local err = check(base .. 'seq', 'string')
if err then return redis.error_reply(err) end
local rows, all, mods = groups[base .. 'rows'].args, groups[base .. 'all'].args, groups[base .. 'mods']
local seq = redis.call('INCRBY', base .. 'seq', n) - n
for i = 0, n - 1 do
  local at = 3 + 5 * i
  local digest, module, mk, qualname = ARGV[at], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
  seq = seq + 1
  rows[#rows + 1] = digest
  rows[#rows + 1] = ARGV[at + 1]
  all[#all + 1] = seq
  all[#all + 1] = digest
  if not mods.seen[module] then
    mods.seen[module] = true
    mods.args[#mods.args + 1] = module
  end
  local by_module, e1 = group(base .. 'M:' .. mk, 'zset', 'ZADD')
  if e1 then return redis.error_reply(e1) end
  by_module.args[#by_module.args + 1] = seq
  by_module.args[#by_module.args + 1] = digest
  local names, e2 = group(base .. 'Q:' .. mk, 'zset', 'ZADD')
  if e2 then return redis.error_reply(e2) end
  if not names.seen[qualname] then
    names.seen[qualname] = true
    names.args[#names.args + 1] = 0
    names.args[#names.args + 1] = qualname
  end
  local by_name, e3 = group(base .. 'R:' .. mk .. qualname, 'zset', 'ZADD')
  if e3 then return redis.error_reply(e3) end
  by_name.args[#by_name.args + 1] = seq
  by_name.args[#by_name.args + 1] = digest
end
redis.call('SET', base .. 'format', format)
local new = 0
for _, key in ipairs(order) do
  local each = groups[key]
  for start = 1, #each.args, CHUNK do
    local last = math.min(start + CHUNK - 1, #each.args)
    local added = redis.call(each.command, key, unpack(each.args, start, last))
    if key == base .. 'rows' then new = new + added end
  end
end
return new
"""

# ARGV: base, <m>, prefix (not empty), limit (at most 2**53). Returns the digests of the newest
# ``limit`` rows of the module whose qualname starts with the prefix, newest first: the module's
# qualnames in the prefix's range (ZRANGEBYLEX; UTF-8 never holds byte 0xFF, so
# '(' .. prefix .. '\\255' ends the range), then a heap merge of their recency zsets, read in
# growing chunks: O(matching qualnames + limit) entries read. (Without a prefix the store reads the
# module's zset itself: one ZREVRANGE.)
PREFIX_DIGESTS = """
local base, mk, prefix, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local names = redis.call('ZRANGEBYLEX', base .. 'Q:' .. mk, '[' .. prefix, '(' .. prefix .. '\\255')
-- Each source is read in chunks that start at its share of the limit and double, up to 1024:
-- many matching qualnames cost one short read each, one hot qualname few long ones.
local first = math.min(limit, math.max(1, math.ceil(limit / math.max(1, #names))), 1024)
local heap, digests = {}, {}  -- heap: sources by their next score, highest on top
local function fill(source)
  local got = redis.call('ZREVRANGE', source.key, source.read, source.read + source.chunk - 1, 'WITHSCORES')
  source.read = source.read + source.chunk
  source.chunk = math.min(source.chunk * 2, 1024, limit)
  source.items, source.at = got, 1
  return #got > 0
end
local function score(source) return tonumber(source.items[source.at + 1]) end
local function up(i)
  while i > 1 do
    local parent = math.floor(i / 2)
    if score(heap[parent]) >= score(heap[i]) then return end
    heap[parent], heap[i] = heap[i], heap[parent]
    i = parent
  end
end
local function down(i)
  local size = #heap
  while true do
    local best, left, right = i, 2 * i, 2 * i + 1
    if left <= size and score(heap[left]) > score(heap[best]) then best = left end
    if right <= size and score(heap[right]) > score(heap[best]) then best = right end
    if best == i then return end
    heap[best], heap[i] = heap[i], heap[best]
    i = best
  end
end
for _, name in ipairs(names) do
  local source = {key = base .. 'R:' .. mk .. name, read = 0, chunk = first}
  if fill(source) then
    heap[#heap + 1] = source
    up(#heap)
  end
end
while #heap > 0 and #digests < limit do
  local top = heap[1]
  digests[#digests + 1] = top.items[top.at]
  top.at = top.at + 2
  if top.at > #top.items and not fill(top) then
    heap[1] = heap[#heap]
    heap[#heap] = nil
  end
  if #heap > 0 then down(1) end
end
return digests
"""

# ARGV: base, after (a recency; '-inf' to start), count.
# Returns {JSON list of the rows, oldest first; the last one's recency; how many}.
PAGE = """
local base = ARGV[1]
local got = redis.call('ZRANGE', base .. 'all', '(' .. ARGV[2], '+inf', 'BYSCORE',
                      'LIMIT', 0, ARGV[3], 'WITHSCORES')
local found = {}
for i = 1, #got, 2 do
  local row = redis.call('HGET', base .. 'rows', got[i])
  if row then found[#found + 1] = row end
end
return {'[' .. table.concat(found, ',') .. ']', got[#got] or '', #got / 2}
"""
