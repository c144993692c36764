/**
 * A worker process for the distributed tests: a BackgroundAgentService on a Redis store whose
 * ticks come from the BullMQ scheduler, running until SIGTERM (graceful) or SIGKILL. Agents are
 * managed by the test through its own service.
 */
import { BackgroundAgentService, EventRouter, MemoryRouter } from '../../src/index.js';
import { createBullmqScheduler } from '../../src/service/bullmq/index.js';

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const storeUrl = required('NIGHTSHIFT_TEST_STORE_URL');
const namespace = required('NIGHTSHIFT_TEST_NAMESPACE');
const service = new BackgroundAgentService(
  new MemoryRouter('redis', { url: storeUrl, namespace }),
  new EventRouter('redis_stream', { url: storeUrl, namespace }),
  {
    scheduler: createBullmqScheduler({
      url: required('NIGHTSHIFT_TEST_BULLMQ_URL'),
      queueName: required('NIGHTSHIFT_TEST_QUEUE'),
      prefix: required('NIGHTSHIFT_TEST_PREFIX'),
      concurrency: Number(env.NIGHTSHIFT_TEST_CONCURRENCY ?? 50),
      reconcileIntervalMs: Number(env.NIGHTSHIFT_TEST_RECONCILE_MS ?? 30_000),
    }),
    leaseTtlMs: Number(env.NIGHTSHIFT_TEST_LEASE_TTL_MS ?? 1_500),
    instanceId: required('NIGHTSHIFT_TEST_INSTANCE'),
    logger: {
      info: () => undefined,
      warn: (object, message) => process.stderr.write(`${message} ${JSON.stringify(object)}\n`),
      error: (object, message) => process.stderr.write(`${message} ${JSON.stringify(object)}\n`),
    },
  },
);

process.on('SIGTERM', () => {
  void service
    .shutdown({ timeout: Number(env.NIGHTSHIFT_TEST_SHUTDOWN_MS ?? 5_000) })
    .then(() => process.exit(0));
});
// A deferred worker loads its code now and starts when told (SIGUSR2): tests start one later
// without waiting for the seconds loading takes.
if (env.NIGHTSHIFT_TEST_DEFERRED === '1') {
  process.stdout.write('loaded\n');
  // Nothing else is pending yet: without a timer, Node would end the process while it waits.
  const keepAlive = setInterval(() => undefined, 60_000);
  await new Promise((resolve) => process.once('SIGUSR2', resolve));
  clearInterval(keepAlive);
}
await service.startManager();
process.stdout.write('ready\n');
