import { z } from 'zod';
import { NightshiftError } from '../../errors.js';
import { httpUrl, safeFetch } from '../safety/index.js';
import type { ToolDefinition } from '../tool-definition.js';
import { truncateText } from './truncate-text.js';

/** Webhooks {@link createNotifyTool} may post to, from configuration. */
export interface NotifyOptions {
  /** Webhook name → URL (Slack incoming webhook, Discord webhook, or anything taking that JSON). */
  webhooks: Readonly<Record<string, string>>;
  /** Give up on a webhook after this long (default 10 s). */
  timeout_seconds?: number;
  /** Non-public hosts the webhooks may live on, added to the call's `allow_hosts`. */
  allow_hosts?: readonly string[];
}

/** Discord rejects `content` over 2,000 characters; Slack advises keeping `text` under 4,000. */
const DISCORD_LIMIT = 2_000;
const SLACK_LIMIT = 4_000;

/** Result of one notification. */
export interface NotifyResult {
  webhook: string;
  delivered: true;
  status: number;
}

/**
 * Builds `notify`: posts a message to a configured webhook. The model picks a webhook by name
 * and never sees or supplies a URL, so it can only reach the destinations configured here.
 */
export function createNotifyTool(
  options: NotifyOptions,
): ToolDefinition<{ webhook: string; text: string; title?: string | undefined }, NotifyResult> {
  const names = Object.keys(options.webhooks);
  const [first, ...rest] = names;
  if (first === undefined) {
    throw new NightshiftError('config_invalid', 'notify needs at least one webhook', {
      fields: [{ path: 'webhooks', message: 'must name at least one webhook' }],
    });
  }
  const urls = new Map<string, URL>();
  for (const [name, url] of Object.entries(options.webhooks)) {
    try {
      urls.set(name, httpUrl(url));
    } catch {
      // The URL is a secret (it carries the webhook's token): name the webhook, not the URL.
      const message = `webhook "${name}" is not an http(s) URL`;
      throw new NightshiftError('config_invalid', message, {
        fields: [{ path: `webhooks.${name}`, message }],
      });
    }
  }
  const timeoutMs = (options.timeout_seconds ?? 10) * 1000;
  const inputSchema = z.object({
    webhook: z.enum([first, ...rest]).describe(`Where to send it: one of ${names.join(', ')}.`),
    text: z.string().min(1).max(20_000).describe('The message (Markdown is fine).'),
    title: z
      .string()
      .max(200)
      .optional()
      .describe('A short headline shown in bold above the text.'),
  });
  return {
    description:
      `Send a message to a team chat webhook (${names.join(', ')}). Each call posts one message; ` +
      'calling again posts it again, so this tool is not idempotent — send once per event.',
    inputSchema,
    idempotent: false,
    async execute(input, context) {
      const url = urls.get(input.webhook);
      if (!url) {
        throw new NightshiftError(
          'tool_error',
          `unknown webhook "${input.webhook}"; use one of ${names.join(', ')}`,
        );
      }
      const slack = input.title ? `*${input.title}*\n${input.text}` : input.text;
      const discord = input.title ? `**${input.title}**\n${input.text}` : input.text;
      const body = JSON.stringify({
        text: truncateText(slack, SLACK_LIMIT).text,
        content: truncateText(discord, DISCORD_LIMIT).text,
      });
      const response = await safeFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Services that honour it drop a retried delivery of the same call.
          'idempotency-key': `${context.run_id}:${context.tool_call_id}`,
        },
        body,
        timeoutMs,
        maxBytes: 2_000,
        // A webhook that redirects is misconfigured; re-posting elsewhere is not ours to decide.
        redirect: 'manual',
        signal: context.abortSignal,
        allowHosts: [...(options.allow_hosts ?? []), ...(context.allow_hosts ?? [])],
      }).catch((error: unknown) => {
        if (context.abortSignal.aborted) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new NightshiftError('tool_error', `webhook "${input.webhook}": ${reason}`, {
          cause: error,
        });
      });
      if (response.status < 200 || response.status >= 300) {
        const answer = response.body.toString('utf8').trim().slice(0, 300);
        throw new NightshiftError(
          'tool_error',
          `webhook "${input.webhook}" answered HTTP ${response.status}${answer ? `: ${answer}` : ''}`,
        );
      }
      return { webhook: input.webhook, delivered: true, status: response.status };
    },
  };
}
