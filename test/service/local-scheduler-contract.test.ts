import { schedulerFactoryFor } from '../../src/service/scheduler-settings.js';
import { describeTickScheduler } from './contracts/tick-scheduler.js';

describeTickScheduler(
  'local',
  async (target, now, context) => ({
    scheduler: schedulerFactoryFor({ kind: 'local' })(target, now, context),
  }),
  { distributed: false },
);
