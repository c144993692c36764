import type { ModelMessage } from 'ai';
import type { MemoryConfig } from '../config/agent-definition.js';
import { estimateTokens } from './providers/scripted-model.js';

/**
 * Messages that must stay together: a user or plain assistant message alone, or an
 * assistant message that calls tools together with the tool messages that answer it.
 */
type MessageGroup = ModelMessage[];

function toolCallIds(message: ModelMessage): string[] {
  if (message.role !== 'assistant' || typeof message.content === 'string') return [];
  return message.content.flatMap((part) => (part.type === 'tool-call' ? [part.toolCallId] : []));
}

function toolResultIds(message: ModelMessage): string[] {
  if (message.role !== 'tool') return [];
  return message.content.flatMap((part) => (part.type === 'tool-result' ? [part.toolCallId] : []));
}

/** Splits a conversation into groups that are never separated (a tool call and its results). */
function groupMessages(messages: readonly ModelMessage[]): MessageGroup[] {
  const groups: MessageGroup[] = [];
  for (const message of messages) {
    const last = groups.at(-1);
    if (message.role === 'tool' && last) last.push(message);
    else groups.push([message]);
  }
  return groups;
}

/**
 * Drops what would make a conversation invalid to send again: tool calls without a result,
 * results without a call, and a leading run of tool messages.
 */
export function sanitizeConversation(messages: readonly ModelMessage[]): ModelMessage[] {
  const answered = new Set(messages.flatMap(toolResultIds));
  const called = new Set(messages.flatMap(toolCallIds));
  const out: ModelMessage[] = [];
  for (const message of messages) {
    if (message.role === 'assistant' && typeof message.content !== 'string') {
      const content = message.content.filter(
        (part) => part.type !== 'tool-call' || answered.has(part.toolCallId),
      );
      if (content.length === 0) continue;
      out.push({ ...message, content });
    } else if (message.role === 'tool') {
      const content = message.content.filter(
        (part) => part.type !== 'tool-result' || called.has(part.toolCallId),
      );
      if (content.length === 0 || out.length === 0) continue;
      out.push({ ...message, content });
    } else {
      out.push(message);
    }
  }
  return out;
}

function messageTokens(message: ModelMessage): number {
  return estimateTokens(JSON.stringify(message.content));
}

/**
 * The history a run loads, per the agent's memory strategy: `sliding_window` keeps the last N
 * messages, `token_budget` the newest messages within N (estimated) tokens. A tool call is never
 * split from its results, so the window may hold a few messages less than N.
 */
export function selectHistory(
  messages: readonly ModelMessage[],
  memory: MemoryConfig,
): ModelMessage[] {
  const groups = groupMessages(sanitizeConversation(messages));
  const kept: MessageGroup[] = [];
  let used = 0;
  for (let index = groups.length - 1; index >= 0; index -= 1) {
    const group = groups[index] ?? [];
    const cost =
      memory.mode === 'sliding_window'
        ? group.length
        : group.reduce((sum, m) => sum + messageTokens(m), 0);
    if (used + cost > memory.value) break;
    used += cost;
    kept.unshift(group);
  }
  return kept.flat();
}
