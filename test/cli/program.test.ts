import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runInProcess } from './in-process.js';

/** The command line in this process, with an empty environment. */
async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const { code, stdout, stderr } = await runInProcess(argv);
  return { code, out: stdout, err: stderr };
}

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

describe('the nightshift command line', () => {
  it('prints its version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: [version], err: [] });
  });

  it('prints help naming every command', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    const help = out.join('\n');
    for (const command of [
      'run [options] <file>',
      'serve [options] <file>',
      'validate <file>',
      'agents',
      'runs [options] <agent_id>',
      'events [options] [agent_id]',
    ]) {
      expect(help).toContain(command);
    }
    const runHelp = (await cli(['run', '--help'])).out.join('\n');
    for (const option of [
      '--shutdown-timeout <seconds>',
      '--lease-ttl <seconds>',
      '--port <port>',
      '--no-server',
    ]) {
      expect(runHelp).toContain(option);
    }
    const agentsHelp = (await cli(['agents', '--help'])).out.join('\n');
    for (const command of ['list', 'status', 'pause', 'resume', 'stop', 'run']) {
      expect(agentsHelp).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('refuses unknown commands and bad option values with a usage error', async () => {
    const unknown = await cli(['launch']);
    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toContain("unknown command 'launch'");
    const lease = await cli(['run', 'nightshift.yaml', '--lease-ttl', '0']);
    expect(lease.code).toBe(1);
    expect(lease.err[0]).toContain('must be a number of seconds, at least 1');
    const limit = await cli(['runs', 'system_monitor', '--limit', 'many']);
    expect(limit.code).toBe(1);
    expect(limit.err[0]).toContain('must be a whole number greater than 0');
    const port = await cli(['serve', 'nightshift.yaml', '--port', '65536']);
    expect(port.err[0]).toContain('must be a port number from 0 to 65535');
    const both = await cli(['run', 'nightshift.yaml', '--port', '0', '--no-server']);
    expect(both.code).toBe(1);
    expect(both.err[0]).toContain(
      "option '--no-server' cannot be used with option '--port <port>'",
    );
    const since = await cli(['events', 'monitor', '--since', 'yesterday']);
    expect(since.err[0]).toContain('must be an event id');
  });

  it('says where events and agents run go when no server is named', async () => {
    expect(await cli(['events', 'monitor'])).toEqual({
      code: 1,
      out: [],
      err: [
        'error: events reads the live events of a running Nightshift: pass --url of its HTTP API (or set NIGHTSHIFT_URL)',
      ],
    });
    const run = await cli(['agents', 'run', 'monitor']);
    expect(run.err).toEqual([
      'error: agents run asks a running Nightshift to run the agent: pass --url of its HTTP API (or set NIGHTSHIFT_URL)',
    ]);
  });

  it('prints a NightshiftError as error: and its fields, never a stack trace', async () => {
    const { code, out, err } = await cli(['run', 'examples/does-not-exist.yaml']);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'error: examples/does-not-exist.yaml: cannot read the file: no such file',
    ]);
  });
});
