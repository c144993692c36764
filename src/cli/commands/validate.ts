import type { ToolSettingsSection } from '../../config/tool-settings.js';
import type { CliContext } from '../cli-context.js';
import { describeSchedule, nextFireTimes } from '../describe-schedule.js';
import { formatInstant } from '../event-line.js';
import { loadRunnableFile } from '../load-runnable-file.js';
import { createRedactor } from '../redact.js';
import { httpServerSettings } from '../start-http-server.js';

/** How many fire times `validate` shows per agent. */
const SHOWN_FIRE_TIMES = 3;

/**
 * `nightshift validate <file>`: checks a Nightshift file as `run` would, without opening its
 * store, and prints where it keeps its data, what it serves, the tools its settings enable, and
 * each agent with its schedule and next fire times. An invalid file throws
 * its `config_invalid` error, whose fields the CLI prints one per line.
 */
export async function validateCommand(file: string, context: CliContext): Promise<void> {
  const { config, routers } = loadRunnableFile(file, context.env);
  const redact = createRedactor(config.secrets);
  const say = (line: string) => context.out(redact(line));
  const count = config.agents.length;
  say(`${file} is valid: ${count} agent${count === 1 ? '' : 's'}`);
  say(`memory: ${routers.memory.description}`);
  say(`events: ${routers.events.description}`);
  const http = httpServerSettings(config.server, {}, context.env);
  if (http) {
    const access = http.token === undefined ? 'no token: loopback only' : 'token required';
    const host = http.host.includes(':') ? `[${http.host}]` : http.host;
    const port = http.port === 0 ? '<a free port>' : String(http.port);
    say(`http: http://${host}:${port} (${access})`);
  }
  const { kind, concurrency } = config.scheduler;
  say(`scheduler: ${kind}${concurrency === undefined ? '' : `, concurrency ${concurrency}`}`);
  for (const line of toolSettingLines(config.toolSettings)) say(line);
  const now = new Date();
  for (const agent of config.agents) {
    const { provider, model } = agent.model_config;
    const tools = agent.tools.length > 0 ? `, tools ${agent.tools.join(', ')}` : '';
    say('');
    say(`${agent.agent_id}: ${describeSchedule(agent)}; model ${provider}/${model}${tools}`);
    const times = nextFireTimes(agent, now, SHOWN_FIRE_TIMES).map((time) =>
      formatInstant(time.toISOString()),
    );
    say(`  next runs: ${times.length > 0 ? times.join(', ') : 'none (the schedule has ended)'}`);
  }
}

/** The tool settings in a line each, naming webhooks and connections but never their URLs. */
function toolSettingLines(settings: ToolSettingsSection): string[] {
  const names = (entries: Record<string, string> | undefined) =>
    Object.keys(entries ?? {}).join(', ');
  return [
    ...(settings.files ? [`file_write: writes in ${settings.files.directory}`] : []),
    ...(settings.webhooks ? [`notify: webhooks ${names(settings.webhooks)}`] : []),
    ...(settings.connections
      ? [`sql_query, sql_archive: connections ${names(settings.connections)}`]
      : []),
    ...(settings.archive_directory
      ? [`sql_archive: JSONL archives in ${settings.archive_directory}`]
      : []),
  ];
}
