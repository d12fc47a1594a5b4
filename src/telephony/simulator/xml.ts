/**
 * A small XML reader for TwiML documents. The simulator runs in `npm start` (production
 * dependencies only), and TwiML is plain XML with no namespaces worth resolving, so this avoids a
 * parser dependency. Enough for elements, attributes, text, entities, CDATA and comments.
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
const NAME = /^[A-Za-z_][\w.:-]*/;
const ATTR = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/;
const ENTITY = /&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  return s.replace(ENTITY, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return NAMED[e] ?? '';
  });
}

/** Parses a document and returns its root element; throws XmlError on anything malformed. */
export function parseXml(xml: string): XmlElement {
  if (xml.length > MAX_LENGTH) throw new XmlError('document too large');
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack: XmlElement[] = [root];
  let i = 0;
  const top = () => stack[stack.length - 1] as XmlElement;

  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? xml.length : lt;
    if (textEnd > i) {
      const text = xml.slice(i, textEnd);
      if (stack.length > 1) top().children.push(decodeEntities(text));
      else if (text.trim() !== '') throw new XmlError('text outside the root element');
    }
    if (lt === -1) break;
    i = lt;
    if (xml.startsWith('<?', i)) i = skipPast(xml, i, '?>');
    else if (xml.startsWith('<!--', i)) i = skipPast(xml, i, '-->');
    else if (xml.startsWith('<![CDATA[', i)) {
      const end = skipPast(xml, i, ']]>');
      top().children.push(xml.slice(i + 9, end - 3));
      i = end;
    } else if (xml.startsWith('<!', i)) {
      // A DOCTYPE could declare entities; TwiML never needs one, so refuse rather than half-handle it.
      throw new XmlError('DOCTYPE and other declarations are not accepted');
    } else if (xml.startsWith('</', i)) {
      const m = NAME.exec(xml.slice(i + 2));
      const end = xml.indexOf('>', i);
      if (!m || end === -1) throw new XmlError('malformed closing tag');
      const open = stack.pop();
      if (!open || open === root || open.name !== m[0]) throw new XmlError(`unexpected </${m[0]}>`);
      i = end + 1;
    } else {
      i = openTag(xml, i, stack);
    }
  }
  if (stack.length !== 1) throw new XmlError(`<${top().name}> is not closed`);
  const elements = root.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (elements.length !== 1 || !elements[0]) throw new XmlError('expected exactly one root element');
  return elements[0];
}

function openTag(xml: string, start: number, stack: XmlElement[]): number {
  const m = NAME.exec(xml.slice(start + 1));
  if (!m) throw new XmlError('malformed tag');
  const el: XmlElement = { name: m[0], attrs: {}, children: [] };
  let i = start + 1 + m[0].length;
  for (;;) {
    const rest = xml.slice(i, i + 4096);
    const attr = ATTR.exec(rest);
    if (attr?.[1]) {
      el.attrs[attr[1]] = decodeEntities(attr[2] ?? attr[3] ?? '');
      i += attr[0].length;
      continue;
    }
    const close = /^\s*(\/?)>/.exec(rest);
    if (!close) throw new XmlError(`malformed <${el.name}>`);
    i += close[0].length;
    (stack[stack.length - 1] as XmlElement).children.push(el);
    if (close[1] !== '/') stack.push(el);
    return i;
  }
}

function skipPast(xml: string, from: number, marker: string): number {
  const end = xml.indexOf(marker, from);
  if (end === -1) throw new XmlError(`unterminated ${marker}`);
  return end + marker.length;
}

/** All text under a node, tags dropped (SSML inside <Say> reads as its words). */
export function textOf(node: XmlNode): string {
  if (typeof node === 'string') return node;
  // <break/> is silence between words, not nothing.
  if (node.name === 'break') return ' ';
  return node.children.map(textOf).join('');
}
