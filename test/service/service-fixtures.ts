import type { AgentDefinitionInput } from '../../src/config/agent-definition.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { afterEach } from 'vitest';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type BackgroundAgentServiceOptions,
  type NightshiftEvent,
} from '../../src/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh SQLite file path in its own temp directory, removed after the test. */
export function temporaryDatabase(): string {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-service-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return `sqlite:${join(directory, 'nightshift.db')}`;
}

/** A service on a store (in memory by default), shut down after the test. */
export function makeService(
  options: BackgroundAgentServiceOptions & { url?: string } = {},
): BackgroundAgentService {
  const { url, ...serviceOptions } = options;
  const service = url
    ? new BackgroundAgentService(
        new MemoryRouter('database', { url }),
        new EventRouter('database', { url }),
        serviceOptions,
      )
    : new BackgroundAgentService(
        new MemoryRouter('in_memory'),
        new EventRouter('in_memory'),
        serviceOptions,
      );
  cleanups.push(() => service.shutdown({ timeout: 1000 }));
  return service;
}

/** A scripted agent definition answering at once; override any key. */
export function scriptedAgent(
  agentId: string,
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return {
    agent_id: agentId,
    interval: 60,
    model_config: { provider: 'scripted', script: [{ answer: `${agentId} done` }] },
    task_config: { query: 'Do the task.' },
    ...overrides,
  };
}

/** An agent on a model registered in code under the provider name `test`. */
export function testAgent(
  agentId: string,
  overrides: Partial<AgentDefinitionInput> = {},
): AgentDefinitionInput {
  return scriptedAgent(agentId, {
    model_config: { provider: 'test', model: 'test-model' },
    ...overrides,
  });
}

/** A `providers` option that serves `model` under the name `test`. */
export function testProvider(model: LanguageModelV3): BackgroundAgentServiceOptions['providers'] {
  return { test: () => model };
}

/** Collects every event of the service's log (fleet-wide) from now on. */
export function collectEvents(service: BackgroundAgentService): NightshiftEvent[] {
  const events: NightshiftEvent[] = [];
  const controller = new AbortController();
  cleanups.push(() => controller.abort());
  void (async () => {
    for await (const event of service.streamAgentEvents(undefined, {
      since: '0',
      signal: controller.signal,
    }))
      events.push(event);
  })();
  return events;
}

/** Registers a cleanup to run after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}
