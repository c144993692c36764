import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runnerServiceOptions } from '../../src/cli/runner-service-options.js';
import { loadNightshiftFile, loadServiceSections } from '../../src/config/load-config-file.js';
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
  const directory = mkdtempSync(join(tmpdir(), 'nightshift-notifications-'));
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

describe('the notifications: block', () => {
  it('loads targets with their defaults, reads ${ENV} references, and counts URLs and secrets among the secrets', () => {
    const path = write([
      'notifications:',
      '  dashboard_url: https://nightshift.example.com',
      '  coalesce_seconds: 120',
      '  targets:',
      '    - name: ops',
      '      type: webhook',
      '      url: https://alerts.example.com/nightshift',
      '      secret: ${ALERT_SIGNING}',
      '      events: [approval_requested, run_failed]',
      '    - name: chat',
      '      type: slack',
      '      url: ${SLACK_WEBHOOK_URL}',
      '      events: [budget_exhausted, agent_auto_paused, run_interrupted]',
      '      coalesce_seconds: 0',
    ]);
    const slack = 'https://hooks.slack.com/services/T0/B0/abcdef';
    const env = { ALERT_SIGNING: 'sign-me-0042', SLACK_WEBHOOK_URL: slack };
    const file = loadNightshiftFile(path, { env });
    expect(file.notifications).toEqual({
      dashboard_url: 'https://nightshift.example.com',
      coalesce_seconds: 120,
      max_attempts: 4,
      retry_delays: [1, 5, 30],
      timeout_seconds: 10,
      targets: [
        {
          name: 'ops',
          type: 'webhook',
          url: 'https://alerts.example.com/nightshift',
          secret: 'sign-me-0042',
          events: ['approval_requested', 'run_failed'],
        },
        {
          name: 'chat',
          type: 'slack',
          url: slack,
          events: ['budget_exhausted', 'agent_auto_paused', 'run_interrupted'],
          coalesce_seconds: 0,
        },
      ],
    });
    // A URL written in the file is as secret as one read from the environment.
    expect(file.secrets).toEqual(
      expect.arrayContaining(['https://alerts.example.com/nightshift', 'sign-me-0042', slack]),
    );
    expect(loadServiceSections(path, { env }).notifications).toEqual(file.notifications);
    // The runner passes the block to the service as its `notifications` option.
    const options = runnerServiceOptions(file, { shutdownTimeout: 5, leaseTtl: 30 }, env, {
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    });
    expect(options.notifications).toEqual(file.notifications);
    expect(
      runnerServiceOptions(
        loadNightshiftFile(write([])),
        { shutdownTimeout: 5, leaseTtl: 30 },
        {},
        options.logger!,
      ).notifications,
    ).toBeUndefined();
  });

  it('names every bad field by its path, never quoting a URL', () => {
    const path = write([
      'notifications:',
      '  coalesce_seconds: -1',
      '  retry_delays: []',
      '  max_attempts: 0',
      '  colesce_seconds: 5',
      '  targets:',
      '    - name: ops',
      '      type: webhook',
      '      url: "not a url with s3cret-token"',
      '      events: [run_faild, budget_exhausted]',
      '    - name: ops',
      '      type: teams',
      '      url: ftp://files.example.com/s3cret-token',
      '      events: []',
      '    - name: chat',
      '      type: slack',
      '      url: https://hooks.slack.com/services/T/B/X',
      '      secret: unneeded',
      '      events: [run_failed]',
      '      extra: true',
    ]);
    const fields = refusedFields(() => loadNightshiftFile(path, { env: {} }));
    expect(fields).toEqual({
      'notifications.coalesce_seconds': 'must be at least 0',
      'notifications.retry_delays': 'must list at least one delay',
      'notifications.max_attempts': 'must be at least 1',
      'notifications.colesce_seconds': 'unknown field; did you mean "coalesce_seconds"?',
      'notifications.targets[0].url': 'must be an http(s) URL',
      'notifications.targets[0].events[0]':
        'unknown event kind "run_faild"; did you mean "run_failed"? (one of approval_requested, run_failed, agent_auto_paused, budget_exhausted, run_interrupted)',
      'notifications.targets[0].secret':
        'required for a webhook target: its bodies are signed with it',
      'notifications.targets[1].name': 'duplicate "ops" (also targets[0])',
      'notifications.targets[1].type': 'must be one of webhook, slack',
      'notifications.targets[1].url': 'must be an http(s) URL',
      'notifications.targets[1].events':
        'must name at least one of approval_requested, run_failed, agent_auto_paused, budget_exhausted, run_interrupted',
      'notifications.targets[2].secret':
        'a slack target is not signed (its URL is its secret): remove secret',
      'notifications.targets[2].extra': 'unknown field',
    });
    try {
      loadNightshiftFile(path, { env: {} });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('s3cret-token');
    }
  });

  it('names an unset ${ENV} reference and a missing target field by path', () => {
    const path = write([
      'notifications:',
      '  targets:',
      '    - name: ops',
      '      type: webhook',
      '      url: https://alerts.example.com/hook',
      '      secret: ${UNSET_SIGNING_SECRET}',
      '      events: [run_failed]',
      '    - type: slack',
    ]);
    const fields = refusedFields(() => loadNightshiftFile(path, { env: {} }));
    expect(fields).toMatchObject({
      'notifications.targets[0].secret': 'environment variable UNSET_SIGNING_SECRET is not set',
      'notifications.targets[1].name': 'required',
      'notifications.targets[1].url': 'required',
      'notifications.targets[1].events': 'required',
    });
  });

  it('checks the service option the same way, naming fields under notifications', () => {
    const fields = refusedFields(
      () =>
        new BackgroundAgentService(new MemoryRouter('in_memory'), new EventRouter('in_memory'), {
          notifications: {
            targets: [
              {
                name: 'ops',
                type: 'webhook',
                url: 'mailto:ops@example.com',
                events: ['run_failed', 'everything' as never],
              },
            ],
          },
        }),
    );
    expect(fields).toEqual({
      'notifications.targets[0].url': 'must be an http(s) URL',
      'notifications.targets[0].events[1]': expect.stringMatching(
        /^unknown event kind "everything"/,
      ),
      'notifications.targets[0].secret':
        'required for a webhook target: its bodies are signed with it',
    });
  });
});
