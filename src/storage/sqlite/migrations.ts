import type Database from 'better-sqlite3';
import {
  checkSchemaVersion,
  firstMigration,
  type SqlDialect,
  type SqlMigration,
} from '../sql/schema.js';

/** How SQLite writes the shared schema: JSON as text, every integer an INTEGER, named parameters. */
export const SQLITE_DIALECT: SqlDialect = {
  types: {
    text: 'TEXT',
    // BINARY, SQLite's default collation, is code-unit order already.
    sorted_text: 'TEXT',
    json: 'TEXT',
    integer: 'INTEGER',
    big_integer: 'INTEGER',
    sequence: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  },
  // Named: statements take a row object, whatever order its columns come in.
  parameter: (_index, column) => `@${column.name}`,
};

/** The schema, oldest first. Never edit a released migration: add the next version. */
export const MIGRATIONS: readonly SqlMigration[] = [firstMigration(SQLITE_DIALECT)];

/**
 * Brings the database to the newest schema. The check and the changes run in one
 * `BEGIN IMMEDIATE` transaction, so processes opening a new file at once migrate it once.
 */
export function migrate(
  database: Database.Database,
  migrations: readonly SqlMigration[] = MIGRATIONS,
): void {
  database.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )
  `);
  const currentVersion = database.prepare<[], { version: number | null }>(
    'SELECT MAX(version) AS version FROM schema_migrations',
  );
  const record = database.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );
  database
    .transaction(() => {
      const current = currentVersion.get()?.version ?? 0;
      checkSchemaVersion('the database schema', current, migrations);
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        database.exec(migration.sql);
        record.run(migration.version, migration.name, new Date().toISOString());
      }
    })
    .immediate();
}
