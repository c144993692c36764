export type { AgentEvent, AgentEventSink, AgentEventType } from './agent-events.js';
export { sanitizeConversation, selectHistory } from './conversation.js';
export {
  createModel,
  loadModelProvider,
  type ModelFactoryOptions,
  type RegisteredProvider,
} from './providers/create-model.js';
export { ScriptedLanguageModel } from './providers/scripted-model.js';
export type { AgentErrorCode, AgentRunResult, AgentRunStatus } from './run-result.js';
export { runAgent, type RunAgentOptions } from './run-agent.js';
export {
  RunGuardrails,
  type GuardrailFunction,
  type GuardrailFunctionContext,
  type GuardrailHit,
  type GuardrailVerdict,
} from './guardrails.js';
export { findInjections, looksLikeInjection } from './injection-screen.js';
export type { ApprovalVerdict, RunApprovals, ToolCallRequest } from './run-approvals.js';
export type { BudgetStop, HeldBudget, ModelCallEstimate, RunBudget } from './run-budget.js';
export { JOURNAL_RESULT_CAP_CHARS, outcomeUnknown } from './run-journal.js';
export { digest } from './canonical-digest.js';
export type { StepRecorder } from './tool-calls.js';
export type { ReplaySource } from './run-replay.js';
