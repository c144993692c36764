import type { ToolDefinition } from '../../../src/tools/tool-definition.js';

/** Runs a tool as the agent runtime does: with an abort signal and the run's ids. */
export function callTool(
  tool: ToolDefinition | undefined,
  input: unknown,
  abortSignal: AbortSignal = new AbortController().signal,
): Promise<unknown> {
  if (!tool) throw new Error('no such tool');
  return Promise.resolve(
    tool.execute(input, {
      abortSignal,
      agent_id: 'mcp-test',
      run_id: 'run-1',
      tool_call_id: 'call-1',
    }),
  );
}
