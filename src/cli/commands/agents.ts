import { createInterface } from 'node:readline/promises';
import { BUILT_IN_PROVIDERS } from '../../config/defaults.js';
import { describeFields } from '../../config/format-issues.js';
import { loadNightshiftFile } from '../../config/load-config-file.js';
import type { NightshiftFile } from '../../config/nightshift-file.js';
import { checkAgentDefinition } from '../../config/parse-agent-definition.js';
import { readConfigDocument } from '../../config/read-config-document.js';
import { errorMessage, NightshiftError, type FieldError } from '../../errors.js';
import type { AgentStatus } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { describeState, statusLines } from '../describe-status.js';
import { formatInstant } from '../event-line.js';
import {
  comparableOn,
  selectedUrl,
  withAdministrationTarget,
  withFleetTarget,
  type FleetControl,
  type TargetSelection,
} from '../fleet-target.js';
import { loadRunnableFile } from '../load-runnable-file.js';
import type { FileRouters } from '../open-routers.js';
import { createRedactor } from '../redact.js';
import { refusedDefinition, syncAgents, type SyncedAgent } from '../sync-agents.js';
import { formatTable, type TableColumn } from '../table.js';

/** Options every `nightshift agents` command takes. */
export interface AgentsCommandOptions extends TargetSelection {
  json?: boolean;
}

/** Options of `nightshift agents pause`. */
export interface PauseCommandOptions extends AgentsCommandOptions {
  reason?: string;
}

/** Options of `nightshift agents stop`. */
export interface StopCommandOptions extends AgentsCommandOptions {
  cancel?: boolean;
}

/** Options of `nightshift agents apply`. */
export interface ApplyCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  json?: boolean;
  /** Print what would change, and change nothing. */
  dryRun?: boolean;
}

/** Options of `nightshift agents delete`. */
export interface DeleteCommandOptions extends AgentsCommandOptions {
  /** Delete without asking. */
  yes?: boolean;
}

const COLUMNS: TableColumn[] = [
  { header: 'AGENT' },
  { header: 'STATE' },
  { header: 'RUNS', align: 'right' },
  { header: 'ERRORS', align: 'right' },
  { header: 'SKIPS', align: 'right' },
  { header: 'MISSED', align: 'right' },
  { header: 'LAST STATUS' },
  { header: 'NEXT RUN' },
  { header: 'TOKENS', align: 'right' },
];

/** `nightshift agents [list]`: every agent of a store or a server, one row each. */
export async function agentsListCommand(
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet, description }, say) => {
    const agents = await fleet.listAgents();
    if (options.json) say(JSON.stringify(agents, null, 2));
    else if (agents.length === 0) say(`no agents in ${description}`);
    else for (const line of formatTable(COLUMNS, agents.map(agentRow))) say(line);
  });
}

/** `nightshift agents status <agent_id>`: one agent's status, a field a line. */
export async function agentStatusCommand(
  agentId: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet }, say) => {
    const status = await fleet.getAgentStatus(agentId);
    if (options.json) say(JSON.stringify(status, null, 2));
    else for (const line of statusLines(status)) say(line);
  });
}

/** `nightshift agents pause <agent_id>`: off the schedule until resumed (durable, fleet-wide). */
export async function agentPauseCommand(
  agentId: string,
  options: PauseCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) =>
    fleet.pauseAgent(agentId, options.reason === undefined ? {} : { reason: options.reason }),
  );
}

/** `nightshift agents resume <agent_id>`: a paused agent back on its schedule. */
export async function agentResumeCommand(
  agentId: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) => fleet.resumeAgent(agentId));
}

