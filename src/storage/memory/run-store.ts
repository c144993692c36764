import { copyPlain } from '../../shared/copy-plain.js';
import { applyRunPatch, applyStepPatch } from '../apply-patch.js';
import { NightshiftError } from '../../errors.js';
import { isTerminal, meetsCondition } from '../contracts/run-store.js';
import type { RunRecord, RunStatus, RunStep, RunStore } from '../contracts/run-store.js';
import { PRUNE_LIMITS, pruneCutoff, pruneLimit } from '../prune-limits.js';

const DEFAULT_LIST_LIMIT = 50;

/** Orders strings by code unit, the order SQLite's BINARY collation gives. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A {@link RunStore} held in this process's memory; every read returns a copy. */
export function createMemoryRunStore(): RunStore {
  const runs = new Map<string, RunRecord>();
  /** Run ids per agent, so reading an agent's runs does not scan every run of the fleet. */
  const byAgent = new Map<string, Set<string>>();
  /** Steps per run id, in the order they were written. */
  const steps = new Map<string, RunStep[]>();

  return {
    async claim(run) {
      if (runs.has(run.run_id)) return false;
      runs.set(run.run_id, copyPlain(run));
      const ids = byAgent.get(run.agent_id) ?? new Set<string>();
      byAgent.set(run.agent_id, ids.add(run.run_id));
      return true;
    },

    async get(runId) {
      const run = runs.get(runId);
      return run && copyPlain(run);
    },

    async update(runId, patch, condition) {
      const current = runs.get(runId);
      if (!current || !meetsCondition(current, condition)) return undefined;
      const next = applyRunPatch(current, patch);
      runs.set(runId, next);
      return copyPlain(next);
    },

    async list(agentId, options = {}) {
      const limit = Math.max(0, options.limit ?? DEFAULT_LIST_LIMIT);
      const statuses =
        options.status === undefined
          ? undefined
          : new Set<RunStatus>(
              typeof options.status === 'string' ? [options.status] : options.status,
            );
      return [...(byAgent.get(agentId) ?? [])]
        .map((runId) => runs.get(runId)!)
        .filter((run) => !statuses || statuses.has(run.status))
        .sort(
          (a, b) => compareText(b.scheduled_at, a.scheduled_at) || compareText(b.run_id, a.run_id),
        )
        .slice(0, limit)
        .map((run) => copyPlain(run));
    },

    async listUnfinished() {
      // Oldest first: recovery deals with runs in the order they were due.
      return [...runs.values()]
        .filter((run) => !isTerminal(run.status))
        .sort(
          (a, b) => compareText(a.scheduled_at, b.scheduled_at) || compareText(a.run_id, b.run_id),
        )
        .map((run) => copyPlain(run));
    },

    async appendStep(step) {
      const list = steps.get(step.run_id) ?? [];
      if (list.some((existing) => existing.step_id === step.step_id)) {
        throw new NightshiftError(
          'invalid_state',
          `step ${step.step_id} of run ${step.run_id} is already recorded`,
          { details: { run_id: step.run_id, step_id: step.step_id } },
        );
      }
      list.push(copyPlain(step));
      steps.set(step.run_id, list);
    },

    async updateStep(runId, stepId, patch) {
      const list = steps.get(runId);
      const index = list?.findIndex((step) => step.step_id === stepId) ?? -1;
      const current = list?.[index];
      if (list && current) list[index] = applyStepPatch(current, patch);
    },

    async listSteps(runId) {
      return copyPlain(steps.get(runId) ?? []);
    },

    async deleteByAgent(agentId) {
      for (const runId of byAgent.get(agentId) ?? []) {
        runs.delete(runId);
        steps.delete(runId);
      }
      byAgent.delete(agentId);
    },

    async pruneEnded(options) {
      const limit = pruneLimit(options.limit, PRUNE_LIMITS.runs);
      const cutoff = pruneCutoff(options.ended_before, 'ended_before');
      const ids = byAgent.get(options.agent_id);
      const due = [...(ids ?? [])]
        .map((runId) => runs.get(runId)!)
        .filter(
          (run) =>
            isTerminal(run.status) && run.ended_at !== null && Date.parse(run.ended_at) < cutoff,
        )
        .sort((a, b) => compareText(a.ended_at!, b.ended_at!) || compareText(a.run_id, b.run_id))
        .map((run) => run.run_id);
      if (options.dry_run) return due;
      const removed = due.slice(0, limit);
      for (const runId of removed) {
        runs.delete(runId);
        steps.delete(runId);
        ids?.delete(runId);
      }
      return removed;
    },
  };
}
