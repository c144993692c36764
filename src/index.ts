/** Nightshift: run autonomous LLM agents in the background, on schedules. */
export { NightshiftError, type FieldError, type NightshiftErrorCode } from './errors.js';
export {
  agentDefinitionSchema,
  type AgentDefinition,
  type AgentDefinitionInput,
} from './config/agent-definition.js';
export { DEFAULTS } from './config/defaults.js';
export { parseAgentDefinition } from './config/parse-agent-definition.js';
export { loadNightshiftFile } from './config/load-config-file.js';
export {
  runAgent,
  createModel,
  ScriptedLanguageModel,
  RunGuardrails,
  looksLikeInjection,
  type AgentRunResult,
  type GuardrailFunction,
  type GuardrailVerdict,
  type RegisteredProvider,
} from './agent/index.js';
export type { GuardrailCheck, GuardrailPlace, GuardrailAction } from './config/guardrails.js';
export {
  ToolRegistry,
  systemStatsTool,
  type ToolDefinition,
  type ToolExecutionContext,
} from './tools/index.js';
export * from './storage/index.js';
export * from './service/index.js';
export { createApp, startServer } from './server/index.js';
export {
  NOTIFICATION_KINDS,
  type NotificationKind,
  type NotificationsInput,
} from './config/notifications.js';
export {
  SIGNATURE_HEADER,
  signNightshiftBody,
  verifyNightshiftSignature,
  type VerifySignatureOptions,
} from './service/notifications/signature.js';
export type { WebhookBody } from './service/notifications/alert-content.js';
