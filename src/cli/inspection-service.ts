import { loadStorageSections } from '../config/load-config-file.js';
import { NightshiftError } from '../errors.js';
import { BackgroundAgentService } from '../service/index.js';
import type { StorageSections } from '../config/nightshift-file.js';
import { EventRouter, type MemoryRouter } from '../storage/index.js';
import { inspectionRouter, requireInspectableMemory } from './open-routers.js';
import { createRedactor, type Redactor } from './redact.js';

/** Where `agents` and `runs` read: a database URL, or the store of a Nightshift file. */
export interface StoreSelection {
  memory?: string;
  file?: string;
}

/** A service over a store, for reading it, and how to print what it says. */
export interface InspectionService {
  service: BackgroundAgentService;
  /** Where the store is, safe to print. */
  description: string;
  redact: Redactor;
}

/**
 * The chosen store's memory router, and the storage sections of its file if one was named;
 * `config_invalid` when both `--memory` and `--file` are given.
 */
export function selectedStore(
  selection: StoreSelection,
  env: Record<string, string | undefined>,
): { sections: StorageSections | undefined; memory: MemoryRouter } {
  if (selection.memory !== undefined && selection.file !== undefined) {
    throw new NightshiftError('config_invalid', 'use either --memory or --file, not both');
  }
  const sections =
    selection.file === undefined ? undefined : loadStorageSections(selection.file, { env });
  const memory = sections
    ? requireInspectableMemory(sections, env)
    : inspectionRouter(selection.memory, env);
  return { sections, memory };
}

/**
 * A service over the chosen store that never starts a manager, so inspecting runs nothing and
 * can sit beside a running `nightshift run`. Events are not read, so they stay in this process.
 */
export function openInspectionService(
  selection: StoreSelection,
  env: Record<string, string | undefined>,
): InspectionService {
  const { sections, memory } = selectedStore(selection, env);
  const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), { env });
  return {
    service,
    description: memory.description,
    redact: createRedactor(sections?.secrets ?? []),
  };
}
