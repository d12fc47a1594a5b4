/**
 * `npm run audit -- <command>`: the audit trail's owner tools (DESIGN A11). Each runs with an
 * owner's connection in AUDIT_DATABASE_URL (or AUDIT_DATABASE_URL_FILE), never the app's role.
 *
 *   migrate [--app-role <role>]   creates the day-partitioned table and the partition function;
 *                                 with --app-role, grants that role INSERT and SELECT only
 *   retain [--days <n>]           drops day partitions older than AUDIT_RETENTION_DAYS (default 400)
 *                                 or --days; prints each dropped day's chain head first
 *   verify --from <ISO> --to <ISO>  checks the MAC chain (needs DATA_SECRET); exit 1 when broken
 *
 * Output is one JSON object per line.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { macKey } from '../src/audit/trail/chain.js';
import { createTrailReader } from '../src/audit/trail/reader.js';
import { dropExpiredDays } from '../src/audit/trail/retention.js';
import { currentSchema, grantsFor, schemaSql } from '../src/audit/trail/schema.js';
import { postgresSql } from '../src/audit/trail/sql.js';
import { envSchema } from '../src/config/schema.js';
import { resolveSecretFiles } from '../src/config/secrets.js';

const USAGE = `usage: npm run audit -- <command> [options]

  migrate [--app-role <role>]       create the trail's table (as its owner); grant <role> INSERT, SELECT
  retain [--days <n>]               drop day partitions older than AUDIT_RETENTION_DAYS (default 400)
  verify --from <ISO> --to <ISO>    check the MAC chain of those days (needs DATA_SECRET)

Settings: AUDIT_DATABASE_URL (an owner's connection), AUDIT_RETENTION_DAYS, DATA_SECRET (or NAME_FILE).`;

function args() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        'app-role': { type: 'string' },
        days: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // A mistyped option is one line and exit 2, never a stack trace.
    console.error(`audit: ${err instanceof Error ? err.message : String(err)} (npm run audit -- --help)`);
    process.exit(2);
  }
}
const { values, positionals } = args();

const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<number> {
  const command = positionals[0];
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  const secrets = resolveSecretFiles(process.env);
  if (secrets.problems.length > 0) throw new Error(secrets.problems.join('; '));
  const env = envSchema
    .pick({ AUDIT_DATABASE_URL: true, AUDIT_RETENTION_DAYS: true, DATA_SECRET: true })
    .parse(Object.fromEntries(Object.entries(secrets.values).filter(([, v]) => v !== undefined && v.trim() !== '')));
  if (!env.AUDIT_DATABASE_URL) throw new Error('AUDIT_DATABASE_URL is required (an owner connection to the audit database)');
  const sql = postgresSql(env.AUDIT_DATABASE_URL, { max: 1 });
  try {
    if (command === 'migrate') {
      const schema = await currentSchema(sql);
      await sql.exec(schemaSql(schema));
      const role = values['app-role'];
      if (role) await sql.exec(grantsFor(schema, role));
      print({ migrated: schema, ...(role ? { granted: role, privileges: ['SELECT', 'INSERT'] } : {}) });
      return 0;
    }
    if (command === 'retain') {
      const days = values.days !== undefined ? z.coerce.number().int().min(1).parse(values.days) : env.AUDIT_RETENTION_DAYS;
      const { dropped, kept } = await dropExpiredDays(sql, { retentionDays: days, now: Date.now() });
      for (const head of dropped) print({ 'event.action': 'audit_day_dropped', chainHead: head });
      print({ retentionDays: days, dropped: dropped.length, kept });
      return 0;
    }
    if (command === 'verify') {
      if (!env.DATA_SECRET) throw new Error('DATA_SECRET is required to verify the chain (the key the database never holds)');
      const from = z.iso.datetime({ offset: true }).or(z.iso.date()).parse(values.from, { error: () => '--from must be an ISO 8601 date or time' });
      const to = z.iso.datetime({ offset: true }).or(z.iso.date()).parse(values.to, { error: () => '--to must be an ISO 8601 date or time' });
      const result = await createTrailReader({ sql, key: macKey(env.DATA_SECRET) }).verify({ from, to });
      print(result);
      return result.ok ? 0 : 1;
    }
    console.error(USAGE);
    return 2;
  } finally {
    await sql.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`audit: ${err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ') : err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
