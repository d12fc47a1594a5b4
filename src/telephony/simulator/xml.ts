import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reads TwiML for the simulator with fast-xml-parser (docs/decisions/0007): document order is kept
 * (`preserveOrder`), so <Say>, <Gather>, <Pause>… play in the order the app wrote them, and SSML
 * inside <Say> keeps its words in place.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

export class XmlError extends Error {
  override readonly name = 'XmlError';
}

const MAX_LENGTH = 256 * 1024;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // Text exactly as written: no trimming, no numbers or booleans guessed from it.
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  cdataPropName: '#cdata',
});

/** One node of fast-xml-parser's ordered output: `{ Tag: [children], ':@': { attrs } }` or `{ '#text': '…' }`. */
type Ordered = Record<string, unknown>;

function convert(node: Ordered): XmlNode | undefined {
  if ('#text' in node) return String(node['#text']);
  if ('#cdata' in node) return (node['#cdata'] as Ordered[]).map((c) => String(c['#text'] ?? '')).join('');
  const name = Object.keys(node).find((k) => k !== ':@');
  // Processing instructions (<?xml …?>) carry no content for a caller.
  if (name === undefined || name.startsWith('?')) return undefined;
  const attrs = Object.fromEntries(Object.entries((node[':@'] as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]));
  return { name, attrs, children: convertAll(node[name] as Ordered[]) };
}

function convertAll(nodes: Ordered[]): XmlNode[] {
  return nodes.map(convert).filter((n): n is XmlNode => n !== undefined);
}

/** Parses a document and returns its root element; throws XmlError on anything malformed. */
export function parseXml(xml: string): XmlElement {
  if (xml.length > MAX_LENGTH) throw new XmlError('document too large');
  // A DOCTYPE could declare entities; TwiML never needs one, so refuse rather than half-handle it.
  if (/<!DOCTYPE/i.test(xml)) throw new XmlError('DOCTYPE and other declarations are not accepted');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new XmlError(`${valid.err.msg} (line ${valid.err.line})`);
  const top = convertAll(parser.parse(xml) as Ordered[]);
  if (top.some((n) => typeof n === 'string' && n.trim() !== '')) throw new XmlError('text outside the root element');
  const elements = top.filter((n): n is XmlElement => typeof n !== 'string');
  if (elements.length !== 1 || !elements[0]) throw new XmlError('expected exactly one root element');
  return elements[0];
}

/** All text under a node, tags dropped (SSML inside <Say> reads as its words). */
export function textOf(node: XmlNode): string {
  if (typeof node === 'string') return node;
  // <break/> is silence between words, not nothing.
  if (node.name === 'break') return ' ';
  return node.children.map(textOf).join('');
}
