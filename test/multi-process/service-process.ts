/**
 * A manager process for multi-process tests: runs a BackgroundAgentService on the store the
 * environment names until SIGTERM. Agents are created by the test beforehand.
 */
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  type EventBackendKind,
  type MemoryBackendKind,
} from '../../src/index.js';
import type { FleetBudgets } from '../../src/service/index.js';

const env = process.env;
const namespace = env.NIGHTSHIFT_TEST_NAMESPACE;
const service = new BackgroundAgentService(
  new MemoryRouter((env.NIGHTSHIFT_TEST_MEMORY ?? 'database') as MemoryBackendKind, {
    url: env.NIGHTSHIFT_TEST_URL,
    ...(namespace ? { namespace } : {}),
  }),
  new EventRouter((env.NIGHTSHIFT_TEST_EVENTS ?? 'database') as EventBackendKind, {
    url: env.NIGHTSHIFT_TEST_URL,
    ...(namespace ? { namespace } : {}),
  }),
  {
    leaseTtlMs: Number(env.NIGHTSHIFT_TEST_LEASE_TTL_MS ?? 2000),
    instanceId: env.NIGHTSHIFT_TEST_INSTANCE,
    // The fleet's and the tags' budgets, as JSON (the service option `budgets`).
    ...(env.NIGHTSHIFT_TEST_BUDGETS
      ? { budgets: JSON.parse(env.NIGHTSHIFT_TEST_BUDGETS) as FleetBudgets }
      : {}),
  },
);

process.on('SIGTERM', () => {
  void service.shutdown({ timeout: 5000 }).then(() => process.exit(0));
});
await service.startManager();
// A manager with no active agent has only unref'd timers: keep it alive until SIGTERM, as the CLI does.
setInterval(() => undefined, 60_000);
process.stdout.write('ready\n');
