/**
 * A person in the loop: a tool call an approval rule matches waits for a decision, its run waits
 * in `awaiting_approval` holding nothing, and the decision — from any process sharing the store —
 * applies once. Against a real HTTP server speaking the OpenAI wire format, with a tool that
 * counts what it really did.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import type {
  BackgroundAgentService,
  BackgroundAgentServiceOptions,
  NightshiftEvent,
  RunRecord,
  ToolDefinition,
} from '../../src/index.js';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../helpers/fake-openai-server.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectEvents, makeService, temporaryDatabase } from './service-fixtures.js';

let server: FakeOpenAIServer;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
  written.length = 0;
});
afterEach(async () => {
  await server.close();
});

/** What the tool really wrote, in order. */
const written: string[] = [];
const writeNote: ToolDefinition<{ path: string; text?: string }> = {
  description: 'Writes a note to a file.',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string' }, text: { type: 'string' } },
    required: ['path'],
  },
  execute: ({ path }) => {
    written.push(path);
    return { written: path };
  },
};

function agent(
  agentId: string,
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return {
    agent_id: agentId,
    interval: 3600,
    model_config: { provider: 'openai_compatible', model: 'gpt-test', base_url: server.baseURL },
    task_config: { query: 'Write the note, then answer.', max_retries: 0 },
    tools: ['write_note'],
    agent_config: { approvals: [{ tools: ['write_note'] }] },
    ...overrides,
  };
}

/** The model asks to write `path`, then answers. */
function enqueueRun(path = 'notes.txt'): void {
  server.enqueue(
    { tool_calls: [{ name: 'write_note', args: { path, text: 'hello' } }] },
    { text: 'Done.' },
  );
}

function serviceOn(url: string, options: BackgroundAgentServiceOptions = {}) {
  return makeService({
    url,
    tools: { write_note: writeNote as ToolDefinition<never> },
    ...options,
  });
}

async function manager(url: string, options: BackgroundAgentServiceOptions = {}) {
  const svc = serviceOn(url, options);
  await svc.startManager();
  return svc;
}

function ofType<Type extends NightshiftEvent['type']>(
  events: NightshiftEvent[],
  type: Type,
): Extract<NightshiftEvent, { type: Type }>[] {
  return events.filter((event): event is Extract<NightshiftEvent, { type: Type }> => {
    return event.type === type;
  });
}

async function waitingRun(svc: BackgroundAgentService, agentId: string): Promise<RunRecord> {
  const run = await svc.runNow(agentId, { wait: true });
  expect(run.status).toBe('awaiting_approval');
  return run;
}

async function ended(svc: BackgroundAgentService, runId: string): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await svc.getRun(runId);
      return run.status === 'awaiting_approval' || run.status === 'running' ? undefined : run;
    },
    { what: `run ${runId} to end` },
  );
}

/** The tool result the model was sent in the request after the call. */
function toolResultSent(requestIndex: number): unknown {
  const messages = server.requests[requestIndex]?.body.messages as
    { role: string; content: string }[] | undefined;
  const tool = messages?.find((message) => message.role === 'tool');
  return tool ? JSON.parse(tool.content) : undefined;
}

