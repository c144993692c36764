import { describeFields } from '../config/format-issues.js';
import { errorMessage, NightshiftError } from '../errors.js';
import type { Redactor } from './redact.js';

/**
 * The lines that tell a user what went wrong: `error: <message>`, then one line per bad field
 * (`agents[0].interval: must be greater than 0`). A NightshiftError is the user's to fix, so it
 * gets no stack trace; anything else is a bug, and shows its stack only when `debug` is set.
 */
export function errorLines(error: unknown, redact: Redactor, debug = false): string[] {
  if (NightshiftError.isInstance(error)) {
    const fields = error.fields;
    // Messages that already list their fields (`…: a: x; b: y`) list them once, below.
    const listed = fields.length > 0 ? `: ${describeFields(fields)}` : '';
    const headline =
      listed !== '' && error.message.endsWith(listed)
        ? error.message.slice(0, -listed.length)
        : error.message;
    const fieldLines = fields.map((field) => `${field.path}: ${field.message}`);
    // `since: must be an event id` needs no second line saying the same.
    const repeated = fieldLines.length === 1 && fieldLines[0] === headline;
    return [`error: ${headline}`, ...(repeated ? [] : fieldLines)].map(redact);
  }
  const lines = [`error: ${errorMessage(error)}`];
  if (debug && error instanceof Error && error.stack) lines.push(error.stack);
  else lines.push('(this is a bug in Nightshift; set NIGHTSHIFT_DEBUG=1 to see where it happened)');
  return lines.map(redact);
}
