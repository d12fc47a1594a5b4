/**
 * Writes a small, real PDF statement for every statement listed in the demo bank, at
 * `<outDir>/<file>`, so the local store (and MinIO seeding in docker-compose) has documents to
 * serve. Deterministic: the same fixture gives the same bytes, so regenerating changes nothing.
 *
 *   npm run statements -- [bankFile=data/demo-bank.json] [outDir=data/statements]
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PDFDocument, StandardFonts, rgb } from 'pdf-lib';
import { createDemoBank } from '../src/banking/demo-bank.js';
import type { Account, Customer, StatementRef } from '../src/banking/port.js';

const BANK_NAME = 'Vaultline Bank';

const LABELS = {
  en: { title: 'Account statement', customer: 'Customer', account: 'Account', period: 'Period', opening: 'Opening balance', closing: 'Closing balance', date: 'Date', description: 'Description', amount: 'Amount', types: { checking: 'Checking', savings: 'Savings', credit: 'Credit' }, items: ['Payroll deposit', 'Grocery store', 'Electric utility', 'Coffee shop', 'Online transfer'] },
  es: { title: 'Estado de cuenta', customer: 'Cliente', account: 'Cuenta', period: 'Periodo', opening: 'Saldo inicial', closing: 'Saldo final', date: 'Fecha', description: 'Descripción', amount: 'Importe', types: { checking: 'Corriente', savings: 'Ahorros', credit: 'Crédito' }, items: ['Depósito de nómina', 'Supermercado', 'Servicio eléctrico', 'Cafetería', 'Transferencia en línea'] },
} as const;

const USAGE = `usage: npm run statements -- [bankFile] [outDir]

Writes a small PDF statement for every statement the demo bank lists, at <outDir>/<file>
(deterministic: the same fixture gives the same bytes).
  bankFile  the demo-bank fixture (default data/demo-bank.json)
  outDir    where to write (default data/statements)
  -h, --help  this text`;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const option = args.find((a) => a.startsWith('-'));
  if (option) throw new Error(`unknown option ${option} (see --help)`);
  const bankFile = args[0] ?? 'data/demo-bank.json';
  const outDir = args[1] ?? 'data/statements';
  const bank = await createDemoBank({ file: bankFile });
  // The port has no "list customers" (a core system would not offer one to an IVR): read the ids.
  const ids = (JSON.parse(await readFile(bankFile, 'utf8')) as { customers: { id: string }[] }).customers.map((c) => c.id);

  let count = 0;
  for (const id of ids) {
    const customer = await bank.getCustomer(id);
    if (!customer) continue;
    for (const account of customer.accounts) {
      const balance = await bank.getBalance(customer.id, account.id);
      const statements = (await bank.listStatements(customer.id, account.id)) ?? [];
      // Newest first: the newest closes at today's available balance, each older one a bit lower.
      let closingCents = toCents(balance?.available ?? '0');
      for (const statement of statements) {
        const tx = transactions(`${account.id}/${statement.period}`);
        const pdf = await renderStatement(customer, account, statement, closingCents, tx);
        const target = path.join(outDir, statement.file);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, pdf);
        console.log(`${target} (${pdf.length} bytes)`);
        count += 1;
        closingCents -= tx.reduce((sum, t) => sum + t.cents, 0);
      }
    }
  }
  console.log(`${count} statements written under ${outDir}`);
}

interface Tx {
  day: number;
  item: number;
  cents: number;
}

/** Four transactions drawn from a hash of account and period: stable across runs. */
function transactions(seed: string): Tx[] {
  const h = createHash('sha256').update(seed).digest();
  return [0, 1, 2, 3].map((i) => {
    const item = i === 0 ? 0 : 1 + ((h[i] ?? 0) % 4);
    const magnitude = 500 + ((h.readUInt16BE(4 + i * 2) * 7) % 20_000);
    return { day: 2 + i * 7 + ((h[12 + i] ?? 0) % 5), item, cents: item === 0 ? magnitude * 10 : -magnitude };
  });
}

async function renderStatement(customer: Customer, account: Account, statement: StatementRef, closingCents: number, tx: Tx[]): Promise<Uint8Array> {
  const labels = customer.locale.startsWith('es') ? LABELS.es : LABELS.en;
  const [year, month] = statement.period.split('-').map(Number) as [number, number];
  const money = (cents: number) => pdfSafe(new Intl.NumberFormat(customer.locale, { style: 'currency', currency: account.currency }).format(cents / 100));
  const date = (d: Date, opts: Intl.DateTimeFormatOptions) => pdfSafe(new Intl.DateTimeFormat(customer.locale, { ...opts, timeZone: 'UTC' }).format(d));
  const lastDay = new Date(Date.UTC(year, month, 0));

  const doc = await PDFDocument.create();
  doc.setTitle(`${BANK_NAME} ${labels.title} ${statement.period}`);
  doc.setAuthor(BANK_NAME);
  doc.setProducer(BANK_NAME);
  doc.setCreator('scripts/make-statements.ts');
  doc.setCreationDate(lastDay);
  doc.setModificationDate(lastDay);
  const page = doc.addPage([612, 792]); // US Letter
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const ink = rgb(0.1, 0.1, 0.15);
  let y = 740;
  const line = (text: string, x = 56, f = font, size = 11) => page.drawText(text, { x, y, size, font: f, color: ink });

  line(BANK_NAME, 56, bold, 20);
  y -= 26;
  line(labels.title, 56, font, 14);
  y -= 36;
  line(`${labels.customer}: ${customer.name}`);
  y -= 18;
  // PCI DSS 3.4.1: the document shows the last four only, like every other output.
  line(`${labels.account}: ${labels.types[account.type]} ${account.number.masked()} (${account.currency})`);
  y -= 18;
  line(`${labels.period}: ${date(lastDay, { month: 'long', year: 'numeric' })}`);
  y -= 30;

  const net = tx.reduce((sum, t) => sum + t.cents, 0);
  line(`${labels.opening}: ${money(closingCents - net)}`, 56, bold);
  y -= 24;
  line(labels.date, 56, bold);
  line(labels.description, 160, bold);
  line(labels.amount, 440, bold);
  for (const t of tx) {
    y -= 18;
    line(date(new Date(Date.UTC(year, month - 1, t.day)), { month: 'short', day: 'numeric' }), 56);
    line(labels.items[t.item] ?? '', 160);
    line(money(t.cents), 440);
  }
  y -= 30;
  line(`${labels.closing}: ${money(closingCents)}`, 56, bold, 12);
  return doc.save({ useObjectStreams: true });
}

function toCents(decimal: string): number {
  const [whole = '0', frac = ''] = decimal.split('.');
  const sign = whole.startsWith('-') ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number((frac + '00').slice(0, 2)));
}

/** The standard fonts encode WinAnsi only: Intl's narrow no-break spaces become plain spaces. */
function pdfSafe(s: string): string {
  return s.replace(/[\u202f\u2009]/g, ' ');
}

main().catch((err: unknown) => {
  console.error(`statements: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
