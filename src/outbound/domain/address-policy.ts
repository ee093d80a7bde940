import ipaddr from 'ipaddr.js';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Named ranges that allow and deny lists may use instead of CIDRs. `metadata` lists the instance-metadata and
 * host-agent addresses of the common clouds: AWS (IMDS over IPv4 and IPv6, ECS task metadata, EKS pod identity),
 * GCP, Azure (IMDS and the WireServer), Oracle, Alibaba; most sit inside link-local, some do not.
 */
export const ADDRESS_CATEGORIES = {
  unspecified: ['0.0.0.0/8', '::/128'],
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
  'link-local': ['169.254.0.0/16', 'fe80::/10'],
  metadata: [
    '169.254.169.254/32',
    '169.254.170.2/32',
    '169.254.170.23/32',
    'fd00:ec2::254/128',
    'fd00:ec2::23/128',
    '168.63.129.16/32',
    '192.0.0.192/32',
    '100.100.100.200/32',
  ],
  multicast: ['224.0.0.0/4', 'ff00::/8'],
  reserved: ['240.0.0.0/4'],
} as const satisfies Record<string, readonly string[]>;

export type AddressCategory = keyof typeof ADDRESS_CATEGORIES;

/**
 * Denied unless an allow list says otherwise. `unspecified` is here because connecting to 0.0.0.0 reaches the local
 * host; `reserved` covers 240.0.0.0/4 with the broadcast address. Loopback and private ranges are allowed by default:
 * Weft runs on laptops and next to the receivers of its own network (docs/security.md "Outbound addresses").
 */
export const DEFAULT_DENIED_CATEGORIES: readonly AddressCategory[] = ['unspecified', 'link-local', 'metadata', 'multicast', 'reserved'];

type Rule = {
  network: [Ip, number];
  action: 'allow' | 'deny';
  /** The entry as written ("10.0.0.0/8", "private") or the built-in category. */
  label: string;
  /** Where the rule comes from: the variable's name, or undefined for the built-in default. */
  source?: string;
};

export type AddressPolicy = { readonly rules: readonly Rule[] };

export type PolicyInput = {
  allow?: readonly string[];
  deny?: readonly string[];
  /** Names of the variables the lists come from, quoted in reasons ("denied by WEFT_OUTBOUND_DENY"). */
  allowSource?: string;
  denySource?: string;
};

export type PolicyResult = { ok: true; policy: AddressPolicy } | { ok: false; errors: string[] };

/**
 * Builds a policy from allow and deny lists of CIDRs, single addresses and category names, over the built-in
 * defaults. The most specific matching entry decides (longest prefix, as in a routing table); at equal length a
 * configured entry beats a default one and deny beats allow. So allowing `169.254.0.0/16` still leaves the metadata
 * addresses denied unless they are named (`metadata` or `169.254.169.254/32`), and denying `private` with an allowed
 * `10.1.2.3` lets that one address through.
 */
export function buildAddressPolicy(input: PolicyInput = {}): PolicyResult {
  const errors: string[] = [];
  const rules: Rule[] = DEFAULT_DENIED_CATEGORIES.flatMap((category) =>
    ADDRESS_CATEGORIES[category].map((cidr) => ({ network: ipaddr.parseCIDR(cidr), action: 'deny' as const, label: category })),
  );
  const add = (entries: readonly string[] | undefined, action: 'allow' | 'deny', source: string | undefined) => {
    for (const raw of entries ?? []) {
      const entry = raw.trim();
      if (entry === '') continue;
      const parsed = parseEntry(entry);
      if (typeof parsed === 'string') errors.push(`${source ? `${source}: ` : ''}${parsed}`);
      else rules.push(...parsed.map((network) => ({ network, action, label: entry, source })));
    }
  };
  add(input.allow, 'allow', input.allowSource);
  add(input.deny, 'deny', input.denySource);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: { rules } };
}

/** The policy with no configuration: the built-in defaults only. */
export const DEFAULT_ADDRESS_POLICY: AddressPolicy = (buildAddressPolicy() as { policy: AddressPolicy }).policy;

/** A CIDR, a single address, or a category name; a string is the reason the entry is not one. */
export function parseEntry(entry: string): [Ip, number][] | string {
  if (Object.hasOwn(ADDRESS_CATEGORIES, entry)) return ADDRESS_CATEGORIES[entry as AddressCategory].map((c) => ipaddr.parseCIDR(c));
  const names = Object.keys(ADDRESS_CATEGORIES).join(', ');
  const [address, bits, ...rest] = entry.split('/');
  const ip = parseAddress(address ?? '');
  const invalid = `'${entry}' is not a CIDR (10.0.0.0/8, fd00::/8), an IP address or one of ${names}`;
  if (!ip || rest.length > 0) return invalid;
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) return [[ip, max]];
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return invalid;
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return `'${entry}': write IPv4 ranges in their IPv4 form (mapped addresses are checked as IPv4)`;
  return [[ip, Number(bits)]];
}

export type AddressDecision =
  | { allowed: true; address: string }
  | { allowed: false; address: string; reason: string };

/**
 * Whether a connection to `address` is allowed. IPv4-mapped IPv6 (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
 * addresses are judged by the IPv4 address they reach. The reason names the address, the entry that matched and
 * where it comes from, fit to be shown to whoever registered the target.
 */
export function decideAddress(policy: AddressPolicy, address: string): AddressDecision {
  const parsed = parseAddress(address);
  if (!parsed) return { allowed: false, address, reason: `'${address}' is not an IP address` };
  const ip = embeddedIpv4(parsed) ?? parsed;
  let best: Rule | undefined;
  for (const rule of policy.rules) {
    if (rule.network[0].kind() !== ip.kind() || !ip.match(rule.network)) continue;
    if (!best || beats(rule, best)) best = rule;
  }
  if (!best || best.action === 'allow') return { allowed: true, address };
  const shown = ip === parsed ? address : `${address} (IPv4 ${ip.toString()})`;
  const range = `${best.network[0].toString()}/${best.network[1]}`;
  const what = best.label === range ? range : `${range}, ${best.label}`;
  const why = best.source ? `denied by ${best.source}` : 'denied by default';
  return { allowed: false, address, reason: `${shown} is in ${what} (${why})` };
}

function beats(a: Rule, b: Rule): boolean {
  if (a.network[1] !== b.network[1]) return a.network[1] > b.network[1];
  if (Boolean(a.source) !== Boolean(b.source)) return Boolean(a.source);
  return a.action === 'deny' && b.action === 'allow';
}

const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

function embeddedIpv4(ip: Ip): ipaddr.IPv4 | undefined {
  if (ip.kind() !== 'ipv6') return undefined;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  if (v6.match(NAT64)) {
    const bytes = v6.toByteArray().slice(12);
    return new ipaddr.IPv4(bytes);
  }
  return undefined;
}

/** Dotted-quad IPv4 or IPv6 (brackets and a zone id allowed); not the legacy forms such as `127.1` or `0x7f.0.0.1`. */
function parseAddress(text: string): Ip | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(':') && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
}

/** The IP address a URL's hostname names literally (WHATWG URLs normalise `0x7f.1` to `127.0.0.1`), if it is one. */
export function literalAddress(hostname: string): string | undefined {
  const ip = parseAddress(hostname);
  return ip ? ip.toString() : undefined;
}
