import type { Audit } from '../audit/audit.js';
import type { PromptCatalogue } from '../engine/catalogue.js';
import { spokenMonth } from '../engine/prompts.js';
import { maskedFromNumber } from '../audit/events.js';
import type { ProtectedActions, ProtectedCall } from '../ivr/protected-actions.js';
import type { Logger } from '../log/logger.js';
import { AppError } from '../shared/errors.js';
import type { StatementLinks } from '../statements/links.js';
import { STATEMENT_SMS_PER_CALL, type StatementSmsLimit } from '../statements/sms-limit.js';
import { linkTtlMinutes } from '../statements/sms-text.js';
import type { StatementStore } from '../statements/store.js';
import type { SmsSender } from '../telephony/sms.js';
import type { Account, BankingPort, Customer } from './port.js';
import { formatAmount } from './speech.js';

export interface ProtectedActionsDeps {
  bank: BankingPort;
  statements: StatementStore;
  links: StatementLinks;
  sms: SmsSender;
  smsLimit: StatementSmsLimit;
  /** Every word: the balance sentence and the SMS text come from the flows' catalogue. */
  catalogue: PromptCatalogue;
  audit: Audit;
  logger: Logger;
  publicBaseUrl: string;
  linkTtlSeconds: number;
}

/**
 * Balance and statement delivery for a verified call. Callers (the IVR action runner, the provider
 * API) have already checked the confirmed session and the call-bound token. Full account and phone
 * numbers never leave the opaque AccountNumber / MobileNumber except the mobile, once, to the SMS API.
 */
