import type { z } from 'zod';

/** What a tool's `execute` receives besides its input. */
export interface ToolExecutionContext {
  /** Fires when the tool call times out or the run is cancelled; the tool should stop. */
  abortSignal: AbortSignal;
  agent_id: string;
  run_id: string;
  /** Stable per call: use it (with `run_id`) as an idempotency key with the services a tool calls. */
  tool_call_id: string;
  /**
   * Non-public hosts this call may reach (host names, IPs, CIDRs), e.g. `['127.0.0.1']` for a
   * local service. Network tools refuse private, loopback, link-local and metadata addresses
   * unless listed here; absent means none.
   */
  allow_hosts?: readonly string[];
}

/** A JSON Schema object describing a tool's input. */
export type JsonSchemaObject = { type: 'object'; [key: string]: unknown };

/** A tool as registered: the AI SDK `tool()` shape, with zod or JSON Schema input. */
export interface ToolDefinition<INPUT = unknown, OUTPUT = unknown> {
  description: string;
  inputSchema: z.ZodType<INPUT> | JsonSchemaObject;
  execute(input: INPUT, context: ToolExecutionContext): Promise<OUTPUT> | OUTPUT;
  /** True when running it twice with the same input has no further effect (reads, upserts by key). */
  idempotent?: boolean;
}
