import { type Kysely, sql } from 'kysely'
import { migrations } from './migrations/index.ts'
import { simSchemaName } from './sim-schema.ts'
import type { Database } from './tables.ts'
/** Where the generated SQL schema is checked in, relative to the repository. */
export const SQL_SCHEMA_PATH = 'schema/sql.md'

interface ColumnRow {
  table_name: string
  column_name: string
  data_type: string
  is_nullable: 'YES' | 'NO'
  column_default: string | null
}

interface DefinitionRow {
  table_name: string
  name: string
  definition: string
}

// Kysely's own bookkeeping, not part of Flotilla's schema.
const MIGRATOR_TABLES = ['kysely_migration', 'kysely_migration_lock']

/**
 * Describes the tables of the current schema (`current_schema()`) as Markdown: columns with
 * their types, nullability and defaults, then constraints and indexes; then those of the
 * simulated fleet's schema beside it (`store/sim-schema.ts`), each named with its schema. Run on a
 * freshly migrated PGlite it produces `schema/sql.md`.
 */
export async function describeSqlSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db)
  const controlPlane = rows[0]?.schema ?? 'public'
  const lines = [
    '# SQL schema',
    '',
    `Generated from the migrations in \`src/store/migrations/\` (${Object.keys(migrations).join(', ')}) applied`,
    'to an empty embedded database; do not edit. Regenerate with `npx tsx scripts/generate-sql-schema.ts`',
    '(a test fails when this file is stale). Kysely keeps its own bookkeeping in',
    `${MIGRATOR_TABLES.map((table) => `\`${table}\``).join(' and ')}, not listed here.`,
    '',
    `The control plane's tables are in the schema of the connection (here \`${controlPlane}\`); the`,
    `simulated fleet's in a schema of its own beside it (here \`${simSchemaName(controlPlane)}\`), listed`,
    'last with their schema: only `src/providers/sim/` queries them.',
    ...(await describeTables(db, controlPlane, '')),
    ...(await describeTables(db, simSchemaName(controlPlane), `${simSchemaName(controlPlane)}.`)),
  ]
  return `${lines.join('\n')}\n`
}

/** The Markdown lines of the tables of one schema, each headed `## <prefix><table>`. */
async function describeTables(db: Kysely<Database>, schema: string, prefix: string): Promise<string[]> {
  const columns = await sql<ColumnRow>`
    select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns
    where table_schema = ${schema}
    order by table_name, ordinal_position`.execute(db)
  const constraints = await sql<DefinitionRow>`
    select rel.relname as table_name, con.conname as name, pg_get_constraintdef(con.oid) as definition
    from pg_constraint con
    join pg_class rel on rel.oid = con.conrelid
    join pg_namespace ns on ns.oid = rel.relnamespace
    where ns.nspname = ${schema}
      and con.contype <> 'n' -- NOT NULL (PostgreSQL 18): already in the column table
    order by rel.relname, con.contype desc, con.conname`.execute(db)
  const indexes = await sql<DefinitionRow>`
    select tablename as table_name, indexname as name, indexdef as definition
    from pg_indexes
    where schemaname = ${schema}
      and indexname not in (select conname from pg_constraint)
    order by tablename, indexname`.execute(db)

  const tables = [...new Set(columns.rows.map((column) => column.table_name))].filter(
    (table) => !MIGRATOR_TABLES.includes(table),
  )
  const lines: string[] = []
  for (const table of tables) {
    lines.push(
      '',
      `## ${prefix}${table}`,
      '',
      '| column | type | null | default |',
      '| --- | --- | --- | --- |',
    )
    for (const column of columns.rows.filter((row) => row.table_name === table)) {
      const nullable = column.is_nullable === 'YES' ? 'yes' : 'no'
      const fallback = column.column_default === null ? '' : `\`${column.column_default}\``
      lines.push(`| ${column.column_name} | ${column.data_type} | ${nullable} | ${fallback} |`)
    }
    const definitions = [
      ...constraints.rows.filter((row) => row.table_name === table),
      ...indexes.rows.filter((row) => row.table_name === table),
    ]
    if (definitions.length > 0) lines.push('')
    for (const definition of definitions) lines.push(`- \`${definition.name}\`: \`${definition.definition}\``)
  }
  return lines
}
