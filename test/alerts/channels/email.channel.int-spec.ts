import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { sampleAlert, startSmtpServer, unusedPort } from '../../../src/alerts/channels/alert-testing.js';
import { EmailChannel, renderAlertEmail, type SmtpConfig } from '../../../src/alerts/channels/email.channel.js';

type SmtpServer = Awaited<ReturnType<typeof startSmtpServer>>;

const FROM = 'Weft <weft@example.com>';
const TO = ['oncall@example.com', 'data-team@example.com'];
const PASSWORD = 'correct-horse-battery';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smtp(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<SmtpServer> {
  const server = await startSmtpServer(options);
  cleanups.push(server.close);
  return server;
}

function channel(port: number, extra: Partial<SmtpConfig> = {}): EmailChannel {
  const sut = new EmailChannel({ host: '127.0.0.1', port, secure: false, from: FROM, timeoutMs: 2000, ...extra });
  cleanups.push(() => sut.close());
  return sut;
}

/** A reply code for RCPT TO, as the test server sends it. */
function smtpError(responseCode: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode });
}

describe(EmailChannel.name, () => {
  it('sends one message to every address with the subject, a text body and an escaped HTML body', async () => {
    const server = await smtp();
    const message = sampleAlert({ summary: 'load is late <script>alert("x")</script> & more' });

    expect(await channel(server.port).send({ type: 'email', to: TO }, message)).toEqual({ ok: true });

    expect(server.mails).toHaveLength(1);
    const [mail] = server.mails;
    expect(mail!.envelope).toEqual({ from: 'weft@example.com', to: TO });
    expect(mail!.headers).toMatchObject({
      subject: '[Weft] SLA missed: etl.load (2024-01-15T00:00:00.000Z)',
      from: FROM,
      to: TO.join(', '),
      'message-id': `<${message.deliveryId}@weft>`,
      'x-weft-event': 'sla_miss',
      'x-weft-delivery': message.deliveryId,
    });
    for (const body of [mail!.text, mail!.html]) {
      for (const fact of ['etl', 'load', 'scheduled__2024-01-15T00:00:00+00:00', '2024-01-15T00:00:00.000Z', '2024-01-16T01:00:05.000Z', 'expectedBy']) {
        expect(body).toContain(fact);
      }
    }
    expect(mail!.text).toContain('Logical date: 2024-01-15T00:00:00.000Z');
    expect(mail!.text).toContain('load is late <script>alert("x")</script> & more');
    expect(mail!.html).toContain('load is late &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(mail!.html).not.toContain('<script>');
  });

  it('does not retry when the server rejects the recipient with 550', async () => {
    const server = await smtp({ onRcptTo: (_address, _session, cb) => cb(smtpError(550, '5.1.1 No such user')) });
    const result = await channel(server.port).send({ type: 'email', to: ['nobody@example.com'] }, sampleAlert());
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(/^SMTP 127\.0\.0\.1:\d+: .*550 5\.1\.1 No such user/),
      retryable: false,
    });
    expect(server.mails).toHaveLength(0);
  });

  it('retries when the server defers the recipient with 451', async () => {
    const server = await smtp({ onRcptTo: (_address, _session, cb) => cb(smtpError(451, '4.7.1 Greylisted, try again later')) });
    const result = await channel(server.port).send({ type: 'email', to: ['oncall@example.com'] }, sampleAlert());
    expect(result).toEqual({ ok: false, error: expect.stringContaining('451 4.7.1 Greylisted'), retryable: true });
  });

  it('counts a message that reached some recipients as delivered, with the refusals as a warning', async () => {
    const server = await smtp({
      onRcptTo: (address, _session, cb) => cb(address.address.startsWith('gone') ? smtpError(550, '5.1.1 No such user') : undefined),
    });
    const result = await channel(server.port).send({ type: 'email', to: ['oncall@example.com', 'gone@example.com'] }, sampleAlert());
    expect(result).toEqual({ ok: true, warning: 'rejected recipients: gone@example.com (550 5.1.1 No such user)' });
    expect(server.mails.map((m) => m.envelope.to)).toEqual([['oncall@example.com']]);
  });

  it.each(['PLAIN', 'LOGIN'])('authenticates with user and password (AUTH %s)', async (method) => {
    const logins: string[] = [];
    const server = await smtp({
      authOptional: false,
      allowInsecureAuth: true,
      authMethods: [method],
      onAuth: (auth, _session, cb) => {
        logins.push(`${auth.method} ${auth.username}`);
        if (auth.username === 'alerts' && auth.password === PASSWORD) cb(null, { user: auth.username });
        else cb(smtpError(535, '5.7.8 Authentication failed'));
      },
    });

    expect(await channel(server.port, { user: 'alerts', password: PASSWORD }).send({ type: 'email', to: TO }, sampleAlert())).toEqual({ ok: true });
    expect(logins).toEqual([`${method} alerts`]);
    expect(server.mails).toHaveLength(1);
  });

  it('does not retry rejected credentials, and never shows the password, even when the server echoes it', async () => {
    const server = await smtp({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth: (auth, _session, cb) => cb(smtpError(535, `5.7.8 Bad password ${auth.password}`)),
    });
    const result = await channel(server.port, { user: 'alerts', password: PASSWORD }).send({ type: 'email', to: TO }, sampleAlert());
    expect(result).toEqual({ ok: false, error: expect.stringContaining('535 5.7.8 Bad password ***'), retryable: false });
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(server.mails).toHaveLength(0);
  });

  it('does not send without authenticating when the server requires it and no user is set', async () => {
    const server = await smtp({ authOptional: false, allowInsecureAuth: true });
    const result = await channel(server.port).send({ type: 'email', to: TO }, sampleAlert());
    expect(result).toEqual({ ok: false, error: expect.stringContaining('530'), retryable: false });
  });

  it('retries when the connection is refused', async () => {
    const result = await channel(await unusedPort()).send({ type: 'email', to: TO }, sampleAlert());
    expect(result).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED'), retryable: true });
  });

  it('retries when the server never greets', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    const result = await channel((silent.address() as AddressInfo).port, { timeoutMs: 200 }).send({ type: 'email', to: TO }, sampleAlert());
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^SMTP 127\.0\.0\.1:\d+: .* \(timed out after 200 ms\)$/), retryable: true });
  });
});

describe(renderAlertEmail.name, () => {
  it('names the whole run when there is no task, and keeps newlines out of the subject', () => {
    const { subject, text, html } = renderAlertEmail(sampleAlert({ kind: 'run_failed', taskId: undefined, dagId: 'etl', details: {} }));
    expect(subject).toBe('[Weft] Run failed: etl (2024-01-15T00:00:00.000Z)');
    expect(text).not.toContain('Task:');
    expect(text).not.toContain('Details:');
    expect(html).not.toContain('<pre');
  });
});
