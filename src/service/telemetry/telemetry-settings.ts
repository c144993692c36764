import {
  describeFields,
  issuesToFieldErrors,
  requiredErrorMap,
} from '../../config/format-issues.js';
import {
  DEFAULT_TELEMETRY_SERVICE_NAME,
  telemetrySchema,
  type TelemetryInput,
} from '../../config/telemetry.js';
import { NightshiftError } from '../../errors.js';

/** Where spans go and what they may carry: the `telemetry` option and the environment, checked. */
export interface TelemetrySettings {
  /** The OTLP/HTTP traces URL spans are posted to. */
  tracesUrl: string;
  serviceName: string;
  /** Prompts, replies and tool arguments and results on spans (redacted). */
  captureContent: boolean;
  /** Sent with each export (secrets). */
  headers: Record<string, string>;
}

/** The standard variables, in the order they are read. */
const TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';

/**
 * The settings traces are exported with, or undefined when nothing is to be traced: no
 * `otlp_endpoint`, and neither `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is) nor
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/traces` appended) in `env`; or `OTEL_SDK_DISABLED=true`.
 * `config_invalid` names a bad field (`telemetry.otlp_endpoint`, or the variable).
 */
export function resolveTelemetrySettings(
  input: TelemetryInput | undefined,
  env: Readonly<Record<string, string | undefined>>,
): TelemetrySettings | undefined {
  const parsed = telemetrySchema.safeParse(input ?? {}, { error: requiredErrorMap });
  if (!parsed.success) {
    const fields = issuesToFieldErrors(parsed.error.issues, ['telemetry'], telemetrySchema);
    throw new NightshiftError('config_invalid', `invalid telemetry: ${describeFields(fields)}`, {
      fields,
    });
  }
  const settings = parsed.data;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const tracesUrl = settings.otlp_endpoint
    ? tracesUrlOf(settings.otlp_endpoint)
    : nonEmpty(env[TRACES_ENDPOINT])
      ? checkedUrl(env[TRACES_ENDPOINT]!.trim(), TRACES_ENDPOINT)
      : nonEmpty(env[ENDPOINT])
        ? tracesUrlOf(checkedUrl(env[ENDPOINT]!.trim(), ENDPOINT))
        : undefined;
  if (!tracesUrl) return undefined;
  return {
    tracesUrl,
    serviceName:
      settings.service_name ?? nonEmpty(env.OTEL_SERVICE_NAME) ?? DEFAULT_TELEMETRY_SERVICE_NAME,
    captureContent: settings.capture_content ?? false,
    headers: settings.headers ?? {},
  };
}

/** An endpoint's traces URL: `<endpoint>/v1/traces` (as the OTLP exporter specification says). */
function tracesUrlOf(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}

/** A URL read from the environment; `config_invalid` naming the variable when it is not http(s). */
function checkedUrl(value: string, variable: string): string {
  const valid = URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);
  if (valid) return value;
  const fields = [{ path: variable, message: 'must be an http(s) URL' }];
  throw new NightshiftError('config_invalid', `invalid telemetry: ${describeFields(fields)}`, {
    fields,
  });
}
