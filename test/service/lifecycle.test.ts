import { describe, expect, it } from 'vitest';
import { NightshiftError } from '../../src/index.js';
import { waitFor } from '../helpers/wait-for.js';
import { collectEvents, makeService, scriptedAgent } from './service-fixtures.js';

describe('agent lifecycle', () => {
  it('creates, starts, runs on schedule, and reports status', async () => {
    const service = makeService();
    await service.startManager();
    const created = await service.create(scriptedAgent('fast', { interval: 0.1 }));
    expect(created).toMatchObject({
      agent_id: 'fast',
      state: 'created',
      run_count: 0,
      next_run_at: null,
    });
    await service.startAgent('fast');
    const status = await waitFor(async () => {
      const current = await service.getAgentStatus('fast');
      return current.run_count >= 2 ? current : undefined;
    });
    expect(status).toMatchObject({ state: 'active', error_count: 0, last_run_status: 'completed' });
    expect(status.next_run_at).not.toBeNull();
    expect(status.avg_duration_ms).toBeGreaterThanOrEqual(0);
    expect(status.total_tokens).toBeGreaterThan(0);
    const runs = await service.listRuns('fast');
    expect(runs[0]).toMatchObject({
      agent_id: 'fast',
      trigger: 'schedule',
      status: 'completed',
      output: 'fast done',
    });
    expect(runs[0]?.run_id).toBe(`fast.${new Date(runs[0]?.scheduled_at ?? 0).getTime()}`);
  });

  it('refuses a taken id with agent_exists and a bad definition with config_invalid, changing nothing', async () => {
    const service = makeService();
    await service.create(scriptedAgent('one'));
    await expect(service.create(scriptedAgent('one'))).rejects.toMatchObject({
      code: 'agent_exists',
    });
    const bad = await service
      .createFromUntyped({ ...scriptedAgent('two', { interval: -5 }), task_config: {} })
      .catch((error: unknown) => error);
    expect(NightshiftError.isInstance(bad) && bad.code).toBe('config_invalid');
    expect((bad as NightshiftError).fields.map((field) => field.path).sort()).toEqual([
      'interval',
      'task_config.query',
    ]);
    expect((await service.listAgents()).map((agent) => agent.agent_id)).toEqual(['one']);
    await expect(
      service.create(scriptedAgent('three', { tools: ['no_such_tool'] })),
    ).rejects.toThrow(/tools\[0\]: unknown tool/);
    await expect(service.getAgentStatus('ghost')).rejects.toMatchObject({
      code: 'agent_not_found',
    });
  });

  it('pause stops the ticks before the next one; resume counts the ticks missed while paused', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('paused', { interval: 0.05 }));
    await service.create(scriptedAgent('control', { interval: 0.05 }));
    await service.startAgent('paused');
    await service.startAgent('control');
    await waitFor(async () => (await service.getAgentStatus('paused')).run_count >= 1);
    const paused = await service.pauseAgent('paused', { reason: 'maintenance' });
    expect(paused).toMatchObject({
      state: 'paused',
      pause_reason: 'maintenance',
      next_run_at: null,
    });
    await waitFor(async () => !(await service.getAgentStatus('paused')).is_running);
    const frozen = (await service.getAgentStatus('paused')).run_count;
    const controlBefore = (await service.getAgentStatus('control')).run_count;
    // The control agent ticks on the same cadence: once it has run several more times, the paused one would have too.
    await waitFor(
      async () => (await service.getAgentStatus('control')).run_count >= controlBefore + 4,
    );
    expect((await service.getAgentStatus('paused')).run_count).toBe(frozen);

    const resumed = await service.resumeAgent('paused');
    expect(resumed.state).toBe('active');
    expect(resumed.missed_count).toBeGreaterThanOrEqual(3);
    await waitFor(async () => (await service.getAgentStatus('paused')).run_count > frozen);
  });

  it('stop takes the agent off its schedule and lets the run in flight finish; cancel ends it cancelled', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(
      scriptedAgent('slow', {
        model_config: { provider: 'scripted', script: [{ delay: 0.3, answer: 'late' }] },
      }),
    );
    const first = await service.runNow('slow');
    expect(first.status).toBe('running');
    await service.stopAgent('slow');
    const finished = await waitFor(async () => {
      const run = await service.getRun(first.run_id);
      return run.status === 'completed' ? run : undefined;
    });
    expect(finished.output).toBe('late');

    const second = await service.runNow('slow');
    const stopped = await service.stopAgent('slow', { cancel: true });
    expect(stopped.state).toBe('stopped');
    expect(await service.getRun(second.run_id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'cancelled' },
    });
  });

  it('emits lifecycle events in order with the runtime events of the same run', async () => {
    const service = makeService();
    await service.startManager();
    const events = collectEvents(service);
    await service.create(
      scriptedAgent('ordered', {
        tools: ['system_stats'],
        model_config: {
          provider: 'scripted',
          script: [
            { tool: 'system_stats' },
            { answer: 'mem {{system_stats.memory.used_percent}}' },
          ],
        },
      }),
    );
    const run = await service.runNow('ordered', { wait: true });
    expect(run.status).toBe('completed');
    await waitFor(() => events.some((event) => event.type === 'background_task_completed'));
    const ofRun = events.filter((event) => event.run_id === run.run_id).map((event) => event.type);
    expect(ofRun).toEqual([
      'background_task_started',
      'user_message',
      'tool_call_started',
      'tool_call_result',
      'final_answer',
      'background_task_completed',
    ]);
    expect(events.find((event) => event.type === 'background_task_started')?.payload).toMatchObject(
      {
        trigger: 'manual',
        attempt: 1,
        query: 'Do the task.',
      },
    );
    expect(
      events
        .filter((event) => event.type === 'background_agent_status')
        .map((event) => event.payload.state),
    ).toEqual(['created']);
  });

  it('runNow takes a query override and waits for the end on request', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('manual'));
    const run = await service.runNow('manual', { query: 'Something else.', wait: true });
    expect(run).toMatchObject({ trigger: 'manual', status: 'completed', query: 'Something else.' });
    expect((await service.getRunSteps(run.run_id)).map((step) => step.kind)).toEqual([
      'model_call',
    ]);
    await expect(service.getRun('nope')).rejects.toMatchObject({ code: 'run_not_found' });
  });

  it('updateAgent validates like create, keeps the state, and replaces the schedule kind', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('upd', { interval: 60 }));
    await service.startAgent('upd');
    await service.pauseAgent('upd');
    const updated = await service.updateAgent('upd', {
      cron: '0 9 * * *',
      timezone: 'Europe/Paris',
      task_config: { max_retries: 3 },
    });
    expect(updated).toMatchObject({
      state: 'paused',
      schedule: { cron: '0 9 * * *', timezone: 'Europe/Paris' },
    });
    expect(updated.schedule).not.toHaveProperty('interval');
    const definition = await service.getAgentDefinition('upd');
    expect(definition.task_config).toMatchObject({ query: 'Do the task.', max_retries: 3 });

    const before = await service.getAgentDefinition('upd');
    await expect(service.updateAgent('upd', { task_config: { timeout: 0 } })).rejects.toMatchObject(
      {
        code: 'config_invalid',
        fields: [{ path: 'task_config.timeout' }],
      },
    );
    await expect(service.updateAgent('upd', { agent_id: 'other' })).rejects.toMatchObject({
      code: 'config_invalid',
    });
    expect(await service.getAgentDefinition('upd')).toEqual(before);
    await service.updateAgent('upd', { task_config: { session_id: 'shared-notes' } });
    expect((await service.getAgentDefinition('upd')).task_config.session_id).toBe('shared-notes');
    await service.updateAgent('upd', { task_config: { session_id: null } });
    expect((await service.getAgentDefinition('upd')).task_config).not.toHaveProperty('session_id');
    const next = await service.nextRuns('upd', 2);
    expect(next).toHaveLength(2);
    expect(next.every((time) => /T0[78]:00:00.000Z$/.test(time))).toBe(true);
  });

  it('deleteAgent removes the agent and its runs', async () => {
    const service = makeService();
    await service.startManager();
    await service.create(scriptedAgent('gone'));
    const run = await service.runNow('gone', { wait: true });
    await service.deleteAgent('gone');
    await expect(service.getAgentStatus('gone')).rejects.toMatchObject({ code: 'agent_not_found' });
    await expect(service.getRun(run.run_id)).rejects.toMatchObject({ code: 'run_not_found' });
    await expect(service.deleteAgent('gone')).rejects.toMatchObject({ code: 'agent_not_found' });
  });

  it('refuses to pause a stopped agent or resume an active one with invalid_state', async () => {
    const service = makeService();
    await service.create(scriptedAgent('states'));
    await expect(service.pauseAgent('states')).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(service.resumeAgent('states')).rejects.toMatchObject({ code: 'invalid_state' });
  });
});
