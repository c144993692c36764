import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runnerServiceOptions } from '../../src/cli/runner-service-options.js';
import { loadNightshiftFile } from '../../src/config/load-config-file.js';
import { resolveTelemetrySettings } from '../../src/service/telemetry/telemetry-settings.js';
import {
  BackgroundAgentService,
  EventRouter,
  MemoryRouter,
  NightshiftError,
} from '../../src/index.js';

const AGENTS = [
  'agents:',
  '  - agent_id: watcher',
  '    model_config: { provider: scripted, script: [{ answer: ok }] }',
  '    interval: 300',
  '    task_config: { query: Watch. }',
];

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0))
    rmSync(directory, { recursive: true, force: true });
});

function write(lines: string[]): string {
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-telemetry-'));
  directories.push(directory);
  const path = join(directory, 'nightshift.yaml');
  writeFileSync(path, [...lines, ...AGENTS].join('\n'));
  return path;
}

/** The fields a refusal names, and their messages. */
function refusedFields(load: () => unknown): Record<string, string> {
  try {
    load();
  } catch (error) {
    if (!NightshiftError.isInstance(error)) throw error;
    expect(error.code).toBe('config_invalid');
    return Object.fromEntries((error.fields ?? []).map((field) => [field.path, field.message]));
  }
  throw new Error('expected a refusal');
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('the telemetry: block', () => {
  it('is read from the file, its header values kept secret, and passed to the service', () => {
    const path = write([
      'telemetry:',
      '  otlp_endpoint: http://collector.internal:4318',
      '  service_name: nightly-fleet',
      '  capture_content: true',
      '  headers: { x-api-key: "${COLLECTOR_KEY}" }',
    ]);
    const env = { COLLECTOR_KEY: 'collector-key-123456' };
    const file = loadNightshiftFile(path, { env });
    expect(file.telemetry).toEqual({
      otlp_endpoint: 'http://collector.internal:4318',
      service_name: 'nightly-fleet',
      capture_content: true,
      headers: { 'x-api-key': 'collector-key-123456' },
    });
    expect(file.secrets).toContain('collector-key-123456');
    const options = runnerServiceOptions(file, { shutdownTimeout: 5, leaseTtl: 30 }, env, silent);
    expect(options.telemetry).toEqual(file.telemetry);
    expect(loadNightshiftFile(write([])).telemetry).toBeUndefined();
  });

  it('refuses a bad block naming each field', () => {
    expect(
      refusedFields(() =>
        loadNightshiftFile(
          write([
            'telemetry:',
            '  otlp_endpoint: collector:4318',
            '  service_name: ""',
            '  capture_content: sometimes',
            '  sample_rate: 1',
          ]),
        ),
      ),
    ).toEqual({
      'telemetry.otlp_endpoint': 'must be an http(s) URL',
      'telemetry.service_name': 'must not be empty',
      'telemetry.capture_content': 'must be true or false',
      'telemetry.sample_rate': expect.stringContaining('unknown field') as string,
    });
  });

  it('refuses a bad telemetry option of the service', () => {
    expect(
      refusedFields(
        () =>
          new BackgroundAgentService(new MemoryRouter('in_memory'), new EventRouter('in_memory'), {
            telemetry: { otlp_endpoint: 'ftp://collector.internal' },
          }),
      ),
    ).toEqual({ 'telemetry.otlp_endpoint': 'must be an http(s) URL' });
  });
});

describe('where traces go', () => {
  it('is nowhere without an endpoint', () => {
    expect(resolveTelemetrySettings(undefined, {})).toBeUndefined();
    expect(resolveTelemetrySettings({ capture_content: true }, {})).toBeUndefined();
  });

  it('is <otlp_endpoint>/v1/traces, over the environment', () => {
    expect(
      resolveTelemetrySettings(
        { otlp_endpoint: 'http://collector:4318/' },
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' },
      ),
    ).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'nightshift',
      captureContent: false,
      headers: {},
    });
  });

  it('follows the standard variables: the traces endpoint as it is, the endpoint + /v1/traces', () => {
    expect(
      resolveTelemetrySettings(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SERVICE_NAME: 'fleet',
      }),
    ).toMatchObject({ tracesUrl: 'http://collector:4318/v1/traces', serviceName: 'fleet' });
    expect(
      resolveTelemetrySettings(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
      }),
    ).toMatchObject({ tracesUrl: 'http://traces:9999/custom' });
    expect(
      resolveTelemetrySettings(undefined, {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBeUndefined();
    expect(
      refusedFields(() =>
        resolveTelemetrySettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' }),
      ),
    ).toEqual({ OTEL_EXPORTER_OTLP_ENDPOINT: 'must be an http(s) URL' });
  });
});
