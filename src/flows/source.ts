import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/**
 * A flow file's text parsed with its positions, so every problem, not only a syntax error, can name
 * the line to fix. JSON is parsed by the same YAML parser (JSON is YAML), so .json flows get lines too.
 */
export interface FlowSource {
  /** The parsed value; undefined when the text has syntax errors. */
  raw: unknown;
  /** The first syntax error, with its line (1-based); what follows it is noise. */
  errors: { line: number; message: string; node?: string }[];
  /** The line of the deepest part of `path` that exists in the file (e.g. the node when its field is absent). */
  lineOf(path: readonly string[]): number | undefined;
}

export function parseFlowSource(text: string): FlowSource {
  const lineCounter = new LineCounter();
  // uniqueKeys (the default) makes a repeated node id an error instead of the last one silently winning.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  // After the first syntax error the parser reports every token it no longer understands: one mistake, one message.
  const errors = doc.errors.slice(0, 1).map((e) => {
    const node = nodeAt(doc.contents, e.pos[0]);
    return { line: lineAt(e.pos[0]), message: firstLine(e.message), ...(node === undefined ? {} : { node }) };
  });

  function lineOf(path: readonly string[]): number | undefined {
    let at: unknown = doc.contents;
    let line = offsetOf(at);
    for (const segment of path) {
      const next = childOf(at, segment);
      if (next === undefined) break;
      // A pair's key is where the author reads the field name.
      line = offsetOf(next.key) ?? offsetOf(next.value) ?? line;
      at = next.value;
    }
    return line === undefined ? undefined : lineAt(line);
  }

  return { raw: errors.length > 0 ? undefined : (doc.toJS() as unknown), errors, lineOf };
}

/** The flow node (under `nodes:`) whose text holds `offset`, from what the parser could still read. */
function nodeAt(contents: unknown, offset: number): string | undefined {
  const nodes = childOf(contents, 'nodes')?.value;
  if (!isMap(nodes)) return undefined;
  for (const pair of nodes.items) {
    const start = offsetOf(pair.key);
    const end = pair.value && typeof pair.value === 'object' && 'range' in pair.value ? (pair.value as Node).range?.[2] : undefined;
    if (start !== undefined && end !== undefined && offset >= start && offset <= end) return String(isScalar(pair.key) ? pair.key.value : pair.key);
  }
  return undefined;
}

function childOf(node: unknown, segment: string): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === segment);
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node)) {
    const item: unknown = node.items[Number(segment)];
    return item === undefined ? undefined : { key: item, value: item };
  }
  return undefined;
}

const offsetOf = (node: unknown): number | undefined => (node && typeof node === 'object' && 'range' in node ? (node as Node).range?.[0] : undefined);

const firstLine = (message: string) => message.split('\n')[0] ?? message;
