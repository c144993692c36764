import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolDefinition } from '../tool-definition.js';

/** What model APIs accept as a tool name (OpenAI, Anthropic and Gemini agree on this much). */
const MODEL_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Calls one tool of a server; the signal cancels the request on the wire. */
export type McpToolCall = (input: unknown, abortSignal: AbortSignal) => Promise<unknown>;

/**
 * The name a server's tool gets in Nightshift: `tool_prefix + name`. Characters model APIs
 * reject (MCP allows `.` and `/`) become `_`; a valid MCP name is kept unchanged.
 */
export function mcpToolName(prefix: string | undefined, name: string): string {
  return `${prefix ?? ''}${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** True when a name is one every model API accepts. */
export function isModelToolName(name: string): boolean {
  return MODEL_TOOL_NAME.test(name);
}

/** False for tools the server runs only as tasks (`execution.taskSupport: "required"`), which a plain call cannot use. */
export function isPlainCallable(tool: Tool): boolean {
  return tool.execution?.taskSupport !== 'required';
}

/**
 * A server's tool as a Nightshift tool: the server's description and JSON Schema, idempotent
 * when the server says it only reads or may safely be repeated.
 */
export function mcpToolDefinition(tool: Tool, call: McpToolCall): ToolDefinition {
  const annotations = tool.annotations;
  return {
    description: tool.description ?? tool.title ?? annotations?.title ?? '',
    // OpenAI refuses an object schema without `properties`, which MCP lets a server leave out.
    inputSchema: { ...tool.inputSchema, properties: tool.inputSchema.properties ?? {} },
    idempotent: annotations?.readOnlyHint === true || annotations?.idempotentHint === true,
    execute: (input, context) => call(input, context.abortSignal),
  };
}
