import { describe, expect, it } from '@jest/globals';
import { buildAddressPolicy, decideAddress, DEFAULT_ADDRESS_POLICY, literalAddress, parseEntry, type AddressPolicy } from './address-policy.js';

function policy(allow: string[] = [], deny: string[] = []): AddressPolicy {
  const result = buildAddressPolicy({ allow, deny, allowSource: 'WEFT_OUTBOUND_ALLOW', denySource: 'WEFT_OUTBOUND_DENY' });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.policy;
}

const allowed = (p: AddressPolicy, address: string) => decideAddress(p, address).allowed;
const reason = (p: AddressPolicy, address: string) => {
  const d = decideAddress(p, address);
  return d.allowed ? undefined : d.reason;
};

describe('decideAddress with the default policy', () => {
  it.each([
    ['169.254.169.254', /169\.254\.169\.254\/32, metadata \(denied by default\)/],
    ['169.254.1.1', /169\.254\.0\.0\/16, link-local \(denied by default\)/],
    ['fe80::1', /fe80::\/10, link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fd00:ec2::254', /fd00:ec2::254\/128, metadata/],
    ['169.254.170.2', /metadata/],
    ['100.100.100.200', /metadata/],
    ['168.63.129.16', /metadata/],
    ['0.0.0.0', /0\.0\.0\.0\/8, unspecified/],
    ['::', /::\/128, unspecified/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['255.255.255.255', /reserved/],
  ])('denies %s', (address, why) => {
    expect(reason(DEFAULT_ADDRESS_POLICY, address)).toMatch(why);
  });

  it.each(['127.0.0.1', '127.9.9.9', '::1', '10.0.0.5', '172.16.3.4', '192.168.1.1', '100.64.0.1', 'fd12:3456::1', '93.184.215.14', '2606:4700::1111'])(
    'allows %s (loopback and private are allowed by default)',
    (address) => {
      expect(allowed(DEFAULT_ADDRESS_POLICY, address)).toBe(true);
    },
  );

  it('judges IPv4-mapped and NAT64 IPv6 addresses by the IPv4 address they reach', () => {
    expect(reason(DEFAULT_ADDRESS_POLICY, '::ffff:169.254.169.254')).toBe(
      '::ffff:169.254.169.254 (IPv4 169.254.169.254) is in 169.254.169.254/32, metadata (denied by default)',
    );
    expect(reason(DEFAULT_ADDRESS_POLICY, '::ffff:a9fe:a9fe')).toMatch(/IPv4 169\.254\.169\.254.*metadata/);
    expect(reason(DEFAULT_ADDRESS_POLICY, '64:ff9b::a9fe:a9fe')).toMatch(/IPv4 169\.254\.169\.254.*metadata/);
    expect(reason(DEFAULT_ADDRESS_POLICY, '[::ffff:0.0.0.0]')).toMatch(/unspecified/);
    expect(reason(policy([], ['loopback']), '::ffff:127.0.0.1')).toMatch(/IPv4 127\.0\.0\.1.*loopback \(denied by WEFT_OUTBOUND_DENY\)/);
    expect(allowed(DEFAULT_ADDRESS_POLICY, '::ffff:8.8.8.8')).toBe(true);
  });

  it('refuses what is not an IP address', () => {
    expect(reason(DEFAULT_ADDRESS_POLICY, 'example.com')).toBe("'example.com' is not an IP address");
    expect(reason(DEFAULT_ADDRESS_POLICY, '127.1')).toMatch(/not an IP address/);
  });
});

describe('decideAddress with allow and deny lists', () => {
  it('denies loopback and private ranges when told to, naming the variable', () => {
    const p = policy([], ['loopback', 'private']);
    expect(reason(p, '127.0.0.1')).toBe('127.0.0.1 is in 127.0.0.0/8, loopback (denied by WEFT_OUTBOUND_DENY)');
    expect(reason(p, '::1')).toMatch(/loopback/);
    expect(reason(p, '10.1.2.3')).toMatch(/10\.0\.0\.0\/8, private/);
    expect(reason(p, 'fd12::1')).toMatch(/fc00::\/7, private/);
    expect(allowed(p, '8.8.8.8')).toBe(true);
  });

  it('lets the most specific entry decide', () => {
    const p = policy(['10.1.2.3', '169.254.0.0/16'], ['private', '8.8.8.0/24']);
    expect(allowed(p, '10.1.2.3')).toBe(true);
    expect(allowed(p, '10.1.2.4')).toBe(false);
    // Allowing all of link-local leaves the metadata addresses, which are more specific, denied.
    expect(allowed(p, '169.254.1.1')).toBe(true);
    expect(reason(p, '169.254.169.254')).toMatch(/metadata \(denied by default\)/);
    expect(reason(p, '8.8.8.8')).toBe('8.8.8.8 is in 8.8.8.0/24 (denied by WEFT_OUTBOUND_DENY)');
  });

  it('a configured entry beats a default one of the same length, and deny beats allow', () => {
    expect(allowed(policy(['169.254.169.254/32']), '169.254.169.254')).toBe(true);
    expect(allowed(policy(['metadata']), 'fd00:ec2::254')).toBe(true);
    expect(allowed(policy(['metadata']), '169.254.1.1')).toBe(false);
    expect(allowed(policy(['10.0.0.0/8'], ['10.0.0.0/8']), '10.0.0.1')).toBe(false);
  });

  it('a wide allow does not undo more specific defaults', () => {
    const p = policy(['0.0.0.0/0', '::/0']);
    expect(allowed(p, '169.254.169.254')).toBe(false);
    expect(allowed(p, '8.8.8.8')).toBe(true);
  });
});

describe(buildAddressPolicy.name, () => {
  it('names every bad entry with its variable', () => {
    const result = buildAddressPolicy({ allow: ['10.0.0.0/33', 'lan'], deny: ['::ffff:10.0.0.0/104'], allowSource: 'A', denySource: 'D' });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      expect.stringMatching(/^A: '10\.0\.0\.0\/33' is not a CIDR/),
      expect.stringMatching(/^A: 'lan' is not a CIDR .* one of unspecified, loopback, private, link-local, metadata, multicast, reserved$/),
      expect.stringMatching(/^D: '::ffff:10\.0\.0\.0\/104': write IPv4 ranges in their IPv4 form/),
    ]);
  });

  it('ignores blank entries', () => {
    expect(buildAddressPolicy({ deny: ['', ' '] }).ok).toBe(true);
  });
});

describe(parseEntry.name, () => {
  it('reads CIDRs, single addresses and categories', () => {
    expect(parseEntry('10.0.0.0/8')).toHaveLength(1);
    expect(parseEntry('2001:db8::/32')).toHaveLength(1);
    expect((parseEntry('192.0.2.1') as [unknown, number][])[0]![1]).toBe(32);
    expect((parseEntry('2001:db8::1') as [unknown, number][])[0]![1]).toBe(128);
    expect(parseEntry('private')).toHaveLength(5);
    expect(parseEntry('10.0.0.0/8/8')).toMatch(/not a CIDR/);
    expect(parseEntry('10.0.0.0/x')).toMatch(/not a CIDR/);
    expect(parseEntry('toString')).toMatch(/not a CIDR/);
  });
});

describe(literalAddress.name, () => {
  it('recognises URL hostnames that are IP addresses', () => {
    expect(literalAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(literalAddress(new URL('http://0x7f.1/').hostname)).toBe('127.0.0.1');
    expect(literalAddress(new URL('http://[::ffff:169.254.169.254]/').hostname)).toBe('::ffff:a9fe:a9fe');
    expect(literalAddress('example.com')).toBeUndefined();
    expect(literalAddress('localhost')).toBeUndefined();
  });
});
