import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/storage/redis/index.js';
import { approvalRecord, decisionBy } from './contracts/approval-store.js';
import { deleteKeys, freshPrefix, keysUnder, probeRedis, REDIS_URL } from './redis-server.js';

const redis = await probeRedis();
if (!redis.available && process.env.CI !== 'true') {
  console.log(`skipped the Redis approval keys test: ${redis.reason}`);
}

describe.skipIf(!redis.available && process.env.CI !== 'true')('redis approval keys', () => {
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  const prefix = freshPrefix();
  const store = createRedisStore({ url: REDIS_URL, namespace: prefix.slice(0, -1) });

  afterEach(async () => {
    await deleteKeys(admin, prefix);
  });
  afterAll(async () => {
    await store.close();
    await admin.quit();
  });

  /** The keys under the prefix, without it and without the scripts' short-lived receipts. */
  async function dataKeys(): Promise<string[]> {
    return (await keysUnder(admin, prefix))
      .map((key) => key.slice(prefix.length))
      .filter((key) => !key.startsWith('receipt:'));
  }

  it('keeps each approval in its state, agent and run index, and moves it on a decision', async () => {
    const approval = approvalRecord('run-a', 'call-1');
    await store.approvals.request(approval);
    const member = `${approval.requested_at}\u0000${approval.approval_id}`;
    expect(await dataKeys()).toEqual([
      'agent-approvals:alpha',
      'approval:run-a/call-1',
      'approvals-by-state:pending',
      'run-approvals:run-a',
    ]);
    await store.approvals.decide(approval.approval_id, decisionBy('ana', { state: 'denied' }));
    expect(await admin.zrange(`${prefix}approvals-by-state:denied`, '0', '-1')).toEqual([member]);
    expect(await admin.exists(`${prefix}approvals-by-state:pending`)).toBe(0);
    expect(await admin.zrange(`${prefix}agent-approvals:alpha`, '0', '-1')).toEqual([member]);
  });

  it("deletes an agent's approvals with every index entry they had, and nothing of another agent", async () => {
    const alpha = [
      approvalRecord('run-a', 'call-1'),
      approvalRecord('run-a', 'call-2'),
      approvalRecord('run-b', 'call-1'),
    ];
    const bravo = approvalRecord('run-c', 'call-1', { agent_id: 'bravo' });
    for (const approval of [...alpha, bravo]) await store.approvals.request(approval);
    await store.approvals.decide('run-a/call-2', decisionBy('ana'));

    await store.approvals.deleteByAgent('alpha');
    expect(await dataKeys()).toEqual([
      'agent-approvals:bravo',
      'approval:run-c/call-1',
      'approvals-by-state:pending',
      'run-approvals:run-c',
    ]);
    expect(await admin.zrange(`${prefix}approvals-by-state:pending`, '0', '-1')).toEqual([
      `${bravo.requested_at}\u0000${bravo.approval_id}`,
    ]);
  });
});
