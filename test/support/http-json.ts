/**
 * A JSON call to a service under test over real HTTP (fetch): the body sent as JSON, the answer parsed, anything
 * from 300 up thrown with its method, path, status and body. `base` is read at each call (a test may only learn its
 * service's URL in beforeAll); `key`, when given, goes as a Bearer token.
 */
export function jsonCaller(base: () => string, key?: string) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}
