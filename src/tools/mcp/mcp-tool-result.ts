import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import { NightshiftError } from '../../errors.js';

/** One content block as text the model can read; non-text blocks are named, not inlined. */
function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type}: ${block.mimeType}]`;
    case 'resource_link':
      return `[resource link: ${block.name} (${block.uri})]`;
    case 'resource':
      return 'text' in block.resource
        ? block.resource.text
        : `[resource: ${block.resource.uri}${block.resource.mimeType ? ` (${block.resource.mimeType})` : ''}]`;
    default:
      return '';
  }
}

/** The text content of a result, blocks joined by newlines. */
function resultText(result: CallToolResult): string {
  return result.content
    .map(blockText)
    .filter((text) => text !== '')
    .join('\n');
}

/**
 * What a tool call returns to the model: the structured content when the server sent some (it is
 * the precise form), else the text content. A result flagged `isError` is thrown as a
 * `tool_error` carrying the server's own text, so the runtime records a failed call.
 */
export function mcpToolOutput(
  result: CallToolResult,
  names: { server: string; tool: string },
): unknown {
  if (result.isError) {
    const text = resultText(result);
    throw new NightshiftError(
      'tool_error',
      text === '' ? `MCP tool "${names.tool}" failed without saying why` : text,
      { details: { server: names.server, tool: names.tool } },
    );
  }
  return result.structuredContent ?? resultText(result);
}
