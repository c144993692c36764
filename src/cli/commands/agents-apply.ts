import { BUILT_IN_PROVIDERS } from '../../config/defaults.js';
import { loadNightshiftFile } from '../../config/load-config-file.js';
import type { NightshiftFile } from '../../config/nightshift-file.js';
import { NightshiftError } from '../../errors.js';
import type { CliContext } from '../cli-context.js';
import { describeState } from '../describe-status.js';
import {
  comparableOn,
  selectedUrl,
  withAdministrationTarget,
  type TargetSelection,
} from '../fleet-target.js';
import { loadRunnableFile } from '../load-runnable-file.js';
import type { FileRouters } from '../open-routers.js';
import { createRedactor } from '../redact.js';
import { syncAgents, type SyncedAgent } from '../sync-agents.js';

/** Options of `nightshift agents apply`. */
export interface ApplyCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  json?: boolean;
  /** Print what would change, and change nothing. */
  dryRun?: boolean;
}

/**
 * `nightshift agents apply <file>`: makes a fleet hold the file's agents, as `nightshift run`
 * does at start but running nothing: new agents are created and started, stored ones get the
 * file's definition (only when it differs; a paused or stopped agent stays so), agents the file
 * does not name are left alone. Through a server (`--url`, `NIGHTSHIFT_URL`), which checks the
 * definitions against its own tools and environment; else on the file's own store, with its
 * event log, so that the processes running its agents take the change at once. Prints a line
 * per agent (created, updated with the paths that changed, unchanged) and never a value: a
 * definition keeps its `${NAME}` references as written.
 */
export async function agentsApplyCommand(
  file: string,
  options: ApplyCommandOptions,
  context: CliContext,
): Promise<void> {
  const throughServer = selectedUrl(options, context.env) !== undefined;
  const { config, store } = throughServer
    ? { config: loadForServer(file, context.env), store: undefined }
    : loadForStore(file, context.env);
  const redactFile = createRedactor(config.secrets);
  const dryRun = options.dryRun === true;
  await withAdministrationTarget(
    options,
    context,
    async (target, say) => {
      const print = (line: string) => say(redactFile(line));
      const result = await syncAgents(target.agents, config.agents, {
        dryRun,
        ...(comparableOn(target) ? { comparable: comparableOn(target) } : {}),
        onSynced: (agent) => {
          if (!options.json) print(appliedLine(agent, dryRun));
        },
      });
      if (options.json) {
        print(
          JSON.stringify(
            {
              file,
              target: target.description,
              dry_run: dryRun,
              agents: result.agents,
              others: result.others.map((other) => ({
                agent_id: other.agent_id,
                state: other.state,
              })),
            },
            null,
            2,
          ),
        );
        return;
      }
      for (const other of result.others) {
        print(`${other.agent_id}: in the store, not in the file; ${describeState(other)}`);
      }
      print(summaryLine(file, target.description, result.agents, dryRun));
    },
    store,
  );
}

/**
 * A Nightshift file for a server: every section checked (its references must resolve here), its
 * agents by shape only. The server checks tools against its own and API keys in its own
 * environment: naming the built-in providers as registered skips the check of key variables,
 * which this shell need not have.
 */
function loadForServer(file: string, env: Record<string, string | undefined>): NightshiftFile {
  return loadNightshiftFile(file, { env, providers: BUILT_IN_PROVIDERS });
}

/** A Nightshift file for its own store: checked as `nightshift run` checks it. */
function loadForStore(
  file: string,
  env: Record<string, string | undefined>,
): { config: NightshiftFile; store: { config: NightshiftFile; routers: FileRouters } } {
  const { config, routers } = loadRunnableFile(file, env);
  if (config.memory.backend === 'in_memory') {
    const message =
      'in_memory lives inside one process; agents apply needs a store processes share (or --url of a running Nightshift)';
    throw new NightshiftError(
      'config_invalid',
      `invalid Nightshift file ${file}: memory.backend: ${message}`,
      { fields: [{ path: 'memory.backend', message }], details: { file } },
    );
  }
  return { config, store: { config, routers } };
}

/**
 * `news_digest: created; started`, `monitor: updated: interval, task_config.query; paused
 * (maintenance)`, `archiver: unchanged; stopped`; in a dry run, what would be.
 */
function appliedLine(agent: SyncedAgent, dryRun: boolean): string {
  const would = dryRun ? 'would be ' : '';
  const change =
    agent.definition === 'unchanged'
      ? 'unchanged'
      : agent.definition === 'updated'
        ? `${would}updated: ${agent.changed.join(', ')}`
        : `${would}created`;
  const state = agent.started
    ? `${would}started`
    : agent.state === 'paused' && agent.pause_reason
      ? `paused (${agent.pause_reason})`
      : agent.state;
  const hidden =
    agent.not_compared.length > 0
      ? `; not compared, as the server hides their values: ${agent.not_compared.join(', ')}`
      : '';
  return `${agent.agent_id}: ${change}; ${state}${hidden}`;
}

/** `applied x.yaml to sqlite:…: 1 created, 1 updated, 1 unchanged`. */
function summaryLine(
  file: string,
  target: string,
  agents: readonly SyncedAgent[],
  dryRun: boolean,
): string {
  const count = (kind: SyncedAgent['definition']) =>
    agents.filter((agent) => agent.definition === kind).length;
  if (dryRun) {
    return `dry run of ${file} against ${target}: ${count('created')} to create, ${count('updated')} to update, ${count('unchanged')} unchanged; nothing was changed`;
  }
  return `applied ${file} to ${target}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged`;
}
