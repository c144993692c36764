import { createInterface } from 'node:readline/promises';
import { NightshiftError } from '../../errors.js';
import type { CliContext } from '../cli-context.js';
import { describeState } from '../describe-status.js';
import { withAdministrationTarget } from '../fleet-target.js';
import type { AgentsCommandOptions } from './agents.js';

/** Options of `nightshift agents delete`. */
export interface DeleteCommandOptions extends AgentsCommandOptions {
  /** Delete without asking. */
  yes?: boolean;
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

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
