import { describe, expect, it } from 'vitest';
import { createMemoryEventLog, createMemoryStore } from '../../src/storage/index.js';
import { describeAgentStore } from './contracts/agent-store.js';
import { describeApprovalStore } from './contracts/approval-store.js';
import { describeBudgetStore } from './contracts/budget-store.js';
import { describeEventLog } from './contracts/event-log.js';
import { agentMessage, type StoreFactory } from './contracts/fixtures.js';
import { describeLeaseStore } from './contracts/lease-store.js';
import { describeRunPhases } from './contracts/run-phases.js';
import { describeMessageStore } from './contracts/message-store.js';
import { describeRunStore } from './contracts/run-store.js';

const storeFactory: StoreFactory = async (options = {}) => {
  const store = createMemoryStore({ now: options.now });
  return { store, cleanup: () => store.close() };
};

describeAgentStore('memory', storeFactory);
describeRunStore('memory', storeFactory);
describeMessageStore('memory', storeFactory);
describeLeaseStore('memory', storeFactory);
describeRunPhases('memory', storeFactory);
describeBudgetStore('memory', storeFactory);
describeApprovalStore('memory', storeFactory);
describeEventLog('memory', async (options) => {
  const log = createMemoryEventLog(options);
  return { log, cleanup: () => log.close() };
});

describe('memory event log', () => {
  it('numbers events "1", "2", … and keeps exactly the newest maxEvents', async () => {
    const log = createMemoryEventLog({ maxEvents: 3 });
    for (let index = 0; index < 10; index += 1)
      await log.append(agentMessage('alpha', `m${index}`));
    expect((await log.read()).map((event) => event.id)).toEqual(['8', '9', '10']);
  });

  it('keeps 10,000 events by default', async () => {
    const log = createMemoryEventLog();
    for (let index = 0; index < 10_001; index += 1) await log.append(agentMessage('alpha', 'm'));
    const kept = await log.read({ limit: 20_000 });
    expect(kept).toHaveLength(10_000);
    expect(kept[0]?.id).toBe('2');
  });

  it('describes itself as in_memory', () => {
    expect(createMemoryStore().description).toBe('in_memory');
  });
});
