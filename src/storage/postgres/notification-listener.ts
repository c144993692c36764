import type pg from 'pg';
import { backoffDelayMs } from '../../shared/backoff.js';
import { pgDriver } from '../../shared/pg-driver.js';

/** Options of {@link createNotificationListener}. */
export interface NotificationListenerOptions {
  /** Settings of the dedicated connection (it is never a pooled one: LISTEN belongs to a session). */
  clientConfig: pg.ClientConfig;
  channel: string;
  /** Hears each notification's payload. */
  onNotification(payload: string): void;
  /**
   * Called each time LISTEN is in place: the first time and after every reconnect. What was
   * notified while the connection was down is lost, so this is the moment to catch up.
   */
  onListening(): void;
  /** Hears the loss of the connection, and the first failure of each run of reconnects. */
  onError(error: unknown): void;
}

/** A LISTEN on a connection of its own that comes back by itself when the connection dies. */
export interface NotificationListener {
  /** Connects and listens, unless already started. */
  start(): void;
  /** Stops listening and closes the connection; `start()` may begin again later. */
  stop(): Promise<void>;
}

/** `ref`/`unref` exist on pg's Client since 8.x but are missing from its type declarations. */
type RefCountedClient = pg.Client & { ref(): void; unref(): void };

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** A LISTEN connection that reconnects with exponential backoff (100 ms, doubling, at most 5 s). */
export function createNotificationListener(
  options: NotificationListenerOptions,
): NotificationListener {
  let running = false;
  /** Bumped by start and stop: a connection attempt of an older generation gives up. */
  let generation = 0;
  /** The connection of the running generation, connecting or listening. */
  let current: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  /** Failed attempts since the last connection that worked. */
  let failures = 0;

  function isCurrent(attempt: number): boolean {
    return running && attempt === generation;
  }

  function scheduleRetry(attempt: number): void {
    const delay = backoffDelayMs(failures, { firstMs: FIRST_RETRY_MS, maxMs: MAX_RETRY_MS });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (isCurrent(attempt)) void connect(attempt);
    }, delay);
    // Reconnecting never keeps the process alive on its own.
    retryTimer.unref();
  }

  async function connect(attempt: number): Promise<void> {
    const connection = new (pgDriver().Client)(options.clientConfig);
    current = connection;
    let lost = false;
    const onLost = (error: unknown): void => {
      if (lost) return;
      lost = true;
      if (current === connection) current = undefined;
      void connection.end().catch(() => undefined);
      if (!isCurrent(attempt)) return;
      if (failures === 0) options.onError(error);
      failures += 1;
      scheduleRetry(attempt);
    };
    // Listening before connecting: a dead connection must never be an unhandled 'error'.
    connection.on('error', onLost);
    connection.on('end', () => onLost(new Error('the LISTEN connection ended')));
    connection.on('notification', (message) => {
      if (!lost && message.channel === options.channel)
        options.onNotification(message.payload ?? '');
    });
    try {
      await connection.connect();
      await connection.query(`LISTEN ${pgDriver().escapeIdentifier(options.channel)}`);
    } catch (error) {
      onLost(error);
      return;
    }
    // Stopped meanwhile: stop() has ended this connection already.
    if (lost || !isCurrent(attempt)) return;
    failures = 0;
    // A subscription never keeps the process alive on its own (as the SQLite log's poll).
    (connection as RefCountedClient).unref();
    options.onListening();
  }

  return {
    start() {
      if (running) return;
      running = true;
      generation += 1;
      failures = 0;
      void connect(generation);
    },

    async stop() {
      if (!running) return;
      running = false;
      generation += 1;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      // Also cuts short an attempt still connecting, which then sees it is stale.
      const connection = current;
      current = undefined;
      // Held again while it closes: a process awaiting stop() (shutting down, nothing else left
      // to do) would otherwise exit with nothing keeping it alive, before the promise settles.
      (connection as RefCountedClient | undefined)?.ref();
      await connection?.end().catch(() => undefined);
    },
  };
}
