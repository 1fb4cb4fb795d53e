#include "redis/scripts.hpp"

#include <openssl/evp.h>

#include <cstdio>

namespace tenure::backends::redis {

namespace {

std::string sha1_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

Script make(const char* name, std::string body) {
  Script s{name, std::move(body), {}};
  s.sha1 = sha1_hex(s.body);
  return s;
}

// Shared helpers, prepended to every script.
const char* kCommon = R"lua(
local function now_ms()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end
local function wrongtype(r, key, what)
  if type(r) == 'table' and r.err then
    if string.find(r.err, 'WRONGTYPE', 1, true) == 1 or string.find(r.err, 'not an integer', 1, true) then
      return redis.error_reply('WRONGTYPE key ' .. key .. ' holds a value that is not ' .. what)
    end
    return r
  end
  return nil
end
local function parse(v)
  return string.match(v, '^(%d+) (%d+) (%d+) (%d+) (%d+) (.+)$')
end
-- The ledger writes only under the live lease's token: {-1, current token or "none", {}} if not.
local function fenced(lease, token, holder)
  local cur = redis.pcall('GET', lease)
  local e = wrongtype(cur, lease, 'a tenure lease record')
  if e then return e end
  if not cur then return {-1, 'none (the lease expired)', {}} end
  local tok, lttl, acq, ren, tr, h = parse(cur)
  if tok ~= token or h ~= holder then return {-1, tok or '?', {}} end
  return nil
end
-- Tokens are compared and formatted as digit strings: Lua numbers are doubles, exact only up to
-- 2^53, so tonumber() would make two neighbouring large tokens equal.
local function token_less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
-- The fencing token counter must hold 0 .. 2^63-2 for INCR to give a greater token: a negative
-- value would give 0 or less, and Redis refuses to INCR past 2^63-1.
local function counter_error(counter, c)
  local shown = string.sub(c, 1, 40)
  if not string.match(c, '^%d+$') or (#c > 1 and string.sub(c, 1, 1) == '0') or #c > 19 then
    return redis.error_reply('TENURE the fencing token counter ' .. counter .. ' holds "' .. shown ..
      '", not a token tenure wrote (0..9223372036854775807); refusing to lead rather than hand out a token that is not greater than every earlier one')
  end
  if #c == 19 and c >= '9223372036854775807' then
    return redis.error_reply('TENURE refusing to lead: the fencing token counter ' .. counter ..
      ' is at ' .. c .. ', the largest token; a new leadership would wrap it. Reset every resource guarded by these tokens to accept smaller ones, then delete the counter')
  end
  return nil
end
local function notlease(key)
  return redis.error_reply('WRONGTYPE key ' .. key .. ' holds a string that is not a tenure lease record')
end
)lua";

}  // namespace

const Script& acquire_script() {
  static const Script s = make("acquire", std::string(kCommon) + R"lua(
local lease, counter, trans = KEYS[1], KEYS[2], KEYS[3]
local holder, ttl, channel, adopt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.pcall('GET', lease)
local e = wrongtype(cur, lease, 'a tenure lease record')
if e then return e end
if cur then
  local tok, lttl, acq, ren, tr, h = parse(cur)
  if not tok then return notlease(lease) end
  local pttl = redis.call('PTTL', lease)
  if adopt == '1' and h == holder then return {1, cur, pttl, tok} end
  return {0, cur, pttl, tok}
end
local exists = redis.pcall('EXISTS', counter)
if type(exists) == 'table' then return exists end
if exists == 0 then
  local t = redis.call('TIME')
  redis.call('SET', counter, t[1] .. string.format('%06d', tonumber(t[2])))
end
local c = redis.pcall('GET', counter)
e = wrongtype(c, counter, 'a tenure token counter')
if e then return e end
e = counter_error(counter, c)
if e then return e end
e = wrongtype(redis.pcall('INCR', counter), counter, 'a tenure token counter')
if e then return e end
e = wrongtype(redis.pcall('INCR', trans), trans, 'a tenure transitions counter')
if e then return e end
-- Read back as strings: INCR's reply becomes a Lua double, inexact above 2^53.
local tok = redis.call('GET', counter)
local tr = redis.call('GET', trans)
local now = now_ms()
local v = tok .. ' ' .. ttl .. ' ' .. now .. ' ' .. now .. ' ' .. tr .. ' ' .. holder
redis.call('SET', lease, v, 'NX', 'PX', ttl)
redis.call('PUBLISH', channel, 'acquired ' .. tok .. ' ' .. holder)
return {1, v, tonumber(ttl), tok}
)lua");
  return s;
}

const Script& renew_script() {
  static const Script s = make("renew", std::string(kCommon) + R"lua(
local lease = KEYS[1]
local holder, token, ttl = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.pcall('GET', lease)
local e = wrongtype(cur, lease, 'a tenure lease record')
if e then return e end
if not cur then return {0, '', -2, ''} end
local tok, lttl, acq, ren, tr, h = parse(cur)
if not tok then return notlease(lease) end
if h ~= holder or tok ~= token then return {0, cur, redis.call('PTTL', lease), tok} end
local v = tok .. ' ' .. ttl .. ' ' .. acq .. ' ' .. now_ms() .. ' ' .. tr .. ' ' .. h
redis.call('SET', lease, v, 'XX', 'PX', ttl)
return {1, v, tonumber(ttl), tok}
)lua");
  return s;
}

const Script& release_script() {
  static const Script s = make("release", std::string(kCommon) + R"lua(
local lease = KEYS[1]
local holder, token, channel = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.pcall('GET', lease)
local e = wrongtype(cur, lease, 'a tenure lease record')
if e then return e end
if not cur then return {0, '', -2, ''} end
local tok, lttl, acq, ren, tr, h = parse(cur)
if not tok then return notlease(lease) end
if h ~= holder or tok ~= token then return {0, cur, redis.call('PTTL', lease), tok} end
redis.call('DEL', lease)
redis.call('PUBLISH', channel, 'released ' .. tok .. ' ' .. h)
return {1, '', -2, tok}
)lua");
  return s;
}

const Script& read_script() {
  static const Script s = make("read", std::string(kCommon) + R"lua(
local lease, counter = KEYS[1], KEYS[2]
local cur = redis.pcall('GET', lease)
local e = wrongtype(cur, lease, 'a tenure lease record')
if e then return e end
local c = redis.pcall('GET', counter)
e = wrongtype(c, counter, 'a tenure token counter')
if e then return e end
if not cur then return {0, '', -2, c or '0'} end
if not parse(cur) then return notlease(lease) end
return {0, cur, redis.call('PTTL', lease), c or '0'}
)lua");
  return s;
}

const Script& claim_script() {
  static const Script s = make("claim", std::string(kCommon) + R"lua(
local job, lease = KEYS[1], KEYS[2]
local token, holder, policy = ARGV[1], ARGV[2], ARGV[3]
local cur = fenced(lease, token, holder)
if cur then return cur end
local r = redis.pcall('HGETALL', job)
local e = wrongtype(r, job, 'a tenure run record')
if e then return e end
local rec = {}
for i = 1, #r, 2 do rec[r[i]] = r[i + 1] end
local st = rec['status']
local claim = false
if st == nil or st == 'failed' then
  claim = true
elseif st == 'started' and policy == 'retry' and token_less(rec['token'] or '', token) then
  claim = true
end
if not claim then return {0, '', r} end
redis.call('HSET', job, 'status', 'started', 'token', token, 'holder', holder,
           'started', now_ms(), 'finished', '0', 'detail', '')
return {1, '', r}
)lua");
  return s;
}

const Script& finish_script() {
  static const Script s = make("finish", std::string(kCommon) + R"lua(
local job, lease = KEYS[1], KEYS[2]
local token, success, detail, holder = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = fenced(lease, token, holder)
if cur then return cur end
local r = redis.pcall('HGETALL', job)
local e = wrongtype(r, job, 'a tenure run record')
if e then return e end
local rec = {}
for i = 1, #r, 2 do rec[r[i]] = r[i + 1] end
if rec['status'] == nil then return {-2, '', r} end
if rec['token'] ~= token then return {-1, rec['token'], r} end
local st = 'failed'
if success == '1' then st = 'finished' end
redis.call('HSET', job, 'status', st, 'finished', now_ms(), 'detail', detail)
return {1, '', redis.call('HGETALL', job)}
)lua");
  return s;
}

}  // namespace tenure::backends::redis
