import path from 'node:path';
import { z } from 'zod';

/** What the model picks a webhook or a connection by: it never sees the URL behind the name. */
const RESOURCE_NAME = /^[A-Za-z0-9_-]+$/;

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

/** Name → URL, each name a short identifier. */
const namedUrls = z
  .record(z.string(), nonEmpty, {
    error: (issue) =>
      issue.input === undefined ? 'required' : 'must be a mapping of names to URLs',
  })
  .superRefine((entries, context) => {
    for (const name of Object.keys(entries)) {
      if (RESOURCE_NAME.test(name)) continue;
      context.addIssue({
        code: 'custom',
        path: [name],
        message: 'must be a name of letters, digits, _ and -',
      });
    }
  });

/**
 * The top-level keys of a Nightshift file that configure the built-in tools reaching configured
 * resources (the service's `toolSettings`). Each tool exists only when its setting is given.
 */
export const toolSettingsFields = {
  /** `file_write` writes inside this directory and nowhere else. */
  files: z.strictObject({ directory: nonEmpty }).optional(),
  /** `notify` posts to these webhooks (name → URL). */
  webhooks: namedUrls.optional(),
  /** `sql_query` and `sql_archive` use these databases (name → `postgres://…` or `sqlite:` URL). */
  connections: namedUrls.optional(),
  /** `sql_archive` may append JSONL files inside this directory. */
  archive_directory: nonEmpty.optional(),
  /**
   * `system_stats` lists busy processes by name and pid; `command_lines: true` adds their full
   * command lines, which can carry other programs' secrets (`--token=…`).
   */
  system_stats: z.strictObject({ command_lines: z.boolean().default(false) }).optional(),
};

/** The tool settings of a Nightshift file, in the shape of the service's `toolSettings`. */
export interface ToolSettingsSection {
  files?: { directory: string };
  webhooks?: Record<string, string>;
  connections?: Record<string, string>;
  archive_directory?: string;
  system_stats?: { command_lines: boolean };
}

/** The setting each configured tool needs, as a user would write it. */
const SETTING_OF_TOOL: Readonly<Record<string, string>> = {
  file_write: 'files: { directory }',
  notify: 'webhooks: { name: url }',
  sql_query: 'connections: { name: url }',
  sql_archive: 'connections: { name: url }',
};

/** The tools that exist only when a setting of the Nightshift file gives what they reach. */
export const SETTING_TOOL_NAMES: readonly string[] = Object.keys(SETTING_OF_TOOL);

/** Names of the tools a file's settings enable (the service registers exactly these). */
export function toolsEnabledBy(settings: Readonly<Record<string, unknown>>): string[] {
  const present = (value: unknown) =>
    value !== null && typeof value === 'object' && Object.keys(value).length > 0;
  return [
    ...(present(settings.files) ? ['file_write'] : []),
    ...(present(settings.webhooks) ? ['notify'] : []),
    ...(present(settings.connections) ? ['sql_query', 'sql_archive'] : []),
  ];
}

/** For a tool that exists only with a setting: the hint to add it; undefined for others. */
export function missingSettingHint(tool: string): string | undefined {
  const setting = SETTING_OF_TOOL[tool];
  return setting === undefined ? undefined : `${tool} needs a top-level ${setting} block`;
}

/**
 * The settings with their directories made absolute. Relative directories are resolved against
 * `cwd` (the directory nightshift is started in), as relative `sqlite:` paths are.
 */
export function resolveToolSettings(
  settings: ToolSettingsSection,
  cwd: string,
): ToolSettingsSection {
  return {
    ...(settings.files
      ? { files: { directory: path.resolve(cwd, settings.files.directory) } }
      : {}),
    ...(settings.webhooks ? { webhooks: { ...settings.webhooks } } : {}),
    ...(settings.connections ? { connections: { ...settings.connections } } : {}),
    ...(settings.archive_directory
      ? { archive_directory: path.resolve(cwd, settings.archive_directory) }
      : {}),
    ...(settings.system_stats ? { system_stats: { ...settings.system_stats } } : {}),
  };
}

/** Values of the settings that must never be printed: webhook URLs carry tokens, connection URLs passwords. */
export function toolSettingSecrets(settings: ToolSettingsSection): string[] {
  return [...Object.values(settings.webhooks ?? {}), ...Object.values(settings.connections ?? {})];
}
