/**
 * Durable runs with real processes and real stores: a `nightshift run` process is killed
 * (SIGKILL) while four runs are at different points of their journal, and a second process
 * resumes them. The model is a real HTTP server speaking the OpenAI wire format, the tools are
 * the built-ins reaching a real local HTTP server that counts what they really did; on SQLite,
 * Postgres and Redis.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { sanitizeConversation } from '../../src/agent/index.js';
import {
  createPostgresStore,
  createRedisStore,
  createSqliteStore,
  type RunRecord,
  type Store,
} from '../../src/storage/index.js';
import {
  startFakeOpenAIServer,
  type FakeOpenAIServer,
  type RecordedRequest,
  type ScriptedReply,
} from '../helpers/fake-openai-server.js';
import { deleteKeys, REDIS_URL } from '../storage/redis-server.js';
import { POSTGRES_URL } from '../tools/postgres-test-database.js';
import {
  createWorkspace,
  killLeftoverProcesses,
  startCli,
  waitFor,
  type Workspace,
} from './cli-process.js';

/** Short leases, so the killed process's runs are taken over within a second or two. */
const SHORT_LEASE = ['--lease-ttl', '1', '--shutdown-timeout', '0'];
const API_KEY_ENV = 'NIGHTSHIFT_TEST_FAKE_OPENAI_KEY';

/** Where each agent's run is when the process dies. */
const AGENTS = {
  /** Its first request is in flight: no reply on the record. */
  waiting: 'waits for its first reply',
  /** Its reply asked for `feed_read` (idempotent), which is in flight. */
  reading: 'reads a feed',
  /** Its reply asked for `http_fetch` POST (not idempotent), which is in flight. */
  posting: 'posts to a webhook',
  /** Its tool ran and its second request is in flight. */
  thinking: 'thinks after reading',
} as const;
type AgentId = keyof typeof AGENTS;

/** Tokens each answered request reports: distinct per agent and request, so sums say which counted. */
function usageOf(agent: AgentId, request: number): { input_tokens: number; output_tokens: number } {
  const base = { waiting: 100, reading: 200, posting: 300, thinking: 400 }[agent];
  return { input_tokens: base + request * 10, output_tokens: request };
}

/** The agent a model request is for: its system instruction names it. */
function agentOf(request: RecordedRequest): AgentId {
  const messages = request.body.messages as { role: string; content: unknown }[];
  const system = messages.find((message) => message.role === 'system');
  const match = /Agent (\w+)\./.exec(String(system?.content));
  if (!match || !(match[1]! in AGENTS)) throw new Error(`a request of no agent of this test`);
  return match[1] as AgentId;
}

/** The chat messages a request carried. */
function messagesOf(request: RecordedRequest): Record<string, unknown>[] {
  return request.body.messages as Record<string, unknown>[];
}

/** The local server the tools reach: a feed and a webhook per agent, counting every request. */
interface ToolServer {
  url: string;
  /** Requests received, by path (`/feed/reading`, `/hook/posting`). */
  hits: Map<string, number>;
  close(): Promise<void>;
}

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>Local news</title>
<item><title>Rows archived overnight</title><link>http://example.test/1</link>
<pubDate>Wed, 02 Dec 2026 06:00:00 GMT</pubDate><description>All fine.</description></item>
</channel></rss>`;

async function startToolServer(): Promise<ToolServer> {
  const hits = new Map<string, number>();
  const open = new Set<ServerResponse>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '/';
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    request.resume();
    // The first read of `reading`'s feed and every post never answer: the process dies meanwhile.
    if ((path === '/feed/reading' && count === 1) || path.startsWith('/hook/')) {
      open.add(response);
      return;
    }
    if (path.startsWith('/feed/')) {
      response.writeHead(200, { 'content-type': 'application/rss+xml' });
      response.end(FEED);
      return;
    }
    response.writeHead(404).end();
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: async () => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

/**
 * The model's side of each agent's run, by how many requests of that agent came before. A
 * request left hanging is one the killed process never got an answer to.
 */
function modelReplies(tools: ToolServer) {
  const seen = new Map<AgentId, number>();
  return (request: RecordedRequest): ScriptedReply => {
    const agent = agentOf(request);
    const number = (seen.get(agent) ?? 0) + 1;
    seen.set(agent, number);
    const first = messagesOf(request).length === 2; // system + the run's query
    if (agent === 'waiting')
      return number === 1 ? { hang: true } : { text: 'waited', usage: usageOf(agent, number) };
    if (agent === 'thinking' && !first && number === 2) return { hang: true };
    if (!first) return { text: `${agent}: done`, usage: usageOf(agent, number) };
    const call =
      agent === 'posting'
        ? {
            name: 'http_fetch',
            args: { url: `${tools.url}/hook/${agent}`, method: 'POST', body: 'nightly report' },
          }
        : { name: 'feed_read', args: { url: `${tools.url}/feed/${agent}` } };
    return { tool_calls: [{ ...call, id: `call_${agent}` }], usage: usageOf(agent, number) };
  };
}

/** A store the test reads, and the Nightshift file's `memory`/`events` sections that reach it. */
interface Backend {
  sections: Record<string, unknown>;
  store: Store;
  drop(): Promise<void>;
}

const BACKENDS: Record<string, (space: Workspace) => Promise<Backend>> = {
  sqlite: async (space) => ({
    sections: {
      memory: { backend: 'database', url: space.databaseUrl },
      events: { backend: 'database', url: space.databaseUrl },
    },
    store: createSqliteStore({ path: space.databasePath }),
    drop: async () => {},
  }),
  // A database of its own: the CLI keeps its tables in the database's `public` schema.
  postgres: async () => {
    const name = `nightshift_resume_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = POSTGRES_URL.replace(/\/test$/, `/${name}`);
    return {
      sections: {
        memory: { backend: 'database', url },
        events: { backend: 'database', url },
      },
      store: createPostgresStore({ url }),
      drop: async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  },
  // The CLI keeps its keys under `nightshift:`: a logical database no other suite uses.
  redis: async () => {
    const url = `${REDIS_URL.replace(/\/\d*$/, '')}/13`;
    const client = new Redis(url);
    await deleteKeys(client, 'nightshift:');
    return {
      sections: {
        memory: { backend: 'redis', url },
        events: { backend: 'redis_stream', url },
      },
      store: createRedisStore({ url }),
      drop: async () => {
        await deleteKeys(client, 'nightshift:');
        client.disconnect();
      },
    };
  },
};

