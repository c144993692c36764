import { z } from 'zod';
import { describeFields, issuesToFieldErrors } from '../config/format-issues.js';
import { NightshiftError, type FieldError } from '../errors.js';
import type { AgentPatch } from '../storage/contracts/index.js';

/** The reason a pause is given when its caller gives none. */
export const DEFAULT_PAUSE_REASON = 'paused by request';

/** What a person says when they pause an agent, as the service checks it (and the API's body). */
export const pauseInputSchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(500, { error: 'must be at most 500 characters' })
    .optional()
    .describe('Why, shown with its status. Default: "paused by request".'),
  by: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'must be at most 200 characters' })
    .optional()
    .describe('Who pauses it, shown with its status.'),
  until: z.iso
    .datetime({
      offset: true,
      error: 'must be an ISO 8601 instant with its offset, e.g. 2026-12-03T18:00:00Z',
    })
    .optional()
    .describe(
      'When the agent resumes by itself: an instant in the future. Left out: paused until resumed.',
    ),
});

/**
 * Options of `pauseAgent` (and of pausing a tag's agents): why, who, and until when. `until` is
 * an ISO 8601 instant with its offset, or a `Date`, in the future.
 */
export interface PauseOptions {
  reason?: string | undefined;
  by?: string | undefined;
  until?: string | Date | undefined;
}

/** A pause's note, checked: `until` as the ISO instant it names (UTC, `…Z`). */
export interface PauseNote {
  reason: string;
  by: string | null;
  until: string | null;
  /** True when the caller said anything (a reason, who or until when). */
  given: boolean;
}

/**
 * The note of a pause from untyped input (an HTTP body, the caller's options): `config_invalid`
 * naming each bad field, and `until` when it is not after `now`.
 */
export function parsePauseNote(input: unknown, now: Date): PauseNote {
  const raw =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? Object.fromEntries(
          Object.entries(input as Record<string, unknown>)
            .filter(([, value]) => value !== undefined)
            .map(([key, value]) => [key, value instanceof Date ? dateText(value) : value]),
        )
      : input;
  const parsed = pauseInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalidPause(issuesToFieldErrors(parsed.error.issues, [], pauseInputSchema));
  }
  const { reason, by, until } = parsed.data;
  let end: string | null = null;
  if (until !== undefined) {
    const at = new Date(until);
    if (at.getTime() <= now.getTime()) {
      throw invalidPause([
        { path: 'until', message: `must be in the future (it is ${now.toISOString()} now)` },
      ]);
    }
    end = at.toISOString();
  }
  return {
    reason: reason ?? DEFAULT_PAUSE_REASON,
    by: by ?? null,
    until: end,
    given: reason !== undefined || by !== undefined || until !== undefined,
  };
}

/** The agent patch that writes a pause's note (the state is the caller's). */
export function pauseNotePatch(note: PauseNote): AgentPatch {
  return { pause_reason: note.reason, paused_by: note.by, paused_until: note.until };
}

/** A `Date` as the text the schema checks; an invalid one stays something it refuses. */
function dateText(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
}

function invalidPause(fields: FieldError[]): NightshiftError {
  return new NightshiftError('config_invalid', `invalid pause: ${describeFields(fields)}`, {
    fields,
  });
}
