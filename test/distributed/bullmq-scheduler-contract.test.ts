import { describe } from 'vitest';
import { createBullmqScheduler } from '../../src/service/bullmq/index.js';
import { describeTickScheduler } from '../service/contracts/tick-scheduler.js';
import { probeRedis } from '../storage/redis-server.js';
import { dropFleet, newFleet } from './fleet.js';

const redis = await probeRedis();

describe.skipIf(!redis.available)('BullMQ scheduler', () => {
  describeTickScheduler(
    'BullMQ',
    async (target, now, context) => {
      // A queue of its own per scheduler: its job schedulers, cursors and workers are apart.
      const fleet = newFleet();
      const factory = createBullmqScheduler({
        url: fleet.bullmqUrl,
        queueName: fleet.queueName,
        prefix: fleet.prefix,
      });
      return { scheduler: factory(target, now, context), cleanup: () => dropFleet(fleet) };
    },
    { distributed: true },
  );
});
