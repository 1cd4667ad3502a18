/**
 * The Lua scripts that make the shared registry's writes atomic on Redis: a
 * limit check and the write it guards, or an expiry check and the eviction it
 * allows, happen in one step, so two gateways never both admit the 1,000th
 * instance nor both evict one instance. Every write that changes what clients
 * see bumps the version and publishes the application's name, which is how
 * the other gateways learn of it within milliseconds (and the version poll is
 * how they catch up when a message is lost).
 *
 * All keys share one {hash tag} (the key prefix), so on Redis Cluster they sit
 * in one slot, as multi-key scripts require.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../stores/redis-client.js';

/** Script is a Lua script with its SHA1, run by EVALSHA (EVAL after a NOSCRIPT, e.g. a restarted Redis). */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * PUT writes a record if the stored one is still the one read (compare-and-set),
 * checking the app and instance limits when it adds one.
 * KEYS: apps, instances(app), leases(app), version. ARGV: app, id, expected ('' = absent), json, lease ('' = keep), maxPerApp, maxApps, channel.
 */
export const PUT = script(`
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if ARGV[3] == '' then
  if cur then return 'conflict' end
elseif cur ~= ARGV[3] then
  return 'conflict'
end
if not cur then
  if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
    if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[7]) then return 'too-many-apps' end
  elseif redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[6]) then
    return 'app-full'
  end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[2], ARGV[5]) end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[8], ARGV[1])
return 'ok'
`);

/**
 * REMOVE deletes an instance and its lease (cancel).
 * KEYS: apps, instances(app), leases(app), version. ARGV: app, id, channel.
 */
export const REMOVE = script(`
if redis.call('HDEL', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
if redis.call('HLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[3], ARGV[1])
return 1
`);

/**
 * RENEW stamps a known instance's lease and counts the renewal in its time
 * bucket (every gateway counts into the same bucket, so self-preservation sees
 * the fleet's rate). Not a change clients see: no version bump, no message.
 * KEYS: instances(app), leases(app), bucket. ARGV: id, now, bucket TTL ms.
 */
export const RENEW = script(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`);

/**
 * EVICT removes the candidates of one app whose lease is still older than the
 * cutoff (a heartbeat may have arrived since they were listed) and returns
 * their ids; an instance already gone is not returned, so it is counted once.
 * KEYS: apps, instances(app), leases(app), version. ARGV: app, cutoff, channel, id...
 */
export const EVICT = script(`
local removed = {}
local cutoff = tonumber(ARGV[2])
for i = 4, #ARGV do
  local t = redis.call('HGET', KEYS[3], ARGV[i])
  if (not t) or tonumber(t) < cutoff then
    if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then table.insert(removed, ARGV[i]) end
    redis.call('HDEL', KEYS[3], ARGV[i])
  end
end
if #removed > 0 then
  if redis.call('HLEN', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
  redis.call('INCR', KEYS[4])
  redis.call('PUBLISH', ARGV[3], ARGV[1])
end
return removed
`);

/** runScript runs a script by SHA, loading it with EVAL when Redis does not know it. */
export async function runScript(client: RedisClient, s: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return client.eval(s.lua, keys.length, ...keys, ...args);
    throw err;
  }
}
