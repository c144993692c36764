/**
 * Counting what a process sends to the shared servers: every Postgres statement and every Redis
 * command, and the round trips they take, by patching the clients' prototypes.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

/** What this process has sent to Postgres and Redis, counted on the clients' prototypes. */
export interface ServerCalls {
  /** Postgres statements (`Client.query`), Redis commands (`sendCommand`). */
  commands: number;
  /** Writes that wait for a reply: a statement, a Redis command, or a pipeline of them. */
  roundTrips: number;
}

/**
 * Counts every statement this process sends to Postgres and every command it sends to Redis
 * from now on (the stores' pools and connections are built on these classes). pg never
 * pipelines, so a statement is a round trip; an ioredis pipeline (auto-pipelining included)
 * writes its commands at once, one round trip for all.
 */
export function countServerCalls(): ServerCalls {
  const calls: ServerCalls = { commands: 0, roundTrips: 0 };
  const client = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = client.query;
  client.query = function (this: unknown, ...args: unknown[]): unknown {
    calls.commands += 1;
    calls.roundTrips += 1;
    return Reflect.apply(query, this, args);
  };
  const pipelines = new WeakSet<object>();
  const redis = Redis.prototype as unknown as { sendCommand: (...args: unknown[]) => unknown };
  const send = redis.sendCommand;
  redis.sendCommand = function (this: unknown, ...args: unknown[]): unknown {
    calls.commands += 1;
    // A pipeline passes the stream its commands are gathered in: one per pipeline sent.
    const stream = args[1];
    if (typeof stream !== 'object' || stream === null) calls.roundTrips += 1;
    else if (!pipelines.has(stream)) {
      pipelines.add(stream);
      calls.roundTrips += 1;
    }
    return Reflect.apply(send, this, args);
  };
  return calls;
}
