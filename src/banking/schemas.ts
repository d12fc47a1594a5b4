import { z } from 'zod';
import { statementKeySchema } from '../statements/store.js';
import { AccountNumber } from './account-number.js';
import { MobileNumber } from './mobile-number.js';
import type { StatementRef } from './port.js';

/**
 * The field shapes both adapters read: the demo fixture (A6) and the core-banking JSON contract
 * (docs/banking-api.md). Messages name the rule, never the value, so a bad account number in a
 * file or a response cannot end up in an error or a log.
 */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"');

export const accountNumberSchema = z
  .string()
  .regex(/^\d{8,19}$/, 'must be 8 to 19 digits')
  .transform((s) => AccountNumber.parse(s));

export const mobileSchema = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, 'must be E.164, e.g. +14155550101')
  .transform((s) => MobileNumber.parse(s));

export const localeSchema = z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'must be a BCP 47 tag like en-US');
export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like USD');
export const amountSchema = z.string().regex(/^-?\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "1250.50"');
export const periodSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM');
export const accountTypeSchema = z.enum(['checking', 'savings', 'credit']);

export const statementRefSchema = z.object({ period: periodSchema, file: statementKeySchema });

export const accountSchema = z.object({
  id: idSchema,
  number: accountNumberSchema,
  type: accountTypeSchema,
  currency: currencySchema,
});

export const customerSchema = z.object({
  id: idSchema,
  name: z.string().trim().min(1).max(200),
  mobile: mobileSchema,
  locale: localeSchema,
  accounts: z.array(accountSchema),
});

export const balanceSchema = z.object({ available: amountSchema, currency: currencySchema });

/** Periods sort as strings ("YYYY-MM"); the source's order is not trusted. */
export function newestFirst(statements: readonly StatementRef[]): StatementRef[] {
  return [...statements].sort((a, b) => (a.period < b.period ? 1 : a.period > b.period ? -1 : 0));
}

/** "customers.0.accounts.1.number: must be 8 to 19 digits; …" */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}
