import { errorMessage } from '../../errors.js';
import type { EventLog, LeaseStore, NightshiftEvent } from '../../storage/contracts/index.js';
import { abortableSleep, settledWithin } from '../abortable-sleep.js';
import type { EventPublisher } from '../event-publisher.js';
import type { Redactor } from '../redactor.js';
import type { ServiceLogger } from '../service-options.js';
import { slackBody, webhookBody } from './alert-content.js';
import { Coalescer, type AlertMessage } from './coalescer.js';
import { deliver, type DeliveryResult } from './delivery.js';
import { notificationKindOf, NOTIFIED_EVENT_TYPES } from './notification-kinds.js';
import type { NotificationSettings, ResolvedTarget } from './notification-settings.js';
import { SIGNATURE_HEADER, signNightshiftBody } from './signature.js';
import { WorkQueue } from './work-queue.js';

/** Messages waiting to be sent at most; more are dropped (and logged), never holding up a run. */
const QUEUE_CAPACITY = 1_000;
/** Messages being sent at once: a target that hangs does not hold up the others. */
const CONCURRENCY = 4;
/** How often closed coalescing windows are looked for (real time; windows follow the clock). */
const SWEEP_INTERVAL_MS = 1_000;
/** How long starting waits for the log to fix its starting point. */
const START_TIMEOUT_MS = 5_000;
/** The shortest a delivery claim lasts: a manager that hears of an event late must not send it again. */
const MIN_CLAIM_TTL_MS = 3_600_000;
/** How long `close()` lets messages under way finish unless told otherwise. */
export const DEFAULT_NOTIFIER_DRAIN_MS = 2_000;
/** How long `close()` waits for cut-short deliveries to record their outcome. */
const RECORD_OUTCOMES_MS = 2_000;

/** What the notifier works with: the service's stores, redactor, clock and logger. */
export interface NotifierDependencies {
  settings: NotificationSettings;
  log: EventLog;
  leases: LeaseStore;
  publisher: EventPublisher;
  redactor: Redactor;
  now: () => Date;
  /** Holds delivery claims. */
  instanceId: string;
  logger: ServiceLogger;
}

interface Job {
  target: ResolvedTarget;
  message: AlertMessage;
}

/**
 * Sends alerts from a manager: follows the event log, turns the events each target wants into
 * messages (coalesced per agent and kind), and sends them in the background, a few at a time,
 * from a bounded queue: a run never waits for a target. With several managers on one store,
 * each message is claimed (a lease on `notify:<target>:<delivery id>`, held past its retries),
 * so one process sends it; that one records the outcome as `notification_sent` or
 * `notification_failed`.
 */
