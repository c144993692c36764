/**
 * A person in the loop across real processes on Postgres and Redis: a run asks for approval and
 * its manager is killed; another process approves; a third process, a new manager, takes the run
 * up from its journal, and the tool (a webhook POST to a local server) runs exactly once.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { uniqueName } from '../storage/postgres-server.js';
import { startManager } from './multi-process.js';
import { testableBackends, type Backend } from './shared-backends.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A local webhook that counts the POSTs it received. */
async function webhook(): Promise<{ url: string; posts: () => number; server: Server }> {
  let posts = 0;
  const server = createServer((request, response) => {
    if (request.method === 'POST') posts += 1;
    request.resume();
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ ok: true }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, posts: () => posts, server };
}

/** A SQLite file shared by the processes (one namespace: the file is the test's own). */
function sqliteFile(): Backend {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-approval-'));
  return {
    name: 'SQLite',
    url: `sqlite:${join(directory, 'nightshift.db')}`,
    memory: 'database',
    events: 'database',
    unavailable: undefined,
    drop: async () => rmSync(directory, { recursive: true, force: true }),
  };
}

describe.each([...testableBackends(), sqliteFile()])(
  'an approval across processes on $name',
  (backend) => {
    it('survives its manager being killed, is approved elsewhere, and runs the tool once in a third process', async () => {
      const hook = await webhook();
      cleanups.push(async () => hook.server.close());
      const namespace = uniqueName('ns_approval');
      cleanups.push(() => backend.drop(namespace));
      const control = new BackgroundAgentService(
        new MemoryRouter(backend.memory, { url: backend.url, namespace }),
        new EventRouter(backend.events, { url: backend.url, namespace }),
      );
      cleanups.push(() => control.shutdown());
      await control.create({
        agent_id: 'poster',
        interval: 3600,
        run_immediately: true,
        model_config: {
          provider: 'scripted',
          script: [
            { tool: 'http_fetch', args: { url: hook.url, method: 'POST', json: { text: 'hi' } } },
            { answer: 'posted' },
          ],
        },
        task_config: { query: 'post the note', max_retries: 0 },
        tools: ['http_fetch'],
        allow_hosts: ['127.0.0.1'],
        agent_config: { approvals: [{ tools: ['http_fetch'], when: { method: 'POST' } }] },
      });
      const environment = {
        NIGHTSHIFT_TEST_URL: backend.url,
        NIGHTSHIFT_TEST_MEMORY: backend.memory,
        NIGHTSHIFT_TEST_EVENTS: backend.events,
        NIGHTSHIFT_TEST_NAMESPACE: namespace,
      };
      const first = await startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'first' });
      cleanups.push(() => first.stop());
      await control.startAgent('poster');
      const [approval] = await waitFor(
        async () => {
          const pending = await control.listApprovals({ state: 'pending', agent_id: 'poster' });
          return pending.length > 0 ? pending : undefined;
        },
        { timeoutMs: 20_000, what: 'the approval to be requested' },
      );
      await waitFor(
        async () => (await control.getRun(approval!.run_id)).status === 'awaiting_approval',
      );
      expect(hook.posts()).toBe(0);

      first.child.kill('SIGKILL');
      // Another process (this one, which runs no agents) approves while no manager is up.
      await control.decideApproval(approval!.approval_id, { decision: 'approve', by: 'ana' });
      const third = await startManager({ ...environment, NIGHTSHIFT_TEST_INSTANCE: 'third' });
      cleanups.push(() => third.stop());
      const done = await waitFor(
        async () => {
          const run = await control.getRun(approval!.run_id);
          return run.status === 'completed' ? run : undefined;
        },
        { timeoutMs: 20_000, what: 'the run to complete in the third process' },
      );
      expect(hook.posts()).toBe(1);
      expect(done.attempts.map((attempt) => [attempt.status, attempt.worker_id])).toEqual([
        ['awaiting_approval', 'first'],
        ['completed', 'third'],
      ]);
      expect(await third.stop()).toBe(0);
      expect(hook.posts()).toBe(1);
    });
  },
);
