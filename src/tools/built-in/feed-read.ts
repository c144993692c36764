import { z } from 'zod';
import { NightshiftError } from '../../errors.js';
import { safeFetch } from '../safety/index.js';
import type { ToolDefinition } from '../tool-definition.js';
import { parseContentType, decodeText } from './response-content.js';
import { parseFeed, type FeedItem } from './parse-feed.js';
import { truncateText } from './truncate-text.js';

/** Feeds larger than this are refused rather than parsed half-read. */
const MAX_FEED_BYTES = 5_000_000;

const inputSchema = z.object({
  url: z.string().min(1).describe('The http(s) URL of an RSS or Atom feed.'),
  since: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time')
    .optional()
    .describe(
      'ISO 8601 date-time: return only items published after it (items without a date are left out).',
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(200)
    .default(20)
    .describe('Return at most this many items, newest first (default 20).'),
  summary_chars: z
    .number()
    .int()
    .min(0)
    .max(5_000)
    .default(500)
    .describe('Cut each summary to this many characters (default 500; 0 leaves summaries out).'),
  timeout_seconds: z
    .number()
    .positive()
    .max(120)
    .default(20)
    .describe('Give up after this many seconds (default 20).'),
});

/** Input of {@link feedReadTool}. */
export type FeedReadInput = z.infer<typeof inputSchema>;

const newestFirst = (a: FeedItem, b: FeedItem) => {
  if (a.published === b.published) return 0;
  if (a.published === null) return 1;
  if (b.published === null) return -1;
  return a.published < b.published ? 1 : -1;
};

/** Reads an RSS or Atom feed: items newest first, optionally only those after `since`. */
export const feedReadTool: ToolDefinition<FeedReadInput> = {
  description:
    'Read an RSS 2.0, RSS 1.0 or Atom feed from a public URL. Returns the feed title and its ' +
    'items { title, link, published (ISO), summary (plain text, cut) } newest first; `since` ' +
    'keeps only items published after that instant. Read-only.',
  inputSchema,
  idempotent: true,
  async execute(input, context) {
    const response = await safeFetch(input.url, {
      headers: {
        accept:
          'application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5',
      },
      timeoutMs: input.timeout_seconds * 1000,
      maxBytes: MAX_FEED_BYTES,
      signal: context.abortSignal,
      allowHosts: context.allow_hosts,
    });
    if (response.status < 200 || response.status >= 300) {
      throw new NightshiftError('tool_error', `the feed answered HTTP ${response.status}`, {
        details: { url: response.url, status: response.status },
      });
    }
    if (response.truncated) {
      throw new NightshiftError(
        'tool_error',
        `the feed is larger than ${MAX_FEED_BYTES} bytes and was not read`,
      );
    }
    const { charset } = parseContentType(response.headers['content-type']);
    const feed = parseFeed(decodeText(response.body, charset), response.url);
    const since = input.since === undefined ? undefined : new Date(input.since).toISOString();
    const dated = feed.items.filter((item) => item.published !== null).length;
    const matching = feed.items
      .filter((item) => since === undefined || (item.published !== null && item.published > since))
      .sort(newestFirst);
    const items = matching.slice(0, input.limit).map((item) => ({
      ...item,
      summary:
        item.summary === null || input.summary_chars === 0
          ? null
          : truncateText(item.summary, input.summary_chars).text,
    }));
    return {
      feed: { title: feed.title, link: feed.link, format: feed.format, url: response.url },
      items,
      total_items: feed.items.length,
      matching_items: matching.length,
      ...(since !== undefined && dated < feed.items.length
        ? { undated_items_left_out: feed.items.length - dated }
        : {}),
    };
  },
};
