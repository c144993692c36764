import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BUILT_IN_TOOLS,
  createFileWriteTool,
  createNotifyTool,
  createSqlTools,
} from '../../src/tools/built-in/index.js';
import type { ToolDefinition } from '../../src/tools/tool-definition.js';

function undescribedFields(tool: ToolDefinition<never, unknown>): string[] {
  const schema = tool.inputSchema;
  if (!(schema instanceof z.ZodObject)) return ['(input is not a zod object)'];
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).description)
    .map(([name]) => name);
}

describe('built-in tools', () => {
  const sql = createSqlTools({ connections: { main: 'sqlite:unused.db' } });
  const all: Record<string, ToolDefinition<never, unknown>> = {
    ...BUILT_IN_TOOLS,
    file_write: createFileWriteTool({ directory: 'unused' }) as ToolDefinition<never>,
    notify: createNotifyTool({
      webhooks: { ops: 'https://hooks.example.test/x' },
    }) as ToolDefinition<never>,
    sql_query: sql.tools.sql_query as ToolDefinition<never>,
    sql_archive: sql.tools.sql_archive as ToolDefinition<never>,
  };

  it('offers the constant tools to every service', () => {
    expect(Object.keys(BUILT_IN_TOOLS).sort()).toEqual([
      'feed_read',
      'http_fetch',
      'service_check',
      'system_stats',
    ]);
  });

  it.each(Object.keys(all))('%s describes every input field for the model', (name) => {
    expect(undescribedFields(all[name]!)).toEqual([]);
    expect(all[name]?.description.length).toBeGreaterThan(40);
  });

  it('flags as idempotent only the tools whose every call is a read', () => {
    const idempotent = Object.entries(all)
      .filter(([, tool]) => tool.idempotent === true)
      .map(([name]) => name)
      .sort();
    expect(idempotent).toEqual(['feed_read', 'service_check', 'sql_query', 'system_stats']);
  });
});
