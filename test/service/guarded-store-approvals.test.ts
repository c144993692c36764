import { describe, expect, it } from 'vitest';
import { guardedStore } from '../../src/service/guarded-store.js';
import { Redactor } from '../../src/service/redactor.js';
import { createMemoryStore } from '../../src/storage/index.js';
import { approvalRecord, decisionBy } from '../storage/contracts/approval-store.js';

describe('the guarded store, for approvals (promise 8)', () => {
  it('redacts the arguments, the edited arguments and the note before they are stored', async () => {
    const secret = 'sk-test-approval-0123456789abcdef';
    const redactor = new Redactor();
    redactor.add(secret);
    const inner = createMemoryStore();
    const store = guardedStore(inner, redactor);
    const approval = approvalRecord('run-1', 'call-1', {
      arguments: { command: `curl -H 'Authorization: Bearer ${secret}' https://example.com` },
    });

    expect(await store.approvals.request(approval)).toBe(true);
    const decided = await store.approvals.decide(
      approval.approval_id,
      decisionBy('ana', { note: `never send ${secret}`, edited_arguments: { token: secret } }),
    );

    const stored = await inner.approvals.get(approval.approval_id);
    expect(stored).toEqual(decided);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored).toMatchObject({
      arguments: { command: expect.stringContaining('[redacted]') as unknown },
      note: 'never send [redacted]',
      edited_arguments: { token: '[redacted]' },
    });
    expect(await store.approvals.list({ run_id: 'run-1' })).toEqual([stored]);
    await store.approvals.deleteByAgent('alpha');
    expect(await inner.approvals.get(approval.approval_id)).toBeUndefined();
  });
});
