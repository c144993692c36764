import type { AgentRecord } from '../storage/contracts/index.js';
import { trackAgent } from './agent-tracker.js';
import type { ServiceContext } from './service-context.js';

/** The `reason` of the status event an agent's timed pause ending announces. */
export const TIMED_RESUME_REASON = 'timed_resume';

/** Longest single timer Node.js keeps (about 24.8 days); a longer wait re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A manager's one timer, for the earliest end of a timed pause it knows of. */
interface ResumeTimer {
  timer: NodeJS.Timeout;
  /** When it is due (ms since the epoch, by the service's clock). */
  at: number;
}

/** Each manager's timer (a service's context is its manager). */
const timers = new WeakMap<ServiceContext, ResumeTimer>();

/** True for a process that runs agents and is not shutting down: the ones that resume. */
function manages(context: ServiceContext): boolean {
  return context.scheduler !== undefined && !context.shuttingDown;
}

/**
 * Resumes every agent whose timed pause has ended (by the service's clock), once fleet-wide, and
 * arms this manager's timer for the earliest end still to come. `records` are the agents as just
 * listed (the periodic sync's), else they are listed here. Each resume is a conditional update
 * of the agent, applied only if it is still paused until that same instant: of managers sweeping
 * at once exactly one resumes it and announces it (`background_agent_status`, reason
 * `timed_resume`), and a pause moved or resumed meanwhile is left alone. An agent whose stored
 * record cannot run stays paused until an update fixes it. Only managers resume; never throws (a
 * failure is logged, and the next sweep tries again).
 */
export async function resumeDuePauses(
  context: ServiceContext,
  records?: readonly AgentRecord[],
): Promise<void> {
  if (!manages(context)) return;
  try {
    const agents = records ?? (await (await context.connect()).store.agents.list());
    const now = context.now().getTime();
    let next: number | undefined;
    for (const record of agents) {
      if (record.state !== 'paused' || record.paused_until === undefined) continue;
      const at = Date.parse(record.paused_until);
      if (at > now) next = next === undefined ? at : Math.min(next, at);
      else if (!context.checker.problemOf(record)) await resumeTimedPause(context, record);
    }
    if (next !== undefined) arm(context, next);
  } catch (error) {
    if (!context.shuttingDown) context.logFailure(error, 'resuming timed pauses');
  }
}

/**
 * A timed pause made (or moved) in this process: a manager arms its timer for it, unless the
 * timer is due sooner already. Other managers arm theirs at their next sweep.
 */
export function armTimedResume(context: ServiceContext, until: string): void {
  if (manages(context)) arm(context, Date.parse(until));
}

/** The agent back on its schedule, if it is still paused until when it was read to be. */
async function resumeTimedPause(context: ServiceContext, record: AgentRecord): Promise<void> {
  const { store } = await context.connect();
  const resumed = await store.agents.update(
    record.agent_id,
    { state: 'active', pause_reason: null, paused_by: null, paused_until: null },
    { state: 'paused', paused_until: record.paused_until ?? null },
  );
  // Another manager resumed it first, or a person changed the pause meanwhile.
  if (!resumed) return;
  context.logger.info(
    { agent_id: record.agent_id, paused_until: record.paused_until },
    `nightshift: agent ${record.agent_id} resumed: its timed pause ended`,
  );
  await trackAgent(context, resumed);
  await context.publishStatus(resumed, TIMED_RESUME_REASON);
}

/**
 * Arms the timer for `at`, unless it is due as soon already. A timer due sooner than any pause
 * still ends (one moved later, or resumed by hand) wakes to a sweep that finds nothing due and
 * arms it for the next. The wait is measured on the service's clock; a timer that wakes before
 * its time (a clock behind, a wait longer than a timer holds) does the same.
 */
function arm(context: ServiceContext, at: number): void {
  const current = timers.get(context);
  if (current && current.at <= at) return;
  if (current) clearTimeout(current.timer);
  const delay = Math.min(Math.max(0, at - context.now().getTime()), MAX_TIMER_MS);
  const timer = setTimeout(() => {
    if (timers.get(context)?.timer === timer) timers.delete(context);
    context.background(resumeDuePauses(context), 'resuming timed pauses');
  }, delay);
  // The timer never keeps a process alive, and once it has shut down the sweep does nothing.
  timer.unref();
  timers.set(context, { timer, at });
}
