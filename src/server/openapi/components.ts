import { z } from 'zod';
import { agentDefinitionSchema } from '../../config/agent-definition.js';
import {
  budgetGrantInputSchema,
  budgetGrantRecordSchema,
  budgetGrantSchema,
  budgetsSchema,
  budgetViewSchema,
} from './budget-schemas.js';
import { approvalDecisionBodySchema, approvalRecordSchema } from './approval-schemas.js';
import { backfillBodySchema, backfillPlanSchema } from './backfill-schemas.js';
import { budgetDenialInputSchema } from '../../service/index.js';
import { eventSchema } from './event-schemas.js';
import { operatorInboxSchema } from './inbox-schemas.js';
import { fleetOverviewSchema, runReportSchema } from './report-schemas.js';
import {
  agentPatchSchema,
  emptyBodySchema,
  pauseBodySchema,
  runBodySchema,
  stopBodySchema,
  tagRunBodySchema,
} from './request-schemas.js';
import {
  attemptSchema,
  errorInfoSchema,
  runRecordSchema,
  runStepSchema,
  runWithStepsSchema,
  usageSchema,
} from './run-schemas.js';
import { agentStatusSchema, errorBodySchema, workerSchema } from './status-schemas.js';
import { tagActionResultSchema } from './tag-schemas.js';
import { pruneBodySchema, pruneReportSchema } from './retention-schemas.js';
import { replayBodySchema, replayDiffSchema } from './replay-schemas.js';

/** A JSON Schema (2020-12): keywords and their values. */
export type JsonSchema = { [keyword: string]: unknown };

/** Where a component is referred to from the rest of the document. */
export const componentUri = (name: string): string => `#/components/schemas/${name}`;

/** What clients send: validated as input, so fields with defaults are optional. */
const requestSchemas = {
  AgentDefinitionInput: agentDefinitionSchema.describe(
    'An agent definition, snake_case, exactly as in YAML; fields left out take their defaults.',
  ),
  AgentPatch: agentPatchSchema,
  EmptyBody: emptyBodySchema,
  PauseBody: pauseBodySchema,
  StopBody: stopBodySchema,
  RunBody: runBodySchema,
  TagRunBody: tagRunBodySchema,
  BackfillBody: backfillBodySchema,
  BudgetGrantInput: budgetGrantInputSchema,
  ApprovalDecisionBody: approvalDecisionBodySchema,
  BudgetDenialInput: budgetDenialInputSchema.describe(
    'Who refuses a run waiting for a budget more, and why (both kept in its error).',
  ),
  PruneBody: pruneBodySchema,
  ReplayBody: replayBodySchema,
};

/** What the server answers: described as output, every default filled in. */
const responseSchemas = {
  AgentDefinition: agentDefinitionSchema.describe(
    'The definition as stored: defaults filled in, credentials shown as `[redacted]`.',
  ),
  AgentStatus: agentStatusSchema,
  Usage: usageSchema,
  ErrorInfo: errorInfoSchema,
  Attempt: attemptSchema,
  RunRecord: runRecordSchema,
  RunStep: runStepSchema,
  RunWithSteps: runWithStepsSchema,
  RunReport: runReportSchema,
  Event: eventSchema,
  Worker: workerSchema,
  FleetOverview: fleetOverviewSchema,
  OperatorInbox: operatorInboxSchema,
  BudgetView: budgetViewSchema,
  BudgetGrantRecord: budgetGrantRecordSchema,
  Budgets: budgetsSchema,
  BudgetGrant: budgetGrantSchema,
  BackfillPlan: backfillPlanSchema,
  Approval: approvalRecordSchema,
  TagActionResult: tagActionResultSchema,
  PruneReport: pruneReportSchema,
  ReplayDiff: replayDiffSchema,
  Error: errorBodySchema,
};

/** The name of a component schema. */
export type ComponentName = keyof typeof requestSchemas | keyof typeof responseSchemas;

/**
 * The JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of one set of components, each
 * referring to the others by `$ref` rather than repeating them.
 */
function convert(
  schemas: Record<string, z.ZodType>,
  io: 'input' | 'output',
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const converted = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    uri: componentUri,
    // `format: date-time` says it; zod's spelled-out pattern would only bury it.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    },
  });
  return Object.fromEntries(
    Object.entries(converted.schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [
      id,
      schema,
    ]),
  );
}

/** `components.schemas` of the OpenAPI document, generated from the zod schemas the code uses. */
export function componentSchemas(): Record<ComponentName, JsonSchema> {
  return {
    ...convert(requestSchemas, 'input'),
    ...convert(responseSchemas, 'output'),
  } as Record<ComponentName, JsonSchema>;
}
