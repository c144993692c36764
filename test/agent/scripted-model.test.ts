import { generateText, stepCountIs, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ScriptedLanguageModel } from '../../src/agent/index.js';

describe('the scripted provider', () => {
  it('follows its plan: calls the tool, then answers quoting the tool output', async () => {
    const model = new ScriptedLanguageModel([
      { tool: 'stats', args: { path: '/' } },
      { answer: 'Disk at {{stats.disk.used}}%; raw {{last}}; unknown {{nothing}}' },
    ]);
    let received: unknown;
    const result = await generateText({
      model,
      prompt: 'check',
      tools: {
        stats: tool({
          inputSchema: z.object({ path: z.string() }),
          execute: (input) => {
            received = input;
            return { disk: { used: 42 } };
          },
        }),
      },
      stopWhen: stepCountIs(5),
    });
    expect(received).toEqual({ path: '/' });
    expect(result.text).toBe('Disk at 42%; raw {"disk":{"used":42}}; unknown {{nothing}}');
    // The template it could not fill is named in the reply's warnings (run_warning in a run).
    expect(result.steps[1]?.warnings).toEqual([
      { type: 'other', message: expect.stringContaining('template_unresolved: {{nothing}}') },
    ]);
    expect(result.steps).toHaveLength(2);
    expect(result.totalUsage.totalTokens).toBeGreaterThan(0);
  });

  it("fills the templates in the strings of a tool step's arguments from earlier tools", async () => {
    const model = new ScriptedLanguageModel([
      { tool: 'stats', args: {} },
      { tool: 'note', args: { lines: ['Disk at {{stats.disk.used}}%', '{{nothing}}'], level: 2 } },
      { answer: 'noted {{note.count}}' },
    ]);
    let received: unknown;
    const result = await generateText({
      model,
      prompt: 'check',
      tools: {
        stats: tool({ inputSchema: z.object({}), execute: () => ({ disk: { used: 42 } }) }),
        note: tool({
          inputSchema: z.object({ lines: z.array(z.string()), level: z.number() }),
          execute: (input) => {
            received = input;
            return { count: input.lines.length };
          },
        }),
      },
      stopWhen: stepCountIs(5),
    });
    expect(received).toEqual({ lines: ['Disk at 42%', '{{nothing}}'], level: 2 });
    expect(result.text).toBe('noted 2');
    expect(result.steps[1]?.warnings).toEqual([
      { type: 'other', message: expect.stringContaining('template_unresolved: {{nothing}}') },
    ]);
  });

  it('restarts its plan at each new user message and reports declared usage', async () => {
    const model = new ScriptedLanguageModel([
      { answer: 'hello', usage: { input_tokens: 7, output_tokens: 3 } },
    ]);
    const first = await generateText({ model, prompt: 'a' });
    const second = await generateText({
      model,
      messages: [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'b' },
      ],
    });
    expect([first.text, second.text]).toEqual(['hello', 'hello']);
    expect(second.usage).toMatchObject({ inputTokens: 7, outputTokens: 3, totalTokens: 10 });
  });

  it('fails a call when the plan says so', async () => {
    const model = new ScriptedLanguageModel([{ fail: 'rehearsed outage' }]);
    await expect(generateText({ model, prompt: 'a', maxRetries: 0 })).rejects.toThrow(
      'rehearsed outage',
    );
  });

  it('waits for a declared delay, and stops waiting when aborted', async () => {
    const model = new ScriptedLanguageModel([{ delay: 30, answer: 'late' }]);
    const controller = new AbortController();
    const pending = generateText({
      model,
      prompt: 'a',
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});
