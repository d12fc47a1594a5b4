import { get } from 'node:http';

export interface StreamedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Lines received (the text split at newlines; the last, unterminated part dropped). */
  lines: number;
  /** The last complete line received. */
  lastLine: string;
  /** False when the connection was cut before the response's end (a chunked body without its last chunk). */
  complete: boolean;
  /** The whole body, when kept. */
  text?: string;
}

/**
 * A GET read as a client on the wire reads it: streamed, counting lines as they come, so a body of
 * any size costs the test no memory unless `keep` asks for the text; and whether the response really
 * ended or was cut is reported rather than hidden.
 */
export function streamGet(url: string, headers: Record<string, string>, options: { keep?: boolean } = {}): Promise<StreamedAnswer> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res) => {
      let lines = 0;
      let partial = '';
      let lastLine = '';
      const kept: string[] = [];
      let settled = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (options.keep) kept.push(chunk);
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        lines += parts.length;
        const last = parts[parts.length - 1];
        if (last !== undefined) lastLine = last;
      });
      const done = () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, lines, lastLine, complete: res.complete, ...(options.keep ? { text: kept.join('') } : {}) });
      };
      res.on('end', done);
      // A cut chunked body: Node reports it as an error on the response ("aborted").
      res.on('error', done);
      res.on('close', done);
    });
    req.on('error', reject);
  });
}
