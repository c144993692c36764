import { agentChanges, withStats } from '../agent-changes.js';
import { systemClock, type Clock } from '../clock.js';
import { copyPlain } from '../../shared/copy-plain.js';
import type { AgentRecord, AgentStore, StatsDelta } from '../contracts/agent-store.js';
import type { RedisConnection } from './connection.js';
import type { RedisKeys } from './keys.js';
import { CONFLICT, retryOnConflict } from '../retry-on-conflict.js';
import { KnownValues } from './known-values.js';
import { sendPrepared, type PreparedWrite } from './prepared-write.js';
import { readJsonValues } from './read-json-values.js';

/** The most agents an agent store remembers as last seen. */
const KNOWN_AGENTS_KEPT = 20_000;

/** The agent writes a run's phases send along with others (see `run-phases.ts`). */
export interface RedisAgentWrites {
  /**
   * `updateStats` as a compare-and-set on the agent as this store last saw it, when it knows
   * it (forgotten from now on); undefined otherwise, when `updateStats` is to read it.
   */
  guessedStats(agentId: string, delta: StatsDelta): PreparedWrite<AgentRecord> | undefined;
}

/** A Redis {@link AgentStore}, with the writes it prepares for a run's phases. */
export interface RedisAgentStore {
  store: AgentStore;
  writes: RedisAgentWrites;
}

/**
 * An {@link AgentStore} in Redis: each agent a JSON value, and a sorted set of ids that
 * lists them in byte order (the order SQLite's BINARY collation gives).
 */
export function createRedisAgentStore(
  connection: RedisConnection,
  keys: RedisKeys,
  now: Clock = systemClock,
): RedisAgentStore {
  /**
   * Agents as this process last read or wrote them: a change (a run's stats, most often, just
   * after the tick read the agent) is sent without reading the agent again.
   */
  const known = new KnownValues(KNOWN_AGENTS_KEPT);

  /**
   * Reads, changes and writes one agent; retried when another writer got there first. The
   * first try starts from the agent as this process last saw it, if it did.
   */
  function readModifyWrite(
    agentId: string,
    change: (record: AgentRecord) => AgentRecord | undefined,
  ): Promise<AgentRecord | undefined> {
    const key = keys.agent(agentId);
    const currentValue = known.firstThenRead(key, () =>
      connection.run((client) => client.get(key)),
    );
    return retryOnConflict(`updating agent ${agentId}`, async () => {
      const { value: current, guessed } = await currentValue();
      if (current === null) return undefined;
      const write = changeWrite(key, current, change);
      // A condition not met by the value just read: nothing to write (a guess is read first).
      if (!write) return guessed ? CONFLICT : undefined;
      return sendPrepared(connection, write);
    });
  }

  /** The write of `change` over the agent stored as `current`; undefined when it changes nothing. */
  function changeWrite(
    key: string,
    current: string,
    change: (record: AgentRecord) => AgentRecord | undefined,
  ): PreparedWrite<AgentRecord> | undefined {
    const next = change(JSON.parse(current) as AgentRecord);
    if (!next) return undefined;
    const value = JSON.stringify(next);
    return {
      write: { key, expected: current, next: value },
      applied() {
        known.remember(key, value);
        return next;
      },
    };
  }

  const writes: RedisAgentWrites = {
    guessedStats(agentId, delta) {
      const key = keys.agent(agentId);
      const current = known.take(key);
      if (current === undefined) return undefined;
      // The change `updateStats` makes, here on the remembered agent.
      const snapshot = copyPlain(delta);
      return changeWrite(key, current, (record) => withStats(record, snapshot));
    },
  };

  const store: AgentStore = {
    async insert(record) {
      const key = keys.agent(record.agent_id);
      const value = JSON.stringify(record);
      const inserted = await connection.run(() =>
        connection.scripts.compareAndSet(key, null, value, {
          member: record.agent_id,
          remove: [],
          add: [keys.agents],
        }),
      );
      if (inserted) known.remember(key, value);
      return inserted;
    },

    async get(agentId) {
      const key = keys.agent(agentId);
      const value = await connection.run((client) => client.get(key));
      if (value === null) {
        known.forget(key);
        return undefined;
      }
      known.remember(key, value);
      return JSON.parse(value) as AgentRecord;
    },

    async list() {
      const agentIds = await connection.run((client) => client.zrange(keys.agents, 0, '-1'));
      return readJsonValues<AgentRecord>(
        connection,
        agentIds.map((agentId) => keys.agent(agentId)),
      );
    },

    ...agentChanges(readModifyWrite, now),

    async delete(agentId) {
      known.forget(keys.agent(agentId));
      return connection.run(() =>
        connection.scripts.deleteIndexed(keys.agent(agentId), keys.agents, agentId),
      );
    },
  };
  return { store, writes };
}
