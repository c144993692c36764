import { NightshiftError } from '../errors.js';
import type { ToolDefinition } from './tool-definition.js';

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** The tools a service knows, by name. Agents see only the ones their definition lists. */
export class ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();

  /** Registers a tool; a name already taken or a malformed definition is a `config_invalid` error. */
  register(name: string, definition: ToolDefinition<never, unknown>): void {
    if (!TOOL_NAME.test(name)) {
      throw new NightshiftError(
        'config_invalid',
        `tool name "${name}" must be 1-64 letters, digits, "_" or "-"`,
        {
          fields: [{ path: 'name', message: 'must be 1-64 letters, digits, "_" or "-"' }],
        },
      );
    }
    if (this.#tools.has(name)) {
      throw new NightshiftError('config_invalid', `a tool named "${name}" is already registered`, {
        fields: [{ path: 'name', message: 'already registered' }],
      });
    }
    if (typeof definition.execute !== 'function') {
      throw new NightshiftError('config_invalid', `tool "${name}": execute must be a function`, {
        fields: [{ path: 'execute', message: 'must be a function' }],
      });
    }
    this.#tools.set(name, definition);
  }

  get(name: string): ToolDefinition | undefined {
    return this.#tools.get(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.#tools.keys()].sort();
  }

  /** The named tools; an unknown name is a `config_invalid` error. */
  pick(names: readonly string[]): Map<string, ToolDefinition> {
    const picked = new Map<string, ToolDefinition>();
    for (const name of names) {
      const definition = this.#tools.get(name);
      if (!definition) throw new NightshiftError('config_invalid', `unknown tool "${name}"`);
      picked.set(name, definition);
    }
    return picked;
  }
}
