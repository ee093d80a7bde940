// A keep-alive JSON client on node:http: the same client the peer HTTP floor (lease.mjs) uses, so the
// comparison measures the servers, not two different clients.
import http from 'node:http';

export function httpClient(baseUrl, { maxSockets = 64, apiKey } = {}) {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const auth = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  function request(method, path, obj) {
    const body = obj === undefined ? undefined : JSON.stringify(obj);
    const headers = body === undefined ? { ...auth } : { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: hostname, port, path, method, agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed = text;
          try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
          resolve({ status: res.statusCode, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  async function ok(method, path, obj) {
    const r = await request(method, path, obj);
    if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body;
  }
  return {
    request,
    ok,
    post: (path, obj) => request('POST', path, obj),
    close: () => agent.destroy(),
  };
}

/** The Weft API calls the workloads use. */
export function weftApi(baseUrl, opts) {
  const h = httpClient(baseUrl, opts);
  return {
    ...h,
    registerDag: (doc) => h.ok('POST', '/api/v1/dags', doc),
    setPoolSlots: (name, slots) => h.ok('PATCH', `/api/v1/pools/${name}`, { slots }),
    trigger: (dagId, body = {}) => h.ok('POST', `/api/v1/dags/${dagId}/dagRuns`, body),
    lease: async (workerId, body) => {
      const r = await h.post(`/api/v1/workers/${workerId}/lease`, body);
      if (r.status !== 200) throw new Error(`lease -> ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.leases;
    },
    complete: async (leaseId, body = { status: 'success' }) => {
      const r = await h.post(`/api/v1/leases/${leaseId}/complete`, body);
      if (r.status !== 200) throw new Error(`complete -> ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
  };
}
