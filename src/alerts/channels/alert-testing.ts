import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AlertMessage } from '../domain/alert.js';

export function sampleAlert(overrides: Partial<AlertMessage> = {}): AlertMessage {
  return {
    kind: 'sla_miss',
    dagId: 'etl',
    runId: 'scheduled__2024-01-15T00:00:00+00:00',
    taskId: 'load',
    logicalDate: '2024-01-15T00:00:00.000Z',
    summary: 'load did not finish within 1h after the data interval ended',
    details: { slaSec: 3600, expectedBy: '2024-01-16T01:00:00.000Z', state: 'running' },
    occurredAt: '2024-01-16T01:00:05.000Z',
    deliveryId: '7f0c2a4e-5d1b-4c1e-9a57-2f4b8e0c1d3a',
    ...overrides,
  };
}

export type RecordedRequest = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

/** A real HTTP server on 127.0.0.1 that records every request and answers with `reply` (which may never answer). */
export async function startHttpServer(reply: (req: RecordedRequest, res: ServerResponse) => void) {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      reply(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port nothing listens on: bound once to learn a free one, then released. */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type CapturedMail = {
  envelope: { from: string; to: string[] };
  /** Header names lower-cased, folded lines joined. */
  headers: Record<string, string>;
  text: string;
  html: string;
};

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 without STARTTLS that captures accepted messages; `options` override
 * the defaults (no auth required) and add handlers such as onRcptTo or onAuth.
 */
export async function startSmtpServer(options: SMTPServerOptions = {}) {
  const mails: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    disableReverseLookup: true,
    ...options,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, ...parseMail(Buffer.concat(chunks).toString('utf8')) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Just enough MIME for what nodemailer sends here: a multipart/alternative of text and HTML, each 7bit, QP or base64. */
function parseMail(raw: string): Omit<CapturedMail, 'envelope'> {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1).map(splitHead) : [[head, body] as const];
  const part = (type: string) => {
    const found = parts.map(([h, b]) => [parseHeaders(h), b] as const).find(([h]) => (h['content-type'] ?? '').startsWith(type));
    return found ? decode(found[1], found[0]['content-transfer-encoding']) : '';
  };
  return { headers, text: part('text/plain'), html: part('text/html') };
}

function splitHead(raw: string): readonly [string, string] {
  const at = raw.indexOf('\r\n\r\n');
  return [raw.slice(0, at).replace(/^\r\n/, ''), raw.slice(at + 4)];
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decode(body: string, encoding = '7bit'): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return Buffer.from(
        body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    default:
      return body;
  }
}