/** `nightshift agents stop <agent_id>`: off the schedule; `--cancel` also ends the run in flight. */
export async function agentStopCommand(
  agentId: string,
  options: StopCommandOptions,
  context: CliContext,
): Promise<void> {
  await changeState(options, context, (fleet) =>
    fleet.stopAgent(agentId, options.cancel ? { cancel: true } : {}),
  );
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
 * `nightshift agents create <file-or-json>`: stores new agents and starts them, from a JSON
 * definition on the command line or a YAML / JSON file holding one definition or a list of
 * them. An agent that exists already is refused before anything is created (`agents apply`
 * updates). A definition is stored as written: `${NAME}` references are read at use, in the
 * process that runs the agent.
 */
export async function agentsCreateCommand(
  source: string,
  options: AgentsCommandOptions,
  context: CliContext,
): Promise<void> {
  const inputs = readDefinitions(source);
  await withAdministrationTarget(options, context, async (target, say) => {
    const existing = new Set((await target.agents.listAgents()).map((agent) => agent.agent_id));
    const taken = inputs.map((input) => String(input.agent_id)).filter((id) => existing.has(id));
    if (taken.length > 0) {
      throw new NightshiftError(
        'agent_exists',
        `${taken.map((id) => `"${id}"`).join(', ')} already ${taken.length === 1 ? 'exists' : 'exist'} in ${target.description}; nightshift agents apply updates an agent`,
        { details: { agent_ids: taken } },
      );
    }
    const created: AgentStatus[] = [];
    for (const [index, input] of inputs.entries()) {
      const id = String(input.agent_id);
      try {
        await target.agents.create(input);
      } catch (error) {
        throw inputs.length === 1 ? error : refusedDefinition(error, id, `[${index}]`);
      }
      const status = await target.agents.startAgent(id);
      created.push(status);
      if (!options.json) say(`${id}: created; started${nextRun(status)}`);
    }
    if (options.json) say(JSON.stringify(created, null, 2));
  });
}

/**
 * `nightshift agents delete <agent_id>`: removes an agent, its runs and its conversation, for
 * good, wherever it runs (a run in flight is cancelled). Asks first on a terminal; elsewhere
 * (a script, a pipe) it needs `--yes`.
 */
export async function agentDeleteCommand(
  agentId: string,
  options: DeleteCommandOptions,
  context: CliContext,
): Promise<void> {
  await withAdministrationTarget(options, context, async (target, say) => {
    const status = await target.agents.getAgentStatus(agentId);
    const what = `${agentId} (${describeState(status)}, ${plural(status.run_count, 'run')}), its runs and its conversation`;
    if (!options.yes) {
      const answer = await askOnTerminal(`delete ${what}, for good? [y/N] `);
      if (answer === undefined) {
        throw new NightshiftError(
          'config_invalid',
          `agents delete removes ${what}, for good: pass --yes to confirm (there is no terminal to ask on)`,
          { details: { agent_id: agentId } },
        );
      }
      if (!answer) {
        throw new NightshiftError('cancelled', `${agentId} was not deleted`, {
          details: { agent_id: agentId },
        });
      }
    }
    await target.agents.deleteAgent(agentId);
    if (options.json) say(JSON.stringify({ agent_id: agentId, deleted: true }, null, 2));
    else say(`${agentId}: deleted, with ${plural(status.run_count, 'run')} and its conversation`);
  });
}

async function changeState(
  options: AgentsCommandOptions,
  context: CliContext,
  change: (fleet: FleetControl) => Promise<AgentStatus>,
): Promise<void> {
  await withFleetTarget(options, context, async ({ fleet }, say) => {
    const status = await change(fleet);
    if (options.json) say(JSON.stringify(status, null, 2));
    else say(`${status.agent_id}: ${describeState(status)}`);
  });
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

/**
 * The definitions `agents create` was given: JSON on the command line (`{…}` or `[…]`), else a
 * YAML or JSON file holding one definition or a list. Each is checked here for its shape, so that
 * nothing is created when one of them is wrong; the target checks tools and keys.
 */
function readDefinitions(source: string): Record<string, unknown>[] {
  const inline = /^\s*[[{]/.test(source);
  let document: unknown;
  if (inline) {
    try {
      document = JSON.parse(source) as unknown;
    } catch (error) {
      throw new NightshiftError(
        'config_invalid',
        `the definition is not valid JSON (${errorMessage(error)}); pass a JSON object, or a .yaml, .yml or .json file`,
      );
    }
  } else {
    document = readConfigDocument(source);
  }
  const where = inline ? 'the JSON given' : source;
  if (isRecord(document) && 'agents' in document) {
    throw new NightshiftError(
      'config_invalid',
      `${where} is a Nightshift file: nightshift agents apply ${inline ? '<file>' : source} creates and updates its agents`,
    );
  }
  const list = Array.isArray(document) ? (document as unknown[]) : [document];
  const many = Array.isArray(document);
  const fields: FieldError[] = [];
  list.forEach((input, index) => {
    const checked = checkAgentDefinition(input, {
      providers: BUILT_IN_PROVIDERS,
      ...(many ? { path: [index] } : {}),
    });
    fields.push(...checked.fields);
  });
  const ids = list.map((input) => (isRecord(input) ? input.agent_id : undefined));
  ids.forEach((id, index) => {
    if (ids.indexOf(id) !== index) {
      fields.push({ path: `[${index}].agent_id`, message: `duplicate "${String(id)}"` });
    }
  });
  if (list.length === 0) fields.push({ path: '(list)', message: 'holds no definition' });
  if (fields.length > 0) {
    throw new NightshiftError(
      'config_invalid',
      `invalid agent definition${many ? 's' : ''} in ${where}: ${describeFields(fields)}`,
      { fields },
    );
  }
  return list as Record<string, unknown>[];
}

/**
 * Asks a yes-or-no question on the terminal: true for yes. Undefined when there is no terminal
 * to ask on (standard input or standard error is a pipe or a file), so a script is never left
 * waiting for an answer nobody will type.
 */
async function askOnTerminal(question: string): Promise<boolean | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(?:es)?$/i.test((await terminal.question(question)).trim());
  } finally {
    terminal.close();
  }
}

function nextRun(status: AgentStatus): string {
  return status.next_run_at ? `, next run ${formatInstant(status.next_run_at)}` : '';
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function agentRow(agent: AgentStatus): string[] {
  return [
    agent.agent_id,
    describeState({ ...agent, pause_reason: null }),
    String(agent.run_count),
    String(agent.error_count),
    String(agent.skip_count),
    String(agent.missed_count),
    agent.last_run_status ?? '-',
    agent.next_run_at ? formatInstant(agent.next_run_at) : '-',
    String(agent.total_tokens),
  ];
}
