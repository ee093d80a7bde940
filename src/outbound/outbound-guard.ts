import dns from 'node:dns';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { decideAddress, literalAddress, type AddressPolicy } from './domain/address-policy.js';

/** What a connection refused by the policy fails with (the `cause` of fetch's "fetch failed"). */
export class OutboundRefusedError extends Error {
  readonly code = 'EOUTBOUND_REFUSED';
  constructor(readonly reason: string) {
    super(`refused by the outbound-address policy: ${reason}`);
    this.name = 'OutboundRefusedError';
  }
}

type LookupAddress = { address: string; family: number };
/** dns.lookup with `all: true`; injectable so tests can play a DNS server that answers what they like. */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

const systemResolve: ResolveAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export type OutboundGuardOptions = {
  resolve?: ResolveAll;
  /** Limit for opening one connection (TCP and TLS). */
  connectTimeoutMs?: number;
};

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * Enforces an address policy on outgoing HTTP. Every connection goes through `dispatcher`, whose connector checks the
 * address it is about to connect to: a literal IP at once, a name through a lookup hook that resolves it, refuses the
 * whole name when any of its addresses is denied, and hands the checked addresses to the socket. The address checked
 * is thus the address connected to: a DNS answer that changes between a check and the connection (rebinding) cannot
 * slip through, and redirects, retries and reused connections are covered alike. TLS still verifies the name.
 */
export class OutboundGuard {
  readonly dispatcher: Agent;
  private readonly resolve: ResolveAll;

  constructor(
    readonly policy: AddressPolicy,
    opts: OutboundGuardOptions = {},
  ) {
    this.resolve = opts.resolve ?? systemResolve;
    const connector = buildConnector({ lookup: this.lookup, ...(opts.connectTimeoutMs ? { timeout: opts.connectTimeoutMs } : {}) });
    this.dispatcher = new Agent({
      connect: (options, callback) => {
        const literal = literalAddress(options.hostname);
        if (literal !== undefined) {
          const decision = decideAddress(this.policy, literal);
          if (!decision.allowed) {
            callback(new OutboundRefusedError(decision.reason), null);
            return;
          }
        }
        connector(options, callback);
      },
    });
  }

  /** fetch through the guarded dispatcher. */
  fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    return undiciFetch(url, { ...init, dispatcher: this.dispatcher });
  }

  /**
   * Registration-time check of a target URL: a literal address is decided; a name is resolved (within `timeoutMs`)
   * and refused when any address it resolves to is denied. A name that does not resolve, or not in time, passes: it
   * may resolve where and when the delivery happens, and the delivery checks again.
   */
  async checkUrl(rawUrl: string, timeoutMs = 3000): Promise<TargetCheck> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return { ok: true };
    }
    const literal = literalAddress(url.hostname);
    if (literal !== undefined) {
      const decision = decideAddress(this.policy, literal);
      return decision.allowed ? { ok: true } : { ok: false, reason: decision.reason };
    }
    let addresses: LookupAddress[];
    try {
      addresses = await withTimeout(this.resolve(url.hostname), timeoutMs);
    } catch {
      return { ok: true };
    }
    const refusal = this.refusal(url.hostname, addresses);
    return refusal ? { ok: false, reason: refusal } : { ok: true };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private refusal(hostname: string, addresses: LookupAddress[]): string | undefined {
    for (const { address } of addresses) {
      const decision = decideAddress(this.policy, address);
      if (!decision.allowed) return `${hostname} resolves to ${decision.reason}`;
    }
    return undefined;
  }

  /** net.connect's lookup hook: Node asks with `all: true` when it tries several addresses (happy eyeballs). */
  private readonly lookup = (
    hostname: string,
    options: dns.LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    this.resolve(hostname).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        const refusal = this.refusal(hostname, all);
        if (refusal) callback(new OutboundRefusedError(refusal), '');
        else if (wanted.length === 0) callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        else if (options.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

/** The policy's refusal behind an error that fetch or a connection threw, if that is what it was. */
export function outboundRefusal(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRefusedError) return e.message;
  }
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
