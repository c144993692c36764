import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raceApprovalId, raceDecisions } from './approval-race-process.js';
import { openRaceStore, type RaceStoreLocation } from './budget-race-process.js';
import { approvalRecord } from './contracts/approval-store.js';
import { raceBackends } from './race-backends.js';

/** Approvals each of the three processes (two children and this one) decides, in the same order. */
const APPROVALS = 150;
/** Long: three processes load tsx and connect on a machine that may be busy. */
const RACE_TIMEOUT_MS = 120_000;
const RACERS = ['first', 'second', 'third'] as const;

/** Starts a child racer, waits until it says it is ready; `go()` starts it, `won` is what it won. */
async function startRacer(location: RaceStoreLocation, name: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(import.meta.dirname, 'approval-race-process.ts')],
    {
      env: {
        ...process.env,
        NIGHTSHIFT_RACE_BACKEND: location.backend,
        NIGHTSHIFT_RACE_LOCATION: location.location,
        NIGHTSHIFT_RACE_NAMESPACE: location.namespace,
        NIGHTSHIFT_RACE_NAME: name,
        NIGHTSHIFT_RACE_APPROVALS: String(APPROVALS),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let errors = '';
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolveReady) => (ready = resolveReady));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('ready\n')) ready();
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const won = once(child, 'exit').then(([code]) => {
    if (code !== 0) throw new Error(`racer ${name} exited with ${String(code)}: ${errors}`);
    return JSON.parse(output.slice('ready\n'.length)) as string[];
  });
  // A racer that dies before it is ready fails the wait instead of hanging it.
  await Promise.race([isReady, won]);
  return { go: () => child.stdin.end('go\n'), won };
}

function describeRace(
  backend: RaceStoreLocation['backend'],
  available: boolean,
  open: () => Promise<{ location: RaceStoreLocation; cleanup: () => Promise<void> }>,
) {
  describe.skipIf(!available)(`approval decision race across processes: ${backend}`, () => {
    it(
      'lets exactly one of three processes decide each approval, and keeps that decision',
      async () => {
        const { location, cleanup } = await open();
        const store = openRaceStore(location);
        try {
          for (let index = 0; index < APPROVALS; index += 1) {
            const [runId, callId] = raceApprovalId(index).split('/') as [string, string];
            expect(await store.approvals.request(approvalRecord(runId, callId))).toBe(true);
          }
          const racers = await Promise.all(
            RACERS.slice(0, 2).map((name) => startRacer(location, name)),
          );
          for (const racer of racers) racer.go();
          const won = await Promise.all([
            ...racers.map((racer) => racer.won),
            raceDecisions(store, RACERS[2], APPROVALS),
          ]);
          const winners = new Map<string, string[]>();
          for (const [index, ids] of won.entries()) {
            for (const id of ids) winners.set(id, [...(winners.get(id) ?? []), RACERS[index]!]);
          }
          console.log(
            `approval race (${backend}): ${won.map((ids, index) => `${RACERS[index]} ${ids.length}`).join(', ')}`,
          );
          expect(winners.size).toBe(APPROVALS);
          for (const [id, names] of winners) {
            expect(names, id).toHaveLength(1);
            expect(await store.approvals.get(id)).toMatchObject({
              decided_by: names[0],
              edited_arguments: { by: names[0] },
            });
          }
          expect(await store.approvals.list({ state: 'pending' })).toEqual([]);
          expect(await store.approvals.list({ state: 'approved', limit: APPROVALS })).toHaveLength(
            APPROVALS / 2,
          );
          expect(await store.approvals.list({ state: 'denied', limit: APPROVALS })).toHaveLength(
            APPROVALS / 2,
          );
        } finally {
          await store.close();
          await cleanup();
        }
      },
      RACE_TIMEOUT_MS,
    );
  });
}

for (const { backend, available, open } of raceBackends('approval_race', 'approval race'))
  describeRace(backend, available, open);
