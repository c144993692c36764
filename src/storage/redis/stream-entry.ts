import { NightshiftError } from '../../errors.js';
import type { NewEvent, NightshiftEvent } from '../contracts/event-log.js';

/** One stream entry as XRANGE and XREAD return it: its id and its field-value pairs. */
export type StreamEntry = [id: string, fields: string[]];

/** The field that holds an event's JSON (the append script writes it). */
export const EVENT_FIELD = 'event';
/** The field that holds an event's type, before its JSON (entries written before it have none). */
export const TYPE_FIELD = 'type';

/** The type an entry's own field names, without decoding the event; undefined when it has none. */
export function typeOfEntry([, fields]: StreamEntry): string | undefined {
  return fields[0] === TYPE_FIELD ? fields[1] : undefined;
}

/** The event an entry holds, with the entry's id as the event id. */
export function toEvent([id, fields]: StreamEntry): NightshiftEvent {
  for (let index = 0; index < fields.length; index += 2) {
    if (fields[index] === EVENT_FIELD) {
      return { ...(JSON.parse(fields[index + 1]!) as NewEvent), id };
    }
  }
  throw new NightshiftError('internal', `stream entry ${id} holds no event`, { details: { id } });
}

const STREAM_ID = /^\d+(-\d+)?$/;

/**
 * The XRANGE start for events after `after` (exclusive). Accepts stream ids and, as the
 * other backends accept stream ids, plain sequence numbers (`42` reads as `42-0`).
 */
export function rangeStartAfter(after: string): string {
  if (!STREAM_ID.test(after)) {
    throw new NightshiftError('config_invalid', `after: "${after}" is not an event id`, {
      fields: [{ path: 'after', message: `"${after}" is not an event id` }],
    });
  }
  return /^0+(-0+)?$/.test(after) ? '-' : `(${after}`;
}
