import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../config/load.js';
import type { BankingPort, Customer } from './port.js';
import { accountSchema, amountSchema, customerSchema, describeIssues, newestFirst, statementRefSchema } from './schemas.js';

/**
 * The embedded bank (B5): customers, balances and statement lists from a JSON file in the A6
 * format, validated once at start. Stands in for the core system in development and tests.
 */
const fixtureAccountSchema = accountSchema.extend({
  available: amountSchema,
  statements: z.array(statementRefSchema).default([]),
});

const fixtureSchema = z
  .object({
    customers: z.array(customerSchema.extend({ accounts: z.array(fixtureAccountSchema) })),
  })
  .superRefine((data, ctx) => {
    const customerIds = new Set<string>();
    data.customers.forEach((c, ci) => {
      if (customerIds.has(c.id)) ctx.addIssue({ code: 'custom', path: ['customers', ci, 'id'], message: 'duplicate customer id' });
      customerIds.add(c.id);
      const accountIds = new Set<string>();
      c.accounts.forEach((a, ai) => {
        const at = ['customers', ci, 'accounts', ai];
        if (accountIds.has(a.id)) ctx.addIssue({ code: 'custom', path: [...at, 'id'], message: 'duplicate account id for this customer' });
        accountIds.add(a.id);
        const periods = new Set<string>();
        a.statements.forEach((s, si) => {
          if (periods.has(s.period)) ctx.addIssue({ code: 'custom', path: [...at, 'statements', si, 'period'], message: 'duplicate period' });
          periods.add(s.period);
        });
      });
    });
  });

type FixtureCustomer = z.output<typeof fixtureSchema>['customers'][number];

/** Reads and validates the fixture; a bad file throws a ConfigError naming the file and each bad field. */
export async function createDemoBank(options: { file: string }): Promise<BankingPort> {
  const { file } = options;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`BANK_DATA_FILE ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message can quote the text around the error, which may be an account number.
    throw new ConfigError(`BANK_DATA_FILE ${file}: not valid JSON`);
  }
  const parsed = fixtureSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`BANK_DATA_FILE ${file}: ${describeIssues(parsed.error)}`);
  return demoBankOf(parsed.data.customers);
}

function demoBankOf(customers: readonly FixtureCustomer[]): BankingPort {
  const byId = new Map(customers.map((c) => [c.id, c]));
  const account = (customerId: string, accountId: string) => byId.get(customerId)?.accounts.find((a) => a.id === accountId);

  return {
    async getCustomer(customerId) {
      const c = byId.get(customerId);
      if (!c) return null;
      const customer: Customer = {
        id: c.id,
        name: c.name,
        mobile: c.mobile,
        locale: c.locale,
        accounts: c.accounts.map((a) => ({ id: a.id, type: a.type, currency: a.currency, number: a.number })),
      };
      return customer;
    },
    async getBalance(customerId, accountId) {
      const a = account(customerId, accountId);
      return a ? { available: a.available, currency: a.currency } : null;
    },
    async listStatements(customerId, accountId) {
      const a = account(customerId, accountId);
      return a ? newestFirst(a.statements) : null;
    },
  };
}
