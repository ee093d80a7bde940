import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startHttpServer } from '../../src/alerts/channels/alert-testing.js';
import { buildAddressPolicy, DEFAULT_ADDRESS_POLICY, type AddressPolicy } from '../../src/outbound/domain/address-policy.js';
import { OutboundGuard, outboundRefusal, type ResolveAll } from '../../src/outbound/outbound-guard.js';
import { HttpExecutor } from '../../src/worker/executors/http.executor.js';
import { testContext } from '../../src/worker/executors/executor-testing.js';

let server: Awaited<ReturnType<typeof startHttpServer>>;
let port: number;
const guards: OutboundGuard[] = [];

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    if (req.path.startsWith('/redirect?to=')) {
      res.writeHead(302, { location: decodeURIComponent(req.path.slice('/redirect?to='.length)) }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('reached');
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await Promise.all(guards.map((g) => g.close()));
  await server.close();
});

function denying(...deny: string[]): AddressPolicy {
  const result = buildAddressPolicy({ deny, denySource: 'WEFT_OUTBOUND_DENY' });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.policy;
}

function guard(policy: AddressPolicy, resolve?: ResolveAll): OutboundGuard {
  const g = new OutboundGuard(policy, { resolve });
  guards.push(g);
  return g;
}

/** A DNS server that answers each lookup of a name with the next answer of its list (the last one repeats). */
function scriptedDns(answers: Record<string, string[][]>): ResolveAll & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const answer = list.length > 1 ? list.shift()! : list[0]!;
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

async function refusalOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return outboundRefusal(err) ?? `not a refusal: ${String(err)}`;
  }
}

describe('OutboundGuard.fetch', () => {
  it('connects to loopback by default and refuses it when loopback is denied, sending nothing', async () => {
    expect(await (await guard(DEFAULT_ADDRESS_POLICY).fetch(`${server.url}/a`)).text()).toBe('reached');
    const before = server.requests.length;
    const strict = guard(denying('loopback'));
    expect(await refusalOf(strict.fetch(`http://127.0.0.1:${port}/b`))).toBe(
      'refused by the outbound-address policy: 127.0.0.1 is in 127.0.0.0/8, loopback (denied by WEFT_OUTBOUND_DENY)',
    );
    expect(await refusalOf(strict.fetch(`http://[::ffff:127.0.0.1]:${port}/b`))).toMatch(/::ffff:7f00:1 \(IPv4 127\.0\.0\.1\) is in 127\.0\.0\.0\/8/);
    expect(await refusalOf(strict.fetch(`http://[::1]:${port}/b`))).toMatch(/::1 is in ::1\/128, loopback/);
    expect(await refusalOf(strict.fetch(`http://localhost:${port}/b`))).toMatch(/localhost resolves to (127\.0\.0\.1|::1) is in .*loopback/);
    expect(server.requests.length).toBe(before);
  });

  it('connects to the address it checked: a name only the guard resolves reaches the server', async () => {
    const dns = scriptedDns({ 'receiver.weft.test': [['127.0.0.1']] });
    const res = await guard(DEFAULT_ADDRESS_POLICY, dns).fetch(`http://receiver.weft.test:${port}/named`);
    expect(await res.text()).toBe('reached');
    expect(server.requests.at(-1)!.headers.host).toBe(`receiver.weft.test:${port}`);
    expect(dns.asked).toEqual(['receiver.weft.test']);
  });

  it('refuses a name whose answer changes to a denied address after a check passed (DNS rebinding)', async () => {
    const dns = scriptedDns({ 'rebind.weft.test': [['192.0.2.10'], ['127.0.0.1']] });
    const g = guard(denying('loopback'), dns);
    expect(await g.checkUrl(`http://rebind.weft.test:${port}/`)).toEqual({ ok: true });
    const before = server.requests.length;
    expect(await refusalOf(g.fetch(`http://rebind.weft.test:${port}/`))).toMatch(/rebind\.weft\.test resolves to 127\.0\.0\.1 is in 127\.0\.0\.0\/8, loopback/);
    expect(server.requests.length).toBe(before);
  });

  it('refuses a name when any of its addresses is denied', async () => {
    const dns = scriptedDns({ 'mixed.weft.test': [['127.0.0.1', '169.254.169.254']] });
    expect(await refusalOf(guard(DEFAULT_ADDRESS_POLICY, dns).fetch(`http://mixed.weft.test:${port}/`))).toMatch(
      /mixed\.weft\.test resolves to 169\.254\.169\.254 is in 169\.254\.169\.254\/32, metadata \(denied by default\)/,
    );
  });

  it('checks every hop of a redirect', async () => {
    const target = encodeURIComponent('http://169.254.169.254/latest/meta-data/');
    expect(await refusalOf(guard(DEFAULT_ADDRESS_POLICY).fetch(`${server.url}/redirect?to=${target}`))).toMatch(/169\.254\.169\.254 is in .*metadata/);
  });
});

describe('OutboundGuard.checkUrl (registration)', () => {
  const dns = scriptedDns({ 'meta.weft.test': [['169.254.169.254']], 'ok.weft.test': [['192.0.2.1']] });

  it('refuses literal addresses and names that resolve into a denied range, and lets unresolvable names pass', async () => {
    const g = guard(DEFAULT_ADDRESS_POLICY, dns);
    expect(await g.checkUrl('http://169.254.169.254/latest')).toEqual({ ok: false, reason: '169.254.169.254 is in 169.254.169.254/32, metadata (denied by default)' });
    expect(await g.checkUrl('http://[fd00:ec2::254]/latest')).toMatchObject({ ok: false, reason: expect.stringMatching(/metadata/) });
    expect(await g.checkUrl('http://meta.weft.test/x')).toEqual({
      ok: false,
      reason: 'meta.weft.test resolves to 169.254.169.254 is in 169.254.169.254/32, metadata (denied by default)',
    });
    expect(await g.checkUrl('https://ok.weft.test/x')).toEqual({ ok: true });
    expect(await g.checkUrl('https://nowhere.weft.test/x')).toEqual({ ok: true });
  });

  it('gives up resolving after the timeout and lets the name pass', async () => {
    const g = guard(DEFAULT_ADDRESS_POLICY, () => new Promise(() => undefined));
    expect(await g.checkUrl('https://slow.weft.test/x', 50)).toEqual({ ok: true });
  });
});

describe('http tasks', () => {
  it('fail for good, naming the reason, when the policy refuses the target or a redirect', async () => {
    const sut = new HttpExecutor({ guard: guard(denying('loopback')) });
    const result = await sut.execute({ request: { method: 'GET', url: `http://127.0.0.1:${port}/task` } }, testContext().ctx);
    expect(result).toMatchObject({ status: 'failed', retryable: false, error: expect.stringMatching(/^GET http:\/\/127\.0\.0\.1:\d+\/task refused by the outbound-address policy: 127\.0\.0\.1 is in 127\.0\.0\.0\/8, loopback/) });

    const open = new HttpExecutor({ guard: guard(DEFAULT_ADDRESS_POLICY) });
    const redirected = await open.execute({ request: { method: 'GET', url: `${server.url}/redirect?to=${encodeURIComponent('http://[fe80::1]/')}` } }, testContext().ctx);
    expect(redirected).toMatchObject({ status: 'failed', retryable: false, error: expect.stringMatching(/fe80::1 is in fe80::\/10, link-local/) });
    expect(await open.execute({ request: { method: 'GET', url: `${server.url}/fine` } }, testContext().ctx)).toMatchObject({ status: 'success' });
  });
});
