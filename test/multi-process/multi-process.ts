import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

const script = resolve(import.meta.dirname, 'service-process.ts');

/** A running manager process. */
export interface ManagerProcess {
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts a manager process on the store the environment names; resolves once it is running. */
export async function startManager(environment: Record<string, string>): Promise<ManagerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`manager did not start: ${errors}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolveReady();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`manager exited with ${code}: ${errors}`));
    });
  });
  return {
    child,
    async stop() {
      // Ended already (a signal's end leaves exitCode null): there is no exit to wait for.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
