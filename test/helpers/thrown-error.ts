import { NightshiftError } from '../../src/errors.js';

/** The NightshiftError `action` throws; fails the test when it throws nothing or another error. */
export function thrownError(action: () => unknown): NightshiftError {
  try {
    action();
  } catch (error) {
    if (NightshiftError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a NightshiftError');
}
