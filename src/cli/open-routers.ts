import { existsSync } from 'node:fs';
import type { EventsSection, MemorySection, StorageSections } from '../config/nightshift-file.js';
import { describeFields } from '../config/format-issues.js';
import { NightshiftError, type FieldError } from '../errors.js';
import { resolveDatabaseUrl } from '../storage/database-url.js';
import { EventRouter, MemoryRouter, parseDatabaseUrl } from '../storage/index.js';

/** The routers a Nightshift file describes. */
export interface FileRouters {
  memory: MemoryRouter;
  events: EventRouter;
}

/**
 * Builds the routers of a file's `memory` and `events` sections (nothing is opened yet). A bad
 * backend or URL is a `config_invalid` error naming the file and the field
 * (`memory.url: unsupported database URL scheme …`).
 */
export function createFileRouters(
  file: StorageSections,
  env: Record<string, string | undefined>,
): FileRouters {
  const fields: FieldError[] = [];
  const memory = build(fields, 'memory', file.memory, (section) => memoryRouter(section, env));
  const events = build(fields, 'events', file.events, (section) => eventRouter(section, env));
  if (!memory || !events) {
    throw new NightshiftError(
      'config_invalid',
      `invalid Nightshift file ${file.path}: ${describeFields(fields)}`,
      { fields, details: { file: file.path } },
    );
  }
  return { memory, events };
}

function memoryRouter(
  section: MemorySection,
  env: Record<string, string | undefined>,
): MemoryRouter {
  return new MemoryRouter(section.backend, { env, ...(section.url ? { url: section.url } : {}) });
}

function eventRouter(section: EventsSection, env: Record<string, string | undefined>): EventRouter {
  return new EventRouter(section.backend, { env, ...(section.url ? { url: section.url } : {}) });
}

/** Runs a router constructor, turning its `kind` / `url` field errors into the file's paths. */
function build<Section, Router>(
  fields: FieldError[],
  name: string,
  section: Section,
  create: (section: Section) => Router,
): Router | undefined {
  try {
    return create(section);
  } catch (error) {
    if (!NightshiftError.isInstance(error) || error.code !== 'config_invalid') throw error;
    const problems =
      error.fields.length > 0 ? error.fields : [{ path: '', message: error.message }];
    for (const problem of problems) {
      const field = problem.path === 'kind' ? 'backend' : problem.path || 'url';
      fields.push({ path: `${name}.${field}`, message: problem.message });
    }
    return undefined;
  }
}

/**
 * The memory router of a store to inspect: `--memory <url>` (a database URL), else the
 * database default (`DATABASE_URL`, else the embedded SQLite file). A SQLite file that does not
 * exist is an error rather than a new empty store: inspecting must not create anything.
 */
export function inspectionRouter(
  url: string | undefined,
  env: Record<string, string | undefined>,
): MemoryRouter {
  const resolved = resolveDatabaseUrl(url, env);
  const location = parseDatabaseUrl(resolved);
  if (location.dialect === 'sqlite' && location.path !== ':memory:') {
    requireFile(location.path);
  }
  return new MemoryRouter('database', { env, url: resolved });
}

/** Checks that a file-backed memory section names a store that exists; `in_memory` has none to inspect. */
export function requireInspectableMemory(
  file: StorageSections,
  env: Record<string, string | undefined>,
): MemoryRouter {
  if (file.memory.backend === 'in_memory') {
    throw new NightshiftError(
      'invalid_state',
      `${file.path} keeps its memory in_memory (inside the running process): there is no store to inspect`,
    );
  }
  if (file.memory.backend === 'database') return inspectionRouter(file.memory.url, env);
  return createFileRouters(file, env).memory;
}

function requireFile(path: string): void {
  if (existsSync(path)) return;
  throw new NightshiftError(
    'storage_unavailable',
    `no Nightshift store at ${path} (nothing has run with it yet; choose one with --memory <url> or --file <nightshift.yaml>)`,
    { details: { path } },
  );
}
