/**
 * Every default of an agent definition, in one place. The README's configuration
 * reference is written from this table.
 */
export const DEFAULTS = {
  system_instruction: 'You are a helpful background agent. Do the task, then answer briefly.',
  run_immediately: false,
  misfire_policy: 'skip',
  /** Seconds: under `run_once`, a missed tick older than this is not caught up. */
  misfire_grace: 60,
  overlap_policy: 'skip',
  jitter: 0,
  task_config: {
    max_retries: 0,
    /** Seconds before the first retry. */
    retry_delay: 5,
    retry_backoff: 'fixed',
    /** Cap on one retry delay under exponential backoff, in seconds. */
    max_retry_delay: 300,
    /** Seconds one attempt may take. */
    timeout: 300,
    session_policy: 'agent',
    retry_side_effects: false,
    /** What recovery does with a run whose process died: go on from its journal. */
    on_interrupt: 'resume',
    /** How many times one run may be resumed after its process died. */
    max_resumes: 3,
    /** Repair turns for a final answer that fails `output_schema`. */
    output_repairs: 1,
  },
  agent_config: {
    max_steps: 15,
    /** Seconds one tool call may take. */
    tool_call_timeout: 30,
    /** 0 = no limit. */
    request_limit: 0,
    /** 0 = no limit. */
    total_tokens_limit: 0,
    memory_config: { mode: 'sliding_window', value: 50 },
    /** No tool call waits for a person. */
    approvals: [],
  },
  /** Default environment variable holding each hosted provider's API key. */
  api_key_env: {
    openai: 'OPENAI_API_KEY',
    anthropic: 'ANTHROPIC_API_KEY',
    google: 'GOOGLE_GENERATIVE_AI_API_KEY',
  },
  /** Ollama's OpenAI-compatible endpoint. */
  ollama_base_url: 'http://localhost:11434/v1',
} as const;

/** Providers Nightshift knows without registration. */
export const BUILT_IN_PROVIDERS = [
  'openai',
  'anthropic',
  'google',
  'ollama',
  'openai_compatible',
  'scripted',
] as const;
