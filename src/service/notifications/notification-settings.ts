import {
  describeFields,
  issuesToFieldErrors,
  requiredErrorMap,
} from '../../config/format-issues.js';
import {
  notificationsSectionSchema,
  type NotificationKind,
  type NotificationsInput,
} from '../../config/notifications.js';
import { NightshiftError } from '../../errors.js';
import { inboxUrl } from './alert-content.js';
import type { DeliveryPolicy } from './delivery.js';

/** One target as the notifier uses it. */
export interface ResolvedTarget {
  name: string;
  type: 'webhook' | 'slack';
  url: string;
  /** A webhook's signing key. */
  secret: string | undefined;
  events: ReadonlySet<NotificationKind>;
  /** Its coalescing window, in seconds (0: none). */
  coalesceSeconds: number;
}

/** The `notifications` option, checked and in the notifier's terms. */
export interface NotificationSettings {
  targets: ResolvedTarget[];
  /** `<dashboard_url>/inbox`, when a dashboard URL is given. */
  inboxUrl: string | undefined;
  policy: DeliveryPolicy;
}

/**
 * The `notifications` option (the Nightshift file's block, or the same written in code) checked
 * like the file is: `config_invalid` naming each bad field by its path under `notifications`
 * (never quoting a URL or a secret).
 */
export function resolveNotificationSettings(input: NotificationsInput): NotificationSettings {
  const parsed = notificationsSectionSchema.safeParse(input, { error: requiredErrorMap });
  if (!parsed.success) {
    const fields = issuesToFieldErrors(
      parsed.error.issues,
      ['notifications'],
      notificationsSectionSchema,
    );
    throw new NightshiftError(
      'config_invalid',
      `invalid notifications: ${describeFields(fields)}`,
      { fields },
    );
  }
  const section = parsed.data;
  return {
    targets: section.targets.map((target) => ({
      name: target.name,
      type: target.type,
      url: target.url,
      secret: target.secret,
      events: new Set(target.events),
      coalesceSeconds: target.coalesce_seconds ?? section.coalesce_seconds,
    })),
    inboxUrl: inboxUrl(section.dashboard_url),
    policy: {
      maxAttempts: section.max_attempts,
      retryDelaysMs: section.retry_delays.map((seconds) => seconds * 1000),
      timeoutMs: section.timeout_seconds * 1000,
    },
  };
}
