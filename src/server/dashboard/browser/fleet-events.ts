import type { NightshiftEvent } from '../../../storage/contracts/event-log.js';
import { followStream, type EventStream } from './event-stream.js';
import { whenReady } from './token.js';

const listeners: Array<(event: NightshiftEvent) => void> = [];
let stream: EventStream | undefined;

/**
 * Calls listener with each event of the whole fleet from now on. The page follows one stream
 * (`/api/events`) for every listener, opened once the API may be called (a token saved).
 */
export function onFleetEvent(listener: (event: NightshiftEvent) => void): void {
  listeners.push(listener);
  whenReady(() => {
    stream ??= followStream('/api/events', (event) => {
      for (const each of listeners) each(event);
    });
  });
}
