import { z } from 'zod';

/** The service name spans are reported under when `service_name` is not given. */
export const DEFAULT_TELEMETRY_SERVICE_NAME = 'nightshift';

/** A value of the wrong kind; a missing one reads `required` (the parse's map). */
const unlessMissing =
  (message: string) =>
  (issue: { input?: unknown }): string | undefined =>
    issue.input === undefined ? undefined : message;

/** An http(s) URL (the message never quotes it: a collector's URL may carry a token). */
const httpUrl = z.string({ error: unlessMissing('must be an http(s) URL') }).refine(
  (value) => {
    if (!URL.canParse(value)) return false;
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  },
  { error: 'must be an http(s) URL' },
);

/**
 * Traces (OpenTelemetry): the `telemetry:` block of a Nightshift file and the service's
 * `telemetry` option. Without `otlp_endpoint` (and without `OTEL_EXPORTER_OTLP_ENDPOINT` /
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` in the environment) nothing is traced.
 */
export const telemetrySchema = z.strictObject({
  /** The OTLP/HTTP endpoint; spans are posted to `<otlp_endpoint>/v1/traces`. */
  otlp_endpoint: httpUrl.optional(),
  /** `service.name` of the spans' resource. Default `nightshift`. */
  service_name: z
    .string({ error: 'must be a name' })
    .min(1, { error: 'must not be empty' })
    .optional(),
  /** Record prompts, replies and tool arguments and results on spans (redacted). Default false. */
  capture_content: z.boolean({ error: 'must be true or false' }).optional(),
  /** HTTP headers sent with every export (an API key of a hosted collector): secrets, redacted. */
  headers: z
    .record(
      z.string().min(1, { error: 'must not be empty' }),
      z.string({ error: 'must be a string' }),
    )
    .optional(),
});

/** The `telemetry` settings as written. */
export type TelemetryInput = z.input<typeof telemetrySchema>;

/** The `telemetry` settings, checked. */
export type TelemetrySettings = z.output<typeof telemetrySchema>;

/** What the `telemetry` block holds that must never be printed: its headers' values (API keys). */
export function telemetrySecrets(settings: TelemetrySettings | undefined): string[] {
  return Object.values(settings?.headers ?? {}).filter((value) => value !== '');
}
