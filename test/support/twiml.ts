import { XMLParser } from 'fast-xml-parser';

export interface ParsedTwiml {
  says: { text: string; language?: string }[];
  gather?: { action: string; numDigits?: number; timeout?: number; says: string[] };
  enqueue?: string;
  hangup: boolean;
  redirect?: string;
  raw: string;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => name === 'Say' || name === 'Pause' });

type Node = Record<string, unknown>;
const text = (say: unknown): string => (typeof say === 'string' ? say : String((say as Node)['#text'] ?? ''));

/** Parses TwiML into what a caller would hear and what Twilio would do next (never compare XML strings). */
export function parseTwiml(xml: string): ParsedTwiml {
  const doc = parser.parse(xml) as { Response?: Node | '' };
  if (doc.Response === undefined) throw new Error(`not TwiML: ${xml.slice(0, 200)}`);
  const r: Node = doc.Response === '' ? {} : doc.Response;
  const says = ((r.Say as unknown[]) ?? []).map((s) => ({ text: text(s), language: (s as Node)['@language'] as string | undefined }));
  const out: ParsedTwiml = { says, hangup: 'Hangup' in r, raw: xml };
  const g = r.Gather as Node | undefined;
  if (g !== undefined) {
    const gNode: Node = typeof g === 'object' ? g : {};
    const gSays = ((gNode.Say as unknown[]) ?? []).map(text);
    out.gather = {
      action: String(gNode['@action'] ?? ''),
      numDigits: gNode['@numDigits'] !== undefined ? Number(gNode['@numDigits']) : undefined,
      timeout: gNode['@timeout'] !== undefined ? Number(gNode['@timeout']) : undefined,
      says: gSays,
    };
    out.says.push(...gSays.map((t) => ({ text: t })));
  }
  if (r.Enqueue !== undefined) out.enqueue = text(r.Enqueue);
  if (r.Redirect !== undefined) out.redirect = text(r.Redirect);
  return out;
}

/** Everything said, joined, for `toContain` checks. */
export function heard(t: ParsedTwiml): string {
  return t.says.map((s) => s.text).join(' ');
}
