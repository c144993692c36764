import { NightshiftError } from '../errors.js';
import { maskUrl } from '../shared/redaction.js';
import { memoryBackend } from './memory/index.js';
import { postgresBackend } from './postgres/index.js';
import { redisBackend } from './redis/index.js';
import { sqliteBackend } from './sqlite/index.js';
import type {
  BackendTarget,
  EventBackendKind,
  MemoryBackendKind,
  StorageBackend,
} from './storage-backend.js';

/**
 * Every backend the routers can open, in the order their kinds are listed. A new backend is
 * its folder and one more line here.
 */
export const STORAGE_BACKENDS: readonly StorageBackend[] = [
  memoryBackend,
  sqliteBackend,
  postgresBackend,
  redisBackend,
];

/** Which router asks: the memory router chooses by `storeKind`, the event router by `eventKind`. */
export type RouterRole = 'memory' | 'event';

/** Where a router's URL comes from. */
export interface BackendUrlOptions {
  /** The URL (default: the kind's environment variable, else its default URL). */
  url?: string;
  /** The environment the URL variable is read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** What relative file paths are resolved against (default the working directory). */
  cwd?: string;
}

/** The kinds a router of `role` accepts, in registry order. */
export function backendKinds(role: 'memory'): MemoryBackendKind[];
export function backendKinds(role: 'event'): EventBackendKind[];
export function backendKinds(role: RouterRole): string[];
export function backendKinds(role: RouterRole): string[] {
  return [...new Set(STORAGE_BACKENDS.map((backend) => kindOf(backend, role)))];
}

/**
 * The backend a router of `role` and `kind` opens, pointed at its URL: the one given, else
 * the kind's environment variable, else its default. Throws `config_invalid` naming the
 * field (`kind` or `url`) for an unknown kind or a URL no backend of the kind opens.
 */
export function locateBackend(
  role: RouterRole,
  kind: string,
  options: BackendUrlOptions = {},
): BackendTarget {
  const backends = STORAGE_BACKENDS.filter((backend) => kindOf(backend, role) === kind);
  const first = backends[0];
  if (!first) throw unknownKind(role, kind);
  const source = backends.find((backend) => backend.urlSource)?.urlSource;
  const cwd = options.cwd ?? process.cwd();
  if (!source) return first.locate('', cwd);
  const env = options.env ?? process.env;
  const defaultUrl = backends.find((backend) => backend.urlSource?.defaultUrl)?.urlSource
    ?.defaultUrl;
  const url = options.url || env[source.env] || defaultUrl || '';
  return locateUrl(backends, first.storeKind, url, cwd);
}

/** Points the first of `backends` that takes the URL's scheme at it; `label` names the kind in errors. */
export function locateUrl(
  backends: readonly StorageBackend[],
  label: string,
  url: string,
  cwd: string,
): BackendTarget {
  const trimmed = url.trim();
  // One-letter "schemes" are Windows drive letters: a plain file path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(trimmed)?.[1]?.toLowerCase();
  const backend = backends.find((candidate) => candidate.schemes.includes(scheme ?? ''));
  if (backend) return backend.locate(trimmed, cwd);
  const forms = backends.map((candidate) => candidate.urlForms).join(', or ');
  const problem =
    scheme === undefined ? `not a ${label} URL` : `unsupported ${label} URL scheme "${scheme}:"`;
  const message = `${problem}: "${maskUrl(url)}" (use ${forms})`;
  throw new NightshiftError('config_invalid', message, { fields: [{ path: 'url', message }] });
}

function kindOf(backend: StorageBackend, role: RouterRole): string {
  return role === 'memory' ? backend.storeKind : backend.eventKind;
}

function unknownKind(role: RouterRole, kind: string): NightshiftError {
  const allowed = backendKinds(role);
  const message = `unknown ${role} backend "${kind}" (expected one of: ${allowed.join(', ')})`;
  return new NightshiftError('config_invalid', message, {
    fields: [{ path: 'kind', message }],
    details: { kind, allowed },
  });
}