function agentsOf(model: FakeOpenAIServer, runImmediately: boolean): Record<string, unknown>[] {
  return (Object.keys(AGENTS) as AgentId[]).map((agent) => ({
    agent_id: agent,
    system_instruction: `Agent ${agent}. You ${AGENTS[agent]}.`,
    model_config: {
      provider: 'openai_compatible',
      model: 'gpt-test',
      base_url: model.baseURL,
      api_key_env: API_KEY_ENV,
    },
    // An hour: no tick but the first while the test runs; the second process starts none.
    interval: 3600,
    run_immediately: runImmediately,
    task_config: { query: `Do what agent ${agent} does.`, max_retries: 0 },
    tools: ['feed_read', 'http_fetch'],
    allow_hosts: ['127.0.0.1'],
  }));
}

describe.each(Object.keys(BACKENDS))(
  'nightshift run resumes a killed process’s runs (%s)',
  (kind) => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      killLeftoverProcesses();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('sends no recorded request again, runs the idempotent tool again, never the webhook twice, and keeps the usage and the conversation', async () => {
      const space = createWorkspace();
      cleanups.push(() => space.remove());
      const tools = await startToolServer();
      cleanups.push(() => tools.close());
      const model = await startFakeOpenAIServer({ defaultReply: modelReplies(tools) });
      cleanups.push(() => model.close());
      const backend = await BACKENDS[kind]!(space);
      cleanups.push(() => backend.drop());
      cleanups.push(() => backend.store.close());
      const { store } = backend;
      const env = { [API_KEY_ENV]: 'sk-test-not-a-real-key' };
      const file = space.writeFile('nightshift.yaml', {
        ...backend.sections,
        agents: agentsOf(model, true),
      });

      const doomed = startCli(['run', file, ...SHORT_LEASE], env);
      const requestsOf = (agent: AgentId) =>
        model.requests.filter((request) => agentOf(request) === agent);
      // Every run at its point: each hang has been reached.
      await waitFor(
        () =>
          requestsOf('waiting').length === 1 &&
          tools.hits.get('/feed/reading') === 1 &&
          tools.hits.get('/hook/posting') === 1 &&
          requestsOf('thinking').length === 2
            ? true
            : undefined,
        `every run at its point\n${doomed.stdout.join('\n')}\n${doomed.stderr.join('\n')}`,
        20_000,
      );
      const killed = new Map<AgentId, RunRecord>();
      for (const agent of Object.keys(AGENTS) as AgentId[]) {
        const [run] = await store.runs.list(agent, { status: 'running' });
        expect(run, `${agent}'s run in flight`).toBeDefined();
        killed.set(agent, run!);
      }
      doomed.child.kill('SIGKILL');
      expect(await doomed.exited()).toBe('SIGKILL');

      // The second process runs the same agents, without a first tick of its own.
      space.writeFile('nightshift.yaml', { ...backend.sections, agents: agentsOf(model, false) });
      const revived = startCli(['run', file, ...SHORT_LEASE], env);
      const ended = new Map<AgentId, RunRecord>();
      for (const [agent, run] of killed) {
        ended.set(
          agent,
          await waitFor(
            async () => {
              const record = await store.runs.get(run.run_id);
              return record && record.status !== 'running' && record.status !== 'pending'
                ? record
                : undefined;
            },
            `${agent}'s run to end\n${revived.stdout.join('\n')}\n${revived.stderr.join('\n')}`,
            20_000,
          ),
        );
      }
      await revived.waitForLine(
        /thinking resumed \(attempt 2 from step 1\.\d+: 1 model call from the journal\)$/,
      );
      await revived.waitForLine(
        /posting resumed \(attempt 2 from step 1\.\d+: 1 model call from the journal, 1 tool call not run again\)$/,
      );
      revived.child.kill('SIGTERM');
      expect(await revived.exited(15_000), revived.stderr.join('\n')).toBe(0);

      for (const [agent, run] of ended) {
        expect(run.status, `${agent}: ${JSON.stringify(run.error)}`).toBe('completed');
        expect(run.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
          [1, 'interrupted'],
          [2, 'completed'],
        ]);
        expect(run.attempts[1]!.resumed_from).toBeDefined();
        const steps = await store.runs.listSteps(run.run_id);
        expect(steps.filter((step) => step.kind === 'resume')).toHaveLength(1);

        // Usage is the sum over what the server saw: every request sent, the tokens of every answer
        // (a request left hanging answered none).
        const tokens = answeredNumbers(agent).reduce((sum, number) => {
          const usage = usageOf(agent, number);
          return sum + usage.input_tokens + usage.output_tokens;
        }, 0);
        expect(run.usage).toMatchObject({
          requests: requestsOf(agent).length,
          total_tokens: tokens,
        });

        // The stored conversation is valid to send again: the run's turn once, nothing orphaned.
        const messages = await store.messages.list(agent);
        expect(sanitizeConversation(messages as never)).toHaveLength(messages.length);
        expect(messages.filter((message) => message.role === 'user')).toHaveLength(1);
        expect(messages.map((message) => message.role)).toEqual(
          agent === 'waiting' ? ['user', 'assistant'] : ['user', 'assistant', 'tool', 'assistant'],
        );
      }

      // Requests by how many messages they carried: an answered one is never sent again.
      const shapes = (agent: AgentId) =>
        requestsOf(agent).map((request) => messagesOf(request).length);
      expect(shapes('waiting')).toEqual([2, 2]); // the first was never answered
      expect(shapes('reading')).toEqual([2, 4]);
      expect(shapes('posting')).toEqual([2, 4]);
      expect(shapes('thinking')).toEqual([2, 4, 4]); // the second was never answered
      // The idempotent read ran again; the feed `thinking` had read, once; the post never twice.
      expect(tools.hits.get('/feed/reading')).toBe(2);
      expect(tools.hits.get('/feed/thinking')).toBe(1);
      expect(tools.hits.get('/hook/posting')).toBe(1);

      // What the model was told after the resume, under the tool call id it had given.
      const toolMessage = (agent: AgentId) =>
        messagesOf(requestsOf(agent).at(-1)!).find((message) => message.role === 'tool')!;
      expect(toolMessage('reading')).toMatchObject({ tool_call_id: 'call_reading' });
      expect(String(toolMessage('reading').content)).toContain('Rows archived overnight');
      expect(toolMessage('posting')).toMatchObject({ tool_call_id: 'call_posting' });
      expect(String(toolMessage('posting').content)).toContain('unknown_outcome');
      const postSteps = (await store.runs.listSteps(ended.get('posting')!.run_id)).filter(
        (step) => step.tool_name === 'http_fetch',
      );
      // The dead attempt's call stays as it was left; the resumed attempt records what it did.
      expect(postSteps).toMatchObject([
        { attempt: 1, state: 'started', tool_call_id: 'call_posting', idempotent: false },
        {
          attempt: 2,
          state: 'completed',
          tool_call_id: 'call_posting',
          outcome: 'unknown_outcome',
          result: { error: 'unknown_outcome' },
        },
      ]);
      expect(await store.runs.listUnfinished()).toEqual([]);
    });
  },
);

/** Whether the `index`-th request (0-based) of `agent` was left hanging by the model. */
function hung(agent: AgentId, index: number): boolean {
  return (agent === 'waiting' && index === 0) || (agent === 'thinking' && index === 1);
}

/** The 1-based request numbers of `agent` the model answered, in order. */
function answeredNumbers(agent: AgentId): number[] {
  const total = { waiting: 2, reading: 2, posting: 2, thinking: 3 }[agent];
  return Array.from({ length: total }, (_, index) => index + 1).filter(
    (number) => !hung(agent, number - 1),
  );
}