export class Notifier {
  readonly #deps: NotifierDependencies;
  readonly #coalescers = new Map<string, Coalescer>();
  readonly #queue: WorkQueue<Job>;
  readonly #abort = new AbortController();
  readonly #claimTtlMs: number;
  #unsubscribe: (() => void) | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: NotifierDependencies) {
    this.#deps = deps;
    for (const target of deps.settings.targets)
      this.#coalescers.set(target.name, new Coalescer(target.coalesceSeconds));
    this.#queue = new WorkQueue({
      capacity: QUEUE_CAPACITY,
      concurrency: CONCURRENCY,
      run: (job) => this.#send(job),
    });
    const { maxAttempts, retryDelaysMs, timeoutMs } = deps.settings.policy;
    const waits = Array.from(
      { length: maxAttempts - 1 },
      (_, index) => retryDelaysMs[Math.min(index, retryDelaysMs.length - 1)] ?? 0,
    );
    const longest = waits.reduce((sum, wait) => sum + wait, 0) + maxAttempts * timeoutMs;
    this.#claimTtlMs = Math.max(MIN_CLAIM_TTL_MS, 2 * longest);
  }

  /** Follows the log from now on; resolves once it listens (or gave up waiting for it to say so). */
  async start(): Promise<void> {
    let ready!: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
    this.#unsubscribe = this.#deps.log.subscribe((event) => this.#hear(event), {
      types: NOTIFIED_EVENT_TYPES,
      onReady: () => ready(),
    });
    this.#sweepTimer = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweepTimer.unref();
    const gaveUp = new AbortController();
    await Promise.race([started, abortableSleep(START_TIMEOUT_MS, gaveUp.signal)]);
    gaveUp.abort();
  }

  /**
   * Stops following; messages queued or under way get `drainMs` to be sent, then those still
   * under way are cut short (recorded `notification_failed`) and those still queued dropped.
   */
  async close(drainMs = DEFAULT_NOTIFIER_DRAIN_MS): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    clearInterval(this.#sweepTimer);
    if (await settledWithin(this.#queue.idle(), drainMs)) return;
    const dropped = this.#queue.clear();
    if (dropped > 0)
      this.#deps.logger.warn({ dropped }, 'nightshift: alerts not sent: the service shut down');
    this.#abort.abort();
    await settledWithin(this.#queue.idle(), RECORD_OUTCOMES_MS);
  }

  /** An event of the log: a message for each target that wants its kind (unless coalesced). */
  #hear(event: NightshiftEvent): void {
    if (this.#closed) return;
    const kind = notificationKindOf(event);
    if (kind === undefined) return;
    for (const target of this.#deps.settings.targets) {
      if (!target.events.has(kind)) continue;
      const message = this.#coalescers.get(target.name)?.offer(kind, event);
      if (message) this.#enqueue({ target, message });
    }
  }

  /** Summaries of coalescing windows that have closed. */
  #sweep(): void {
    if (this.#closed) return;
    const now = this.#deps.now();
    for (const target of this.#deps.settings.targets) {
      for (const message of this.#coalescers.get(target.name)?.due(now) ?? [])
        this.#enqueue({ target, message });
    }
  }

  #enqueue(job: Job): void {
    if (this.#queue.push(job)) return;
    this.#deps.logger.warn(
      { target: job.target.name, kind: job.message.kind, event_id: job.message.event.id },
      'nightshift: alert dropped: the delivery queue is full',
    );
  }

  /** Claims one message, sends it, records the outcome. Never rejects. */
  async #send({ target, message }: Job): Promise<void> {
    const { logger } = this.#deps;
    const where = { target: target.name, kind: message.kind, event_id: message.event.id };
    try {
      if (!(await this.#claim(target, message.deliveryId))) {
        logger.info(where, 'nightshift: alert sent by another process');
        return;
      }
      let toSend = message;
      if (message.closesWindow !== undefined) {
        const claimed = await this.#claim(target, `window-${message.closesWindow}`);
        // Another process sent what the window held: a summary has nothing left to say.
        if (!claimed && message.deliveryId.startsWith('summary-')) return;
        if (!claimed) {
          const { folded: _folded, closesWindow: _window, ...alone } = message;
          toSend = alone;
        }
      }
      const result = await this.#deliver(target, toSend);
      await this.#record(target, toSend, result);
    } catch (error) {
      logger.error({ ...where, err: errorMessage(error) }, 'nightshift: sending an alert failed');
    }
  }

  /** True when this process now holds the claim on `id` for `target`. */
  async #claim(target: ResolvedTarget, id: string): Promise<boolean> {
    const key = `notify:${target.name}:${id}`;
    return (
      (await this.#deps.leases.acquire(key, this.#deps.instanceId, this.#claimTtlMs)) !== undefined
    );
  }

  #deliver(target: ResolvedTarget, message: AlertMessage): Promise<DeliveryResult> {
    const redacted = { ...message, event: this.#deps.redactor.redact(message.event) };
    const { inboxUrl } = this.#deps.settings;
    const body = JSON.stringify(
      target.type === 'slack' ? slackBody(redacted, inboxUrl) : webhookBody(redacted, inboxUrl),
    );
    const secret = target.secret;
    const headers = (): Record<string, string> => ({
      'User-Agent': 'nightshift',
      'X-Nightshift-Kind': message.kind,
      'X-Nightshift-Delivery': `${target.name}:${message.deliveryId}`,
      ...(secret === undefined ? {} : { [SIGNATURE_HEADER]: signNightshiftBody(body, secret) }),
    });
    return deliver(
      { url: target.url, body, headers },
      this.#deps.settings.policy,
      this.#abort.signal,
    );
  }

  async #record(target: ResolvedTarget, message: AlertMessage, result: DeliveryResult) {
    const { publisher, logger, redactor } = this.#deps;
    const outcome = {
      target: target.name,
      kind: message.kind,
      event_id: message.event.id,
      attempts: result.attempts,
      ...(result.statusCode === undefined ? {} : { status_code: result.statusCode }),
      ...(message.folded ? { coalesced: message.folded.count } : {}),
    };
    const { agent_id: agentId, run_id: runId } = message.event;
    if (result.ok) {
      await publisher.publish('notification_sent', agentId, runId, outcome);
      return;
    }
    const failed = { ...outcome, error: redactor.redact(result.error) };
    logger.warn(failed, 'nightshift: alert not delivered');
    await publisher.publish('notification_failed', agentId, runId, failed);
  }
}
