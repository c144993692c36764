import { z } from 'zod';
import { didYouMean } from './did-you-mean.js';

/**
 * What a notification target may be told about: a tool call waits for a person, a run failed
 * for good, an agent was paused after repeated failures, a budget ran out, a run was interrupted.
 */
export const NOTIFICATION_KINDS = [
  'approval_requested',
  'run_failed',
  'agent_auto_paused',
  'budget_exhausted',
  'run_interrupted',
] as const;

/** One kind of {@link NOTIFICATION_KINDS}. */
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Where a target posts: a signed JSON webhook, or a Slack incoming webhook (`{ text }`). */
export const NOTIFICATION_TARGET_TYPES = ['webhook', 'slack'] as const;

/** A target's name: what events and logs call it, never its URL. */
const TARGET_NAME = /^[A-Za-z0-9_-]+$/;

/** An error message for a value of the wrong kind; a missing one reads `required` (the parse's map). */
const unlessMissing =
  (message: string) =>
  (issue: { input?: unknown }): string | undefined =>
    issue.input === undefined ? undefined : message;

/** Runs a cross-field check even when other fields are bad: every problem is reported at once. */
const always = () => true;

/** The longest window, retry delay or request timeout: a day. */
const MAX_SECONDS = 86_400;

/** A number; a string of digits counts, since `${NAME}` always yields text. */
const numberFrom = (schema: z.ZodNumber) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : value),
    schema,
  );

const seconds = (minimum: 'positive' | 'zero') => {
  const number = z.number({ error: 'must be a number of seconds' });
  return numberFrom(
    (minimum === 'positive'
      ? number.gt(0, { error: 'must be greater than 0' })
      : number.min(0, { error: 'must be at least 0' })
    ).max(MAX_SECONDS, { error: `must be at most ${MAX_SECONDS} seconds (a day)` }),
  );
};

/**
 * An http(s) URL. The message never quotes the value: a target's URL is a secret (Slack's
 * incoming webhooks carry their token in the path).
 */
const httpUrl = z.string({ error: unlessMissing('must be an http(s) URL') }).refine(
  (value) => {
    if (!URL.canParse(value)) return false;
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  },
  { error: 'must be an http(s) URL' },
);

const kindSchema = z.enum(NOTIFICATION_KINDS, {
  error: (issue) =>
    issue.input === undefined
      ? undefined
      : typeof issue.input === 'string'
        ? `unknown event kind "${issue.input}"${didYouMean(issue.input, NOTIFICATION_KINDS)} (one of ${NOTIFICATION_KINDS.join(', ')})`
        : `must be one of ${NOTIFICATION_KINDS.join(', ')}`,
});

/** One place alerts go: its name, where it posts, and which kinds of events it gets. */
export const notificationTargetSchema = z
  .strictObject({
    name: z
      .string({ error: unlessMissing('must be a name') })
      .regex(TARGET_NAME, { error: 'must be a name of letters, digits, _ and -' }),
    type: z.enum(NOTIFICATION_TARGET_TYPES, {
      error: (issue) =>
        issue.input === undefined
          ? 'required'
          : `must be one of ${NOTIFICATION_TARGET_TYPES.join(', ')}`,
    }),
    /** Where it posts; a secret (redacted wherever it would appear). */
    url: httpUrl,
    /** The key a webhook's bodies are signed with (HMAC-SHA256); required for `webhook`. */
    secret: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .optional(),
    /** The kinds of events it is sent. */
    events: z
      .array(kindSchema, { error: unlessMissing('must be a list of event kinds') })
      .min(1, { error: `must name at least one of ${NOTIFICATION_KINDS.join(', ')}` }),
    /** This target's coalescing window, over the block's. */
    coalesce_seconds: seconds('zero').optional(),
  })
  // Also when other fields are bad, so that every problem is reported at once.
  .superRefine(
    (target, context) => {
      if (typeof target !== 'object' || target === null) return;
      if (target.type === 'webhook' && target.secret === undefined)
        context.addIssue({
          code: 'custom',
          path: ['secret'],
          message: 'required for a webhook target: its bodies are signed with it',
        });
      if (target.type === 'slack' && target.secret !== undefined)
        context.addIssue({
          code: 'custom',
          path: ['secret'],
          message: 'a slack target is not signed (its URL is its secret): remove secret',
        });
    },
    { when: always },
  );

/** The `notifications:` block of a Nightshift file, and the service's `notifications` option. */
export const notificationsSectionSchema = z
  .strictObject({
    /** The dashboard's address: messages link to `<dashboard_url>/inbox`; without it, no link. */
    dashboard_url: httpUrl.optional(),
    /**
     * Per target, agent and kind at most one message per window; more within it are counted and
     * folded into the next message, or a summary when the window closes. 0 coalesces nothing.
     */
    coalesce_seconds: seconds('zero').default(60),
    /** Attempts per message, the first included. */
    max_attempts: numberFrom(
      z
        .number({ error: 'must be a whole number' })
        .int({ error: 'must be a whole number' })
        .min(1, { error: 'must be at least 1' })
        .max(20, { error: 'must be at most 20' }),
    ).default(4),
    /** Seconds before each retry; the last repeats when attempts outnumber them. */
    retry_delays: z
      .array(seconds('zero'), { error: 'must be a list of seconds' })
      .min(1, { error: 'must list at least one delay' })
      .default([1, 5, 30]),
    /** Seconds one request may take. */
    timeout_seconds: seconds('positive').default(10),
    targets: z
      .array(notificationTargetSchema, { error: unlessMissing('must be a list of targets') })
      .min(1, { error: 'must list at least one target' }),
  })
  .superRefine(
    (section, context) => {
      if (typeof section !== 'object' || section === null || !Array.isArray(section.targets))
        return;
      const first = new Map<string, number>();
      section.targets.forEach((target, index) => {
        if (typeof target !== 'object' || target === null || typeof target.name !== 'string')
          return;
        const seen = first.get(target.name);
        if (seen === undefined) first.set(target.name, index);
        else
          context.addIssue({
            code: 'custom',
            path: ['targets', index, 'name'],
            message: `duplicate "${target.name}" (also targets[${seen}])`,
          });
      });
    },
    { when: always },
  );

/** The `notifications:` block as written. */
export type NotificationsInput = z.input<typeof notificationsSectionSchema>;
/** The `notifications:` block with its defaults filled in. */
export type NotificationsSection = z.output<typeof notificationsSectionSchema>;
/** One target of the block. */
export type NotificationTarget = NotificationsSection['targets'][number];

/** Values of the block that must never be printed: every target's URL and secret. */
export function notificationSecrets(section: NotificationsSection | undefined): string[] {
  return (section?.targets ?? []).flatMap((target) => [
    target.url,
    ...(target.secret === undefined ? [] : [target.secret]),
  ]);
}
