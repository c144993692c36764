import { describeFields } from '../config/format-issues.js';
import {
  loadNightshiftFile,
  loadServiceSections,
  loadStorageSections,
} from '../config/load-config-file.js';
import type { NightshiftFile, ServiceSections } from '../config/nightshift-file.js';
import { NightshiftError, type FieldError } from '../errors.js';
import { BUILT_IN_TOOLS, createNotifyTool, createSqlTools } from '../tools/index.js';
import { createFileRouters, type FileRouters } from './open-routers.js';
import { serverTokenProblem } from './start-http-server.js';

/** A Nightshift file the CLI can run: its agents checked, its routers built (not opened). */
export interface RunnableFile {
  config: NightshiftFile;
  routers: FileRouters;
}

/** A Nightshift file the CLI can serve without running its agents (`nightshift serve`). */
export interface ServableFile {
  config: ServiceSections;
  routers: FileRouters;
}

/**
 * Loads a Nightshift file for `run` and `validate`: agents are checked against the built-in
 * tools and those the file's settings enable; the memory and events backends against what the
 * routers support; webhooks and connections as the tools will read them; and a server beyond
 * loopback must have a token. Problems of every kind come back together in one
 * `config_invalid` error.
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
  const routers = collect(fields, () =>
    createFileRouters(config ?? loadStorageSections(path, { env }), env),
  );
  if (config) fields.push(...deploymentProblems(config, env));
  if (config && routers && fields.length === 0) return { config, routers };
  throw invalidFile(path, fields);
}

/**
 * Loads a Nightshift file for `serve`: every section but the agents, which are neither needed
 * nor checked. Its memory must be a store other processes can share.
 */
export function loadServableFile(
  path: string,
  env: Record<string, string | undefined>,
): ServableFile {
  const config = loadServiceSections(path, { env });
  const fields: FieldError[] = [];
  // In-memory backends live inside the process that runs the agents: a server of its own
  // would show an empty store.
  for (const section of ['memory', 'events'] as const) {
    if (config[section].backend !== 'in_memory') continue;
    fields.push({
      path: `${section}.backend`,
      message: 'in_memory lives inside one process; serve needs a store processes share',
    });
  }
  const routers = collect(fields, () => createFileRouters(config, env));
  fields.push(...deploymentProblems(config, env));
  if (routers && fields.length === 0) return { config, routers };
  throw invalidFile(path, fields);
}

/**
 * What the tools and the server would refuse when the service starts: webhook and connection
 * URLs are read by the tools' own parsers (their errors name `webhooks.<name>` and
 * `connections.<name>`, never the URL), and a server beyond loopback needs a token.
 */
function deploymentProblems(
  config: ServiceSections,
  env: Record<string, string | undefined>,
): FieldError[] {
  const fields: FieldError[] = [];
  const { webhooks, connections } = config.toolSettings;
  if (webhooks && Object.keys(webhooks).length > 0) {
    collect(fields, () => createNotifyTool({ webhooks }));
  }
  if (connections && Object.keys(connections).length > 0) {
    // Nothing is connected yet: the Postgres pools open on first use.
    collect(fields, () => void createSqlTools({ connections }).close());
  }
  if (config.toolSettings.archive_directory !== undefined && connections === undefined) {
    fields.push({
      path: 'archive_directory',
      message: 'is where sql_archive writes JSONL files; it needs connections too',
    });
  }
  const token = serverTokenProblem(config.server, env);
  if (token) fields.push(token);
  return fields;
}

/** Runs `build`, adding its field errors (without repeats) to `fields` instead of throwing them. */
function collect<T>(fields: FieldError[], build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    if (!isFieldError(error)) throw error;
    const seen = new Set(fields.map((field) => `${field.path}\n${field.message}`));
    fields.push(...error.fields.filter((field) => !seen.has(`${field.path}\n${field.message}`)));
    return undefined;
  }
}

function invalidFile(path: string, fields: FieldError[]): NightshiftError {
  return new NightshiftError(
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
