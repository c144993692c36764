import { NightshiftError } from '../errors.js';

/**
 * The sequence number in an event id given as a read cursor (`after`). Backends with
 * integer ids also accept a stream id (`1700000000000-3`) by its first part, the way
 * {@link compareEventIds} orders them.
 */
export function parseEventSequence(id: string): number {
  const sequence = Number(id.split('-')[0]);
  if (id === '' || !Number.isInteger(sequence) || sequence < 0) {
    throw new NightshiftError('config_invalid', `after: "${id}" is not an event id`, {
      fields: [{ path: 'after', message: `"${id}" is not an event id` }],
    });
  }
  return sequence;
}
