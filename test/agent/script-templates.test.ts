import { generateText, stepCountIs, streamText, tool } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  runWarningOf,
  ScriptedLanguageModel,
  TEMPLATE_UNRESOLVED,
} from '../../src/agent/providers/scripted-model.js';
import { checkAgentDefinition } from '../../src/config/parse-agent-definition.js';
import type { FieldError } from '../../src/errors.js';

/** A feed reader whose output has items, each with a title, and no top-level title. */
const feedRead = tool({
  inputSchema: z.object({}),
  execute: () => ({ items: [{ title: 'Nightshift 1.0 ships' }] }),
});

const PLAN = [
  { tool: 'feed_read' },
  { answer: 'Top: {{feed_read.items.0.title}}; feed {{feed_read.title}}; other {{notify}}' },
];

const FEED_TITLE_WARNING =
  '{{feed_read.title}} stayed as written: the output of feed_read has no field "title"';
const NOTIFY_WARNING =
  '{{notify}} stayed as written: the tool notify has given no output in this run';

describe('scripted answer templates', () => {
  // The AI SDK logs provider warnings to the console unless told otherwise; collect them instead.
  const logged: unknown[] = [];
  const globals = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
  let previousLogger: unknown;
  beforeEach(() => {
    previousLogger = globals.AI_SDK_LOG_WARNINGS;
    globals.AI_SDK_LOG_WARNINGS = (options: { warnings: unknown[] }) =>
      logged.push(...options.warnings);
  });
  afterEach(() => {
    globals.AI_SDK_LOG_WARNINGS = previousLogger;
    logged.splice(0);
  });

  it('keeps a template naming a missing field as written, and warns naming it', async () => {
    const result = await generateText({
      model: new ScriptedLanguageModel(PLAN),
      prompt: 'digest',
      tools: { feed_read: feedRead },
      stopWhen: stepCountIs(5),
    });
    expect(result.text).toBe(
      'Top: Nightshift 1.0 ships; feed {{feed_read.title}}; other {{notify}}',
    );
    expect(result.steps[0]?.warnings).toEqual([]);
    const warnings = result.steps[1]?.warnings ?? [];
    expect(warnings.map(runWarningOf)).toEqual([
      { code: TEMPLATE_UNRESOLVED, message: FEED_TITLE_WARNING },
      { code: TEMPLATE_UNRESOLVED, message: NOTIFY_WARNING },
    ]);
    expect(logged).toEqual(warnings);
  });

  it('warns the same way when streaming', async () => {
    const result = streamText({
      model: new ScriptedLanguageModel(PLAN),
      prompt: 'digest',
      tools: { feed_read: feedRead },
      stopWhen: stepCountIs(5),
    });
    const steps = await result.steps;
    expect((steps[1]?.warnings ?? []).map(runWarningOf)).toEqual([
      { code: TEMPLATE_UNRESOLVED, message: FEED_TITLE_WARNING },
      { code: TEMPLATE_UNRESOLVED, message: NOTIFY_WARNING },
    ]);
  });

  it('gives no warning when every template is filled', async () => {
    const result = await generateText({
      model: new ScriptedLanguageModel([
        { tool: 'feed_read' },
        { answer: 'Top: {{feed_read.items.0.title}} ({{last}})' },
      ]),
      prompt: 'digest',
      tools: { feed_read: feedRead },
      stopWhen: stepCountIs(5),
    });
    expect(result.text).toBe(
      'Top: Nightshift 1.0 ships ({"items":[{"title":"Nightshift 1.0 ships"}]})',
    );
    expect(result.steps.flatMap((step) => step.warnings ?? [])).toEqual([]);
  });

  it('reads other providers’ warnings as model_warning', () => {
    expect(runWarningOf({ type: 'unsupported', feature: 'temperature', details: 'o1' })).toEqual({
      code: 'model_warning',
      message: 'unsupported feature temperature: o1',
    });
    expect(runWarningOf({ type: 'other', message: 'slow down' })).toEqual({
      code: 'model_warning',
      message: 'slow down',
    });
  });

  describe('at definition time', () => {
    const problemsOf = (script: unknown[]) =>
      Object.fromEntries(
        checkAgentDefinition(
          {
            agent_id: 'digest',
            interval: 60,
            tools: ['feed_read'],
            model_config: { provider: 'scripted', script },
            task_config: { query: 'digest' },
          },
          { tools: ['feed_read', 'system_stats'], env: {} },
        ).fields.map((field: FieldError) => [field.path, field.message]),
      );

    it('refuses a template quoting a tool no earlier step calls, suggesting the one meant', () => {
      expect(
        problemsOf([{ tool: 'feed_read' }, { answer: 'Top story: {{feed_raed.items.0.title}}' }]),
      ).toEqual({
        'model_config.script[1].answer': expect.stringMatching(
          /^\{\{feed_raed\.items\.0\.title\}\} quotes .*\(earlier steps call feed_read\).*; did you mean "feed_read"\?$/,
        ),
      });
    });

    it('refuses {{last}} before any tool has been called', () => {
      expect(problemsOf([{ answer: 'Latest: {{last}}' }])).toEqual({
        'model_config.script[0].answer': expect.stringContaining('no earlier step calls a tool'),
      });
    });

    it("refuses a template in a tool step's arguments quoting a tool no earlier step calls", () => {
      expect(
        problemsOf([
          { tool: 'feed_read' },
          { tool: 'system_stats', args: { note: '{{feed_read.items.0.title}} {{system_stats}}' } },
          { answer: 'done' },
        ]),
      ).toEqual({
        'model_config.script[1].args.note': expect.stringMatching(
          /^\{\{system_stats\}\} quotes the output of a tool no earlier step calls/,
        ),
      });
    });

    it('accepts a missing field of a tool the plan calls: output shapes are not declared', () => {
      expect(problemsOf(PLAN.slice(0, 1).concat({ answer: '{{feed_read.title}}' }))).toEqual({});
    });
  });
});