export function createProtectedActions(deps: ProtectedActionsDeps): ProtectedActions {
  const { bank, audit, catalogue, smsLimit } = deps;

  /** A11: past the outbox's bound (the trail's database away too long) an access that cannot be audited is not served. */
  function refuseUnaudited(): void {
    if (!audit.canAudit()) throw new AppError('unavailable', 'This access cannot be audited right now; try again shortly.');
  }

  /** The turn's budget for a backend call, when the caller has one. */
  const within = (signal: AbortSignal | undefined) => (signal ? { signal } : {});

  async function customerOf(customerId: string, signal?: AbortSignal): Promise<Customer> {
    const customer = await bank.getCustomer(customerId, within(signal));
    if (!customer) throw new AppError('not_found', 'The customer is not known to the bank.');
    return customer;
  }

  const accountsOf = (customer: Customer, types?: readonly string[]): readonly Account[] =>
    types === undefined ? customer.accounts : customer.accounts.filter((a) => types.includes(a.type));

  function accountAt(customer: Customer, index = 1, types?: readonly string[]): Account {
    const account = Number.isInteger(index) && index >= 1 ? accountsOf(customer, types)[index - 1] : undefined;
    if (!account) throw new AppError('not_found', `There is no account at position ${index}.`);
    return account;
  }

  /** The call's language wins over the customer's on file (A3), as the catalogue has it. */
  const localeOf = (call: ProtectedCall, customer: Customer) => catalogue.locale(call.locale ?? customer.locale);

  const refuseSms = (call: ProtectedCall) =>
    audit.record('statement_sms_refused', { callId: call.callId, sessionId: call.sessionId, reason: 'per_call_limit', limit: STATEMENT_SMS_PER_CALL, ...call.by });

  return {
    async accounts({ customerId, types, signal }) {
      const customer = await customerOf(customerId, signal);
      return accountsOf(customer, types).map((a) => ({ last4: a.number.last4() }));
    },

    async statementPeriods(call) {
      const customer = await customerOf(call.customerId, call.signal);
      const account = accountAt(customer, call.accountIndex, call.types);
      return ((await bank.listStatements(customer.id, account.id, within(call.signal))) ?? []).map((s) => s.period);
    },

    async statementSmsAllowed(call) {
      if ((await smsLimit.left(call.callId)) > 0) return true;
      await refuseSms(call);
      return false;
    },

    async balance(call: ProtectedCall) {
      refuseUnaudited();
      const customer = await customerOf(call.customerId, call.signal);
      const account = accountAt(customer, call.accountIndex, call.types);
      const balance = await bank.getBalance(customer.id, account.id, within(call.signal));
      if (!balance) throw new AppError('not_found', 'The account is not known to the bank.');
      const locale = localeOf(call, customer);
      const amountSpoken = formatAmount(balance.available, balance.currency, locale);
      const last4Spoken = account.number.spokenLast4();
      await audit.record('balance_read', { callId: call.callId, sessionId: call.sessionId, accountIndex: call.accountIndex ?? 1, ...call.by });
      return {
        speech: catalogue.text('balance.result', locale, { last4: last4Spoken, amount: amountSpoken }),
        maskedAccount: account.number.masked(),
        amount: balance.available,
        currency: balance.currency,
        last4Spoken,
        amountSpoken,
      };
    },

    async statementSms(call) {
      refuseUnaudited();
      const customer = await customerOf(call.customerId, call.signal);
      const account = accountAt(customer, call.accountIndex, call.types);
      const list = (await bank.listStatements(customer.id, account.id, within(call.signal))) ?? [];
      const chosen = pickPeriod(list, call.period);
      if (!chosen) throw new AppError('not_found', 'There is no statement for that period.');
      if (!(await deps.statements.exists(chosen.file, within(call.signal)))) {
        deps.logger.error({ callId: call.callId, period: chosen.period }, 'statement document missing from the store');
        throw new AppError('unavailable', 'The statement is not available right now.');
      }
      // Taken before the link exists, atomically: concurrent requests cannot pass the limit together.
      if (!(await smsLimit.reserve(call.callId))) {
        await refuseSms(call);
        throw new AppError('sms_limit', `This call has already had ${STATEMENT_SMS_PER_CALL} statements by text message.`);
      }
      const ids = { sessionId: call.sessionId, period: chosen.period };
      try {
        const link = await deps.links.issue({ customerId: customer.id, accountId: account.id, period: chosen.period, file: chosen.file, callId: call.callId });
        await audit.record('statement_link_issued', { callId: call.callId, ...ids, expiresAt: new Date(link.expiresAt).toISOString(), ...call.by });
        const locale = localeOf(call, customer);
        const body = catalogue.text('statement.sms', locale, {
          month: spokenMonth(chosen.period, locale),
          url: `${deps.publicBaseUrl}/s/${link.token}`,
          minutes: String(linkTtlMinutes(deps.linkTtlSeconds)),
        });
        try {
          // A8: the mobile on file, never the calling number.
          await deps.sms.send({ to: customer.mobile.e164ForSms(), body }, within(call.signal));
        } catch (err) {
          // A link nobody received must not stay spendable.
          await deps.links.revoke(link.token);
          deps.logger.error({ err, callId: call.callId }, 'statement SMS failed; link revoked');
          await audit.record('statement_link_refused', { callId: call.callId, ...ids, reason: 'sms_failed' });
          throw new AppError('unavailable', 'The statement could not be sent right now.', { cause: err });
        }
      } catch (err) {
        // Nothing was sent: it does not count against the call's 3.
        await smsLimit.release(call.callId);
        throw err;
      }
      await audit.record('statement_sms_sent', { callId: call.callId, ...ids, to: maskedFromNumber(customer.mobile.masked()), ...call.by });
      return { sent: true, maskedMobile: customer.mobile.masked(), last4Spoken: customer.mobile.spokenLast4() };
    },
  };
}

/** `latest` (default), `previous`, or an explicit `YYYY-MM`. The list is newest first. */
function pickPeriod<T extends { period: string }>(list: readonly T[], wanted = 'latest'): T | undefined {
  if (wanted === 'latest') return list[0];
  if (wanted === 'previous') return list[1];
  return list.find((s) => s.period === wanted);
}
