import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** Only what the console's customer picker shows: no accounts, no numbers. */
export interface DemoCustomer {
  id: string;
  name: string;
}

const pickerSchema = z.object({
  customers: z.array(z.object({ id: z.string().min(1), name: z.string().default('') }).loose()),
});

/**
 * The demo bank's customers for the picker, or an empty list (the page then offers a text field)
 * when there is no fixture or it cannot be read: the console must never stop the app from starting.
 */
export async function readDemoCustomers(file: string | undefined): Promise<DemoCustomer[]> {
  if (!file) return [];
  try {
    const parsed = pickerSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data.customers.map((c) => ({ id: c.id, name: c.name })) : [];
  } catch {
    return [];
  }
}
