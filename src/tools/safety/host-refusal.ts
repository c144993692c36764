import { NightshiftError } from '../../errors.js';

/** The `tool_error` a refused destination raises; its message is what the model reads. */
export function hostRefusal(
  host: string,
  reason: string,
  details: Record<string, unknown> = {},
): NightshiftError {
  return new NightshiftError('tool_error', `refused: ${reason}`, {
    details: { host, ...details },
  });
}
