import { agentDefinitionSchema } from '../config/agent-definition.js';
import { describeFields, issuesToFieldErrors } from '../config/format-issues.js';
import { errorMessage } from '../errors.js';
import { scheduleOf } from '../schedule/index.js';
import type { AgentRecord } from '../storage/contracts/index.js';

/**
 * Finds the stored agents that cannot run as they are: a definition that today's checks refuse
 * (written by an older version, or straight into the store) or a schedule that cannot be built.
 * Such a record is reported and skipped, never allowed to break listing, startup or the other
 * agents. Each verdict is kept per record version, so a fleet is checked once, not on every read.
 */
export class StoredAgentChecker {
  readonly #verdicts = new Map<string, { version: number; problem: string | undefined }>();

  /** Why this record cannot run, or undefined when it can. */
  problemOf(record: AgentRecord): string | undefined {
    const cached = this.#verdicts.get(record.agent_id);
    if (cached?.version === record.version) return cached.problem;
    const problem = findProblem(record);
    this.#verdicts.set(record.agent_id, { version: record.version, problem });
    return problem;
  }

  /** Forgets a deleted agent. */
  forget(agentId: string): void {
    this.#verdicts.delete(agentId);
  }
}

function findProblem(record: AgentRecord): string | undefined {
  const parsed = agentDefinitionSchema.safeParse(record.definition);
  if (!parsed.success) {
    return `its stored definition is invalid: ${describeFields(issuesToFieldErrors(parsed.error.issues))}`;
  }
  try {
    scheduleOf(record).next(new Date());
    return undefined;
  } catch (error) {
    return `its schedule cannot be built: ${errorMessage(error)}`;
  }
}
