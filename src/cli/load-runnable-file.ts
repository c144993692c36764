import { describeFields } from '../config/format-issues.js';
import { loadNightshiftFile, loadStorageSections } from '../config/load-config-file.js';
import type { NightshiftFile } from '../config/nightshift-file.js';
import { NightshiftError, type FieldError } from '../errors.js';
import { BUILT_IN_TOOLS } from '../tools/index.js';
import { createFileRouters, type FileRouters } from './open-routers.js';

/** A Nightshift file the CLI can run: its agents checked, its routers built (not opened). */
export interface RunnableFile {
  config: NightshiftFile;
  routers: FileRouters;
}

/**
 * Loads a Nightshift file for `run` and `validate`: agents are checked against the built-in
 * tools, and the memory and events backends against what the routers support. Problems of both
 * kinds come back together in one `config_invalid` error.
 */
export function loadRunnableFile(
  path: string,
  env: Record<string, string | undefined>,
): RunnableFile {
  let config: NightshiftFile | undefined;
  const fields: FieldError[] = [];
  try {
    config = loadNightshiftFile(path, { env, tools: Object.keys(BUILT_IN_TOOLS) });
  } catch (error) {
    // An unreadable file has nothing more to say; a file with bad fields may have bad backends too.
    if (!isFieldError(error)) throw error;
    fields.push(...error.fields);
  }
  try {
    const routers = createFileRouters(config ?? loadStorageSections(path, { env }), env);
    if (config) return { config, routers };
  } catch (error) {
    if (!isFieldError(error)) throw error;
    const seen = new Set(fields.map((field) => `${field.path}\n${field.message}`));
    fields.push(...error.fields.filter((field) => !seen.has(`${field.path}\n${field.message}`)));
  }
  throw new NightshiftError(
    'config_invalid',
    `invalid Nightshift file ${path}: ${describeFields(fields)}`,
    { fields, details: { file: path } },
  );
}

function isFieldError(error: unknown): error is NightshiftError {
  return (
    NightshiftError.isInstance(error) && error.code === 'config_invalid' && error.fields.length > 0
  );
}
