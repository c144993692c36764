import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli } from '../../src/cli/program.js';

/**
 * Runs a short command in this process (no child process to start): its exit code and the
 * lines it printed. For commands that never wait for a signal.
 */
export async function runInProcess(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const context: CliContext = {
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    env,
    waitForStop: () => new Promise(() => undefined),
  };
  const code = await runCli(argv, context);
  return { code, stdout, stderr };
}
