import type { NotificationKind } from '../../config/notifications.js';
import type { NightshiftEvent } from '../../storage/contracts/index.js';

/**
 * How long after a window ends its summary is due: an event stamped just before the end may
 * reach this process a moment after it, and is still counted in its window.
 */
const SUMMARY_GRACE_MS = 2_000;

/** Events held back in a window, folded into a later message. */
export interface FoldedEvents {
  /** How many. */
  count: number;
  /** The window's length, in seconds (for "in the last minute"). */
  windowSeconds: number;
}

/** One message to send to one target. */
export interface AlertMessage {
  kind: NotificationKind;
  /** The event it is about: the one that opened a window, or (a summary) the newest held. */
  event: NightshiftEvent;
  /**
   * Names this message the same in every process that follows the log: the event's id, or
   * `summary-<window id>` for a window's summary. Delivery is claimed under it.
   */
  deliveryId: string;
  /** Events of the same agent and kind held back and folded into this one. */
  folded?: FoldedEvents;
  /**
   * Set on a message that sends what a window held (a summary, or a message that folds them
   * in): the window's name, the same in every process (the id of the event that opened it).
   * Whoever sends it claims the window, so no two messages carry what it held.
   */
  closesWindow?: string;
}

interface Window {
  /** When it opened, from the opening event's timestamp (ms). */
  openedAt: number;
  /** The opening event's id. */
  id: string;
  kind: NotificationKind;
  /** How many events it held back (only the newest is kept). */
  held: number;
  newest: NightshiftEvent | undefined;
}

/**
 * Storm coalescing for one target: per agent and kind at most one message per window. The first
 * event opens a window and is sent; those within it (by their timestamps) are held and counted.
 * The next event after the window is sent with the count folded in ("and 12 more"); when none
 * comes, the window's summary is due once it has closed: the newest held event, the others
 * folded. Windows follow the events' own timestamps, so every manager following the log holds
 * back the same events and names the same messages.
 */
export class Coalescer {
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  /** `windowSeconds` 0 coalesces nothing: every event is a message. */
  constructor(windowSeconds: number) {
    this.#windowMs = windowSeconds * 1000;
  }

  /** The message `event` makes now, or undefined when it is held back in its window. */
  offer(kind: NotificationKind, event: NightshiftEvent): AlertMessage | undefined {
    if (this.#windowMs <= 0) return { kind, event, deliveryId: event.id };
    const key = `${event.agent_id}\n${kind}`;
    const at = Date.parse(event.timestamp);
    const open = this.#windows.get(key);
    if (open && at < open.openedAt + this.#windowMs) {
      open.held += 1;
      open.newest = event;
      return undefined;
    }
    this.#windows.set(key, { openedAt: at, id: event.id, kind, held: 0, newest: undefined });
    return {
      kind,
      event,
      deliveryId: event.id,
      ...(open && open.held > 0 ? { folded: this.#folded(open.held), closesWindow: open.id } : {}),
    };
  }

  /** Summaries of the windows that have closed by `now` with events held; closed windows are forgotten. */
  due(now: Date): AlertMessage[] {
    const messages: AlertMessage[] = [];
    for (const [key, window] of this.#windows) {
      if (now.getTime() < window.openedAt + this.#windowMs + SUMMARY_GRACE_MS) continue;
      this.#windows.delete(key);
      if (!window.newest) continue;
      messages.push({
        kind: window.kind,
        event: window.newest,
        deliveryId: `summary-${window.id}`,
        closesWindow: window.id,
        ...(window.held > 1 ? { folded: this.#folded(window.held - 1) } : {}),
      });
    }
    return messages;
  }

  /** Windows open now (tests, and the notifier's sweep). */
  get openWindows(): number {
    return this.#windows.size;
  }

  #folded(count: number): FoldedEvents {
    return { count, windowSeconds: this.#windowMs / 1000 };
  }
}
