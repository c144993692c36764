import { InvalidArgumentError, Option, type Command } from 'commander';
import { APPROVAL_STATES, type ApprovalRecord, type ApprovalState } from '../../storage/index.js';
import type { CliContext } from '../cli-context.js';
import { serverOptions } from '../command-options.js';
import { formatInstant } from '../event-line.js';
import { requireSelectedApi, type TargetSelection } from '../fleet-target.js';
import { formatTable, truncate, type TableColumn } from '../table.js';

/** Options of `nightshift approvals [list]`. */
export interface ApprovalsCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  state: ApprovalState;
  agent?: string;
  json?: boolean;
}

/** Options of `nightshift approvals approve|deny`. */
export interface ApprovalDecisionCommandOptions extends Pick<TargetSelection, 'url' | 'token'> {
  by: string;
  note?: string;
  arguments?: Record<string, unknown>;
  json?: boolean;
}

const COLUMNS: TableColumn[] = [
  { header: 'APPROVAL' },
  { header: 'AGENT' },
  { header: 'TOOL' },
  { header: 'ARGUMENTS' },
  { header: 'STATE' },
  { header: 'REQUESTED' },
  { header: 'EXPIRES' },
];

/** Longest arguments shown in the list (the whole call is in `--json`). */
const LONGEST_ARGUMENTS = 60;

function jsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError('must be a JSON object, e.g. \'{"path":"notes.txt"}\'');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError('must be a JSON object');
  return value as Record<string, unknown>;
}

/** Registers `nightshift approvals [list]`, `approvals approve <id>` and `approvals deny <id>`. */
export function registerApprovalsCommand(program: Command, context: CliContext): void {
  const approvals = program
    .command('approvals')
    .description(
      'the tool calls waiting for a person (agent_config.approvals), through a server: list them, approve or deny one',
    );

  serverOptions(
    approvals
      .command('list', { isDefault: true })
      .description('list approvals, the pending ones by default, newest first')
      .addOption(
        new Option('--state <state>', 'only approvals in this state')
          .choices(APPROVAL_STATES)
          .default('pending'),
      )
      .option('--agent <agent_id>', "only this agent's"),
  )
    .option('--json', 'print JSON instead of a table')
    .action((options: ApprovalsCommandOptions) => approvalsListCommand(options, context));

  for (const decision of ['approve', 'deny'] as const) {
    const command = serverOptions(
      approvals
        .command(decision)
        .description(
          decision === 'approve'
            ? 'approve a waiting tool call: it runs (with --arguments instead of the model’s when given) and its run goes on'
            : 'deny a waiting tool call: the model is told it was denied (with the note) and its run goes on',
        )
        .argument('<approval_id>', 'the approval (as `nightshift approvals` lists them)')
        .requiredOption('--by <name>', 'who decides, kept with the decision')
        .option('--note <text>', 'why (the model is given it with a denial)'),
    );
    if (decision === 'approve')
      command.addOption(
        new Option('--arguments <json>', 'run the call with these arguments instead').argParser(
          jsonObject,
        ),
      );
    command
      .option('--json', 'print the approval as decided, as JSON')
      .action((approvalId: string, options: ApprovalDecisionCommandOptions) =>
        approvalDecisionCommand(approvalId, decision, options, context),
      );
  }
}

async function approvalsListCommand(
  options: ApprovalsCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    'approvals asks a running Nightshift for the tool calls waiting for a person',
  );
  const approvals = await api.listApprovals({
    state: options.state,
    ...(options.agent ? { agent_id: options.agent } : {}),
  });
  if (options.json) {
    say(JSON.stringify(approvals, null, 2));
    return;
  }
  if (approvals.length === 0) {
    say(`no ${options.state} approvals at ${api.url}`);
    return;
  }
  for (const line of formatTable(COLUMNS, approvals.map(row))) say(line);
}

function row(approval: ApprovalRecord): string[] {
  return [
    approval.approval_id,
    approval.agent_id,
    approval.tool_name,
    truncate(JSON.stringify(approval.arguments) ?? '', LONGEST_ARGUMENTS),
    approval.state === 'pending' || !approval.decided_by
      ? approval.state
      : `${approval.state} (${approval.decided_by})`,
    formatInstant(approval.requested_at),
    formatInstant(approval.expires_at),
  ];
}

async function approvalDecisionCommand(
  approvalId: string,
  decision: 'approve' | 'deny',
  options: ApprovalDecisionCommandOptions,
  context: CliContext,
): Promise<void> {
  const { api, say } = requireSelectedApi(
    options,
    context,
    `approvals ${decision} asks a running Nightshift to decide`,
  );
  const decided = await api.decideApproval(approvalId, decision, {
    by: options.by,
    ...(options.note === undefined ? {} : { note: options.note }),
    ...(options.arguments === undefined ? {} : { arguments: options.arguments }),
  });
  if (options.json) {
    say(JSON.stringify(decided, null, 2));
    return;
  }
  const edited =
    decided.edited_arguments !== null && decided.edited_arguments !== undefined
      ? ' with edited arguments'
      : '';
  say(
    `${decided.approval_id} ${decided.state}${edited} by ${decided.decided_by ?? options.by}: ${decided.tool_name} of run ${decided.run_id}${decided.note ? ` (${decided.note})` : ''}`,
  );
}
