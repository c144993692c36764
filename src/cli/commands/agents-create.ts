import { BUILT_IN_PROVIDERS } from '../../config/defaults.js';
import { describeFields } from '../../config/format-issues.js';
import { checkAgentDefinition } from '../../config/parse-agent-definition.js';
import { readConfigDocument } from '../../config/read-config-document.js';
import { errorMessage, NightshiftError, type FieldError } from '../../errors.js';
import type { AgentStatus } from '../../service/index.js';
import type { CliContext } from '../cli-context.js';
import { formatInstant } from '../event-line.js';
import { withAdministrationTarget } from '../fleet-target.js';
import { refusedDefinition } from '../sync-agents.js';
import type { AgentsCommandOptions } from './agents.js';

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

function nextRun(status: AgentStatus): string {
  return status.next_run_at ? `, next run ${formatInstant(status.next_run_at)}` : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
