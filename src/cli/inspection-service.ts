import { loadStorageSections } from '../config/load-config-file.js';
import { NightshiftError } from '../errors.js';
import { BackgroundAgentService } from '../service/index.js';
import { EventRouter } from '../storage/index.js';
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
 * A service over the chosen store that never starts a manager, so inspecting runs nothing and
 * can sit beside a running `nightshift run`. Events are not read, so they stay in this process.
 */
export function openInspectionService(
  selection: StoreSelection,
  env: Record<string, string | undefined>,
): InspectionService {
  if (selection.memory !== undefined && selection.file !== undefined) {
    throw new NightshiftError('config_invalid', 'use either --memory or --file, not both');
  }
  const sections =
    selection.file === undefined ? undefined : loadStorageSections(selection.file, { env });
  const memory = sections
    ? requireInspectableMemory(sections, env)
    : inspectionRouter(selection.memory, env);
  const service = new BackgroundAgentService(memory, new EventRouter('in_memory'), { env });
  return {
    service,
    description: memory.description,
    redact: createRedactor(sections?.secrets ?? []),
  };
}
