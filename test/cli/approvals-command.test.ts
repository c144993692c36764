/**
 * `nightshift approvals` through a server, and the same over the HTTP API: list the tool calls
 * waiting for a person, approve one (the run goes on), deny one, and the second decision's 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { BackgroundAgentService } from '../../src/service/index.js';
import { EventRouter, MemoryRouter } from '../../src/storage/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { scriptedAgent } from './cli-process.js';
import { runInProcess } from './in-process.js';

const TOKEN = 'approval-token-7c2d9e';

/** The cells of a table line (columns are two or more spaces apart). */
const cells = (line: string | undefined) => (line ?? '').trim().split(/\s{2,}/);

describe('nightshift approvals, through a server', () => {
  let service: BackgroundAgentService;
  let server: RunningServer;
  let url: string;

  const cli = (argv: string[]) => runInProcess([...argv, '--url', url, '--token', TOKEN], {});
  const api = async (
    method: string,
    path: string,
    payload?: unknown,
  ): Promise<{ status: number; body: ReturnType<typeof JSON.parse> }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    return { status: response.status, body: await response.json() };
  };

  /** A run of the agent that stops at its tool call, waiting for a person. */
  async function waiting(agentId: string) {
    const run = await service.runNow(agentId, { wait: true });
    expect(run.status).toBe('awaiting_approval');
    return run;
  }

  beforeAll(async () => {
    service = new BackgroundAgentService(
      new MemoryRouter('in_memory'),
      new EventRouter('in_memory'),
      { env: {} },
    );
    await service.startManager();
    await service.createFromUntyped(
      scriptedAgent('checker', {
        interval: 3600,
        tools: ['system_stats'],
        agent_config: { approvals: [{ tools: ['system_stats'], timeout: 3600 }] },
        model_config: {
          provider: 'scripted',
          script: [{ tool: 'system_stats', args: { top_processes: 3 } }, { answer: 'checked' }],
        },
      }),
    );
    server = await startServer(service, { port: 0, token: TOKEN });
    url = server.url;
  });

  afterAll(async () => {
    await server.close();
    await service.shutdown();
  });

  it('lists the pending approvals and approves one: the run goes on and completes', async () => {
    const run = await waiting('checker');
    const listed = await cli(['approvals']);
    expect(listed.stderr).toEqual([]);
    expect(cells(listed.stdout[0])).toEqual([
      'APPROVAL',
      'AGENT',
      'TOOL',
      'ARGUMENTS',
      'STATE',
      'REQUESTED',
      'EXPIRES',
    ]);
    const row = cells(listed.stdout[1]);
    expect(row.slice(0, 5)).toEqual([
      expect.stringMatching(new RegExp(`^${run.run_id.replace('.', '\\.')}:`)),
      'checker',
      'system_stats',
      expect.stringContaining('"top_processes":3'),
      'pending',
    ]);
    const approved = await cli(['approvals', 'approve', row[0]!, '--by', 'ana', '--note', 'ok']);
    expect(approved.stderr).toEqual([]);
    expect(approved.stdout[0]).toBe(
      `${row[0]} approved by ana: system_stats of run ${run.run_id} (ok)`,
    );
    await waitFor(async () => (await service.getRun(run.run_id)).status === 'completed');
    expect((await cli(['approvals'])).stdout).toEqual([`no pending approvals at ${url}`]);
    const decided = await cli(['approvals', 'list', '--state', 'approved', '--json']);
    expect(JSON.parse(decided.stdout.join('\n'))).toEqual([
      expect.objectContaining({ approval_id: row[0], state: 'approved', decided_by: 'ana' }),
    ]);
    // A second decision: 409 from the server, said plainly.
    const again = await cli(['approvals', 'deny', row[0]!, '--by', 'bo']);
    expect(again.code).not.toBe(0);
    expect(again.stderr.join('\n')).toMatch(/approved already by ana/);
  });

  it('over the API: lists by state, denies with a note, answers 404, 409 and 400 by field', async () => {
    const run = await waiting('checker');
    const pending = await api('GET', '/api/approvals?state=pending');
    expect(pending.status).toBe(200);
    const [approval] = pending.body.approvals as { approval_id: string; run_id: string }[];
    expect(approval?.run_id).toBe(run.run_id);
    const id = encodeURIComponent(approval!.approval_id);
    expect((await api('GET', `/api/approvals/${id}`)).body).toMatchObject({ state: 'pending' });

    const bad = await api('POST', `/api/approvals/${id}/deny`, { by: 'ana', arguments: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields).toEqual([expect.objectContaining({ path: 'arguments' })]);
    const denied = await api('POST', `/api/approvals/${id}/deny`, { by: 'ana', note: 'not now' });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ state: 'denied', decided_by: 'ana', note: 'not now' });
    await waitFor(async () => (await service.getRun(run.run_id)).status === 'completed');
    expect((await api('POST', `/api/approvals/${id}/approve`, { by: 'bo' })).status).toBe(409);
    expect((await api('GET', '/api/approvals/nope')).status).toBe(404);
    expect((await api('GET', '/api/approvals?state=maybe')).status).toBe(400);
    const steps = await service.getRunSteps(run.run_id);
    expect(steps.find((step) => step.kind === 'tool_call')).toMatchObject({
      result: { error: 'denied', note: 'not now', decided_by: 'ana' },
    });
  });
});