describe('approvals before chosen tool calls', () => {
  it('waits in awaiting_approval without running the tool, and an approval from another process runs it once', async () => {
    const url = temporaryDatabase();
    // The periodic sync is far off: only the decision's event can wake the run in time.
    const svc = await manager(url, { syncIntervalMs: 600_000 });
    const events = collectEvents(svc);
    await svc.create(agent('scribe'));
    enqueueRun();
    const waiting = await waitingRun(svc, 'scribe');

    expect(written).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(waiting).toMatchObject({
      lease_owner: null,
      error: { code: 'approval_required', approval: { tool_name: 'write_note' } },
    });
    const [approval] = await svc.listApprovals({ state: 'pending' });
    expect(approval).toMatchObject({
      run_id: waiting.run_id,
      agent_id: 'scribe',
      tool_name: 'write_note',
      arguments: { path: 'notes.txt', text: 'hello' },
      state: 'pending',
      on_timeout: 'deny',
    });
    expect(Date.parse(approval!.expires_at) - Date.parse(approval!.requested_at)).toBe(86_400_000);
    expect(await svc.getAgentStatus('scribe')).toMatchObject({ waiting_runs: 1, running_runs: 0 });
    await waitFor(() => ofType(events, 'approval_requested').length === 1);

    const operator = serviceOn(url);
    const decided = await operator.decideApproval(approval!.approval_id, {
      decision: 'approve',
      by: 'ana',
      note: 'looks right',
    });
    expect(decided).toMatchObject({ state: 'approved', decided_by: 'ana', note: 'looks right' });
    const done = await ended(svc, waiting.run_id);
    expect(done).toMatchObject({ status: 'completed', output: 'Done.' });
    expect(written).toEqual(['notes.txt']);
    // One more request only: the reply asking for the call came from the journal.
    expect(server.requests).toHaveLength(2);
    expect(toolResultSent(1)).toEqual({ written: 'notes.txt' });
    const toolStep = (await svc.getRunSteps(waiting.run_id)).find(
      (step) => step.kind === 'tool_call',
    );
    expect(toolStep?.approval).toEqual({
      approval_id: approval!.approval_id,
      state: 'approved',
      decided_by: 'ana',
      edited: false,
    });
    // Decided once: the second person is told who was first.
    await expect(
      operator.decideApproval(approval!.approval_id, { decision: 'deny', by: 'bo' }),
    ).rejects.toMatchObject({ code: 'invalid_state', message: expect.stringMatching(/by ana/) });
    expect(await svc.getAgentStatus('scribe')).toMatchObject({ waiting_runs: 0, run_count: 1 });
  });

  it('tells the model a denied call was denied, with the note, and the run goes on', async () => {
    const svc = await manager(temporaryDatabase(), { syncIntervalMs: 600_000 });
    await svc.create(agent('denied'));
    enqueueRun();
    const waiting = await waitingRun(svc, 'denied');
    const [approval] = await svc.listApprovals({ agent_id: 'denied' });
    await svc.decideApproval(approval!.approval_id, {
      decision: 'deny',
      by: 'ana',
      note: 'not that file',
    });
    expect(await ended(svc, waiting.run_id)).toMatchObject({ status: 'completed' });
    expect(written).toEqual([]);
    expect(toolResultSent(1)).toEqual({
      error: 'denied',
      note: 'not that file',
      decided_by: 'ana',
    });
  });

  it('runs an approved call with the arguments the person gave, recorded as edited', async () => {
    const svc = await manager(temporaryDatabase(), { syncIntervalMs: 600_000 });
    await svc.create(agent('edited'));
    enqueueRun('/etc/passwd');
    const waiting = await waitingRun(svc, 'edited');
    const [approval] = await svc.listApprovals({ run_id: waiting.run_id });
    await expect(
      svc.decideApproval(approval!.approval_id, {
        decision: 'deny',
        by: 'ana',
        arguments: { path: 'x' },
      }),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'arguments' })],
    });
    await svc.decideApproval(approval!.approval_id, {
      decision: 'approve',
      by: 'ana',
      arguments: { path: 'notes/safe.txt', text: 'hello' },
    });
    expect(await ended(svc, waiting.run_id)).toMatchObject({ status: 'completed' });
    expect(written).toEqual(['notes/safe.txt']);
    const toolStep = (await svc.getRunSteps(waiting.run_id)).find(
      (step) => step.kind === 'tool_call',
    );
    expect(toolStep).toMatchObject({
      args: { path: 'notes/safe.txt', text: 'hello' },
      approval: { state: 'approved', edited: true },
    });
  });

  it('applies on_timeout once nobody decides in time (an injected clock)', async () => {
    let now = new Date('2026-12-03T09:00:00Z');
    const svc = await manager(temporaryDatabase(), { now: () => now, syncIntervalMs: 50 });
    const events = collectEvents(svc);
    await svc.create(
      agent('patient', {
        agent_config: {
          approvals: [
            { tools: ['write_note'], when: { path: { pattern: '^/etc/' } }, timeout: 60 },
            { tools: ['write_note'], timeout: 60, on_timeout: 'approve' },
          ],
        },
      }),
    );
    enqueueRun('/etc/hosts');
    const denied = await waitingRun(svc, 'patient');
    now = new Date('2026-12-03T09:01:01Z');
    expect(await ended(svc, denied.run_id)).toMatchObject({ status: 'completed' });
    expect(written).toEqual([]);
    expect(toolResultSent(1)).toMatchObject({ error: 'denied', decided_by: 'timeout' });
    const [expired] = await svc.listApprovals({ run_id: denied.run_id });
    expect(expired).toMatchObject({ state: 'expired', decided_by: 'timeout' });

    enqueueRun('notes.txt');
    const approved = await waitingRun(svc, 'patient');
    now = new Date('2026-12-03T09:03:00Z');
    expect(await ended(svc, approved.run_id)).toMatchObject({ status: 'completed' });
    expect(written).toEqual(['notes.txt']);
    expect(
      ofType(events, 'approval_decided').map((event) => [
        event.payload.state,
        event.payload.decided_by,
      ]),
    ).toEqual([
      ['expired', 'timeout'],
      ['expired', 'timeout'],
    ]);
  });

  it('asks only when the rule’s `when` matches the arguments', async () => {
    const svc = await manager(temporaryDatabase());
    await svc.create(
      agent('picky', {
        agent_config: { approvals: [{ tools: ['write_*'], when: { path: { pattern: '^/' } } }] },
      }),
    );
    enqueueRun('relative.txt');
    expect(await svc.runNow('picky', { wait: true })).toMatchObject({ status: 'completed' });
    expect(written).toEqual(['relative.txt']);
    expect(await svc.listApprovals()).toEqual([]);
  });

  it('applies one of two decisions made at once; the other gets invalid_state', async () => {
    const url = temporaryDatabase();
    const svc = await manager(url, { syncIntervalMs: 600_000 });
    await svc.create(agent('contested'));
    enqueueRun();
    const waiting = await waitingRun(svc, 'contested');
    const [approval] = await svc.listApprovals({ run_id: waiting.run_id });
    const other = serviceOn(url);
    const outcomes = await Promise.allSettled([
      svc.decideApproval(approval!.approval_id, { decision: 'approve', by: 'ana' }),
      other.decideApproval(approval!.approval_id, { decision: 'deny', by: 'bo' }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'invalid_state' });
    await ended(svc, waiting.run_id);
    const winner = (await svc.getApproval(approval!.approval_id)).decided_by;
    expect(written).toEqual(winner === 'ana' ? ['notes.txt'] : []);
  });

  it('counts a waiting run as running under overlap skip, and stopping the agent closes its approval', async () => {
    const svc = await manager(temporaryDatabase(), { syncIntervalMs: 600_000 });
    await svc.create(agent('busy'));
    enqueueRun();
    const waiting = await waitingRun(svc, 'busy');
    expect(await svc.runNow('busy', { wait: true })).toMatchObject({
      status: 'skipped',
      skip_reason: `overlap: the previous run (${waiting.run_id}) is awaiting_approval`,
    });
    await svc.stopAgent('busy');
    expect((await svc.getRun(waiting.run_id)).status).toBe('cancelled');
    const [closed] = await svc.listApprovals({ run_id: waiting.run_id });
    expect(closed).toMatchObject({ state: 'denied', decided_by: 'nightshift' });
    await expect(
      svc.decideApproval(closed!.approval_id, { decision: 'approve', by: 'ana' }),
    ).rejects.toMatchObject({ code: 'invalid_state' });
  });

  it('refuses rules naming tools the agent lacks, bad patterns and bad decisions, by field', async () => {
    const svc = serviceOn(temporaryDatabase());
    await expect(
      svc.create(agent('bad', { agent_config: { approvals: [{ tools: ['sql_archive'] }] } })),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'agent_config.approvals[0].tools[0]' })],
    });
    await expect(
      svc.create(
        agent('bad', {
          agent_config: {
            approvals: [{ tools: ['write_note'], when: { path: { pattern: '(' } } }],
          },
        }),
      ),
    ).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [expect.objectContaining({ path: 'agent_config.approvals[0].when.path.pattern' })],
    });
    await expect(
      svc.decideApproval('nope', { decision: 'approve', by: 'ana' }),
    ).rejects.toMatchObject({ code: 'approval_not_found' });
    await expect(svc.decideApproval('nope', { decision: 'maybe', by: '' })).rejects.toMatchObject({
      code: 'config_invalid',
      fields: [
        expect.objectContaining({ path: 'decision' }),
        expect.objectContaining({ path: 'by' }),
      ],
    });
  });
});
