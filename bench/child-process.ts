/**
 * Running a measurement in a fresh Node.js process, so its RSS and heap are its own:
 * the parent forks `node --import tsx --expose-gc <module> <args>` (or plain `node` on the
 * compiled copy) and the child sends back one JSON-able value over IPC.
 */
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCompiled, compiledPath } from './compiled-build.js';

const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));

/** How long a child may take to exit after sending its result. */
const EXIT_GRACE_MS = 10_000;

/** How a child runs the TypeScript: through tsx, or as tsc-transpiled JavaScript (as shipped). */
export type ChildRuntime = 'tsx' | 'compiled';

/** True when the module at `moduleUrl` is the script Node.js was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === moduleUrl;
}

/** Runs the module in a child process and resolves with the value it sends; rejects if it sends none. */
export async function runInChild<T>(
  moduleUrl: string,
  args: string[],
  runtime: ChildRuntime = 'tsx',
): Promise<T> {
  const root = runtime === 'compiled' ? await buildCompiled() : undefined;
  return new Promise<T>((resolvePromise, reject) => {
    const child = fork(root ? compiledPath(root, moduleUrl) : fileURLToPath(moduleUrl), args, {
      cwd: root ?? repositoryRoot,
      execArgv: root ? ['--expose-gc'] : ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let received: { value: T } | undefined;
    child.on('message', (message) => {
      received ??= { value: message as T };
      // A handle left open must not hang the benchmark once the figures are in.
      setTimeout(() => child.kill(), EXIT_GRACE_MS).unref();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (received) resolvePromise(received.value);
      else
        reject(
          new Error(`child ${moduleUrl} exited (${signal ?? `code ${code}`}) without a result`),
        );
    });
  });
}

/** In a child: sends the value to the parent. Run directly (no IPC channel): returns false. */
export async function sendToParent(value: unknown): Promise<boolean> {
  const send = process.send?.bind(process);
  if (!send) return false;
  await new Promise<void>((resolvePromise, reject) =>
    send(value, undefined, {}, (error) => (error ? reject(error) : resolvePromise())),
  );
  process.disconnect?.();
  return true;
}
