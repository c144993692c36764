import type { Store } from '../storage/contracts/index.js';
import type { Redactor } from './redactor.js';

/**
 * The store the service writes through: every value written to it (agent records and their
 * stats, runs, steps, conversation messages, approvals) passes the redactor first, so no secret reaches
 * stored data and no string is stored longer than the cap. One choke point, by construction,
 * instead of each call site remembering to redact (promise 8). Conditions and reads pass as they
 * are; what is served is redacted again by the service, for values stored before a secret was known.
 */
export function guardedStore(store: Store, redactor: Redactor): Store {
  const { agents, runs, messages, approvals, phases } = store;
  return {
    description: store.description,
    close: () => store.close(),
    leases: store.leases,
    // Budgets hold only keys, ids and whole numbers: nothing to redact.
    budgets: store.budgets,
    agents: {
      insert: (record) => agents.insert(redactor.redact(record)),
      get: (agentId) => agents.get(agentId),
      list: () => agents.list(),
      update: (agentId, patch, condition) =>
        agents.update(agentId, redactor.redact(patch), condition),
      updateStats: (agentId, delta) => agents.updateStats(agentId, redactor.redact(delta)),
      delete: (agentId) => agents.delete(agentId),
    },
    runs: {
      claim: (run) => runs.claim(redactor.redact(run)),
      get: (runId) => runs.get(runId),
      update: (runId, patch, condition) => runs.update(runId, redactor.redact(patch), condition),
      list: (agentId, options) => runs.list(agentId, options),
      listUnfinished: () => runs.listUnfinished(),
      appendStep: (step) => runs.appendStep(redactor.redact(step)),
      updateStep: (runId, stepId, patch) => runs.updateStep(runId, stepId, redactor.redact(patch)),
      listSteps: (runId) => runs.listSteps(runId),
      deleteByAgent: (agentId) => runs.deleteByAgent(agentId),
      pruneEnded: (options) => runs.pruneEnded(options),
    },
    phases: {
      claimLeased: (run, lease) => phases.claimLeased(redactor.redact(run), lease),
      end: (runId, patch, condition, effects) =>
        phases.end(runId, redactor.redact(patch), condition, redactor.redact(effects)),
    },
    messages: {
      append: (sessionId, entries) => messages.append(sessionId, redactor.redact(entries)),
      list: (sessionId, options) => messages.list(sessionId, options),
      clear: (sessionId) => messages.clear(sessionId),
      trim: (sessionId, options) => messages.trim(sessionId, options),
    },
    // A tool call's arguments, a person's edited ones and their note may all carry secrets.
    approvals: {
      request: (approval) => approvals.request(redactor.redact(approval)),
      get: (approvalId) => approvals.get(approvalId),
      list: (options) => approvals.list(options),
      decide: (approvalId, decision) => approvals.decide(approvalId, redactor.redact(decision)),
      deleteByAgent: (agentId) => approvals.deleteByAgent(agentId),
    },
  };
}
