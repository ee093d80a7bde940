import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * The 4xx answers a newcomer meets first while copying the docs' curl commands, each saying what to send instead:
 * a body without `content-type: application/json` (what `curl -d` sends by default), and an Authorization header
 * whose key is missing (an unset shell variable), lacks its scheme, or whose scheme is spelled in lower case (which
 * RFC 7235 allows, so it is accepted).
 */
const ADMIN = 'weft_newcomer_errors_admin_key_0123456789';
let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await startTestApp({ WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN });
  const { ApiKeysService } = await import('../../src/auth/api-keys.service.js');
  await t.app.get(ApiKeysService).ensureAdminKey(ADMIN, '/tmp');
  base = await t.listen();
});
afterAll(async () => {
  await t.close();
});

const DAG = JSON.stringify({ dagId: 'newcomer', tasks: [{ taskId: 'a', type: 'noop' }] });

async function post(headers: Record<string, string>, body = DAG): Promise<{ status: number; body: any }> {
  // Real HTTP, as curl sends it (inject() would not go through the same content-type handling).
  const res = await fetch(`${base}/api/v1/dags`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

describe('a body that is not declared as JSON', () => {
  it("answers 415 naming the content type and the header to send, with curl's flag for curl's default", async () => {
    const form = await post({ authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' });
    expect(form).toEqual({
      status: 415,
      body: {
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: "content type 'application/x-www-form-urlencoded' is not supported: send the body as JSON with Content-Type: application/json (with curl: -H 'content-type: application/json')",
      },
    });
    const text = await post({ authorization: `Bearer ${ADMIN}`, 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.message).toBe("content type 'text/plain' is not supported: send the body as JSON with Content-Type: application/json");
    // Nothing was registered.
    const get = await fetch(`${base}/api/v1/dags/newcomer`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(get.status).toBe(404);
  });
});

describe('the Authorization header', () => {
  it('takes the Bearer scheme in any case', async () => {
    const res = await post({ authorization: `bearer ${ADMIN}`, 'content-type': 'application/json' });
    expect(res.status).toBe(201);
  });

  it('says what is wrong when the key is missing, has no scheme, or comes with another scheme', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing API key: send Authorization: Bearer <key>'],
      // `-H "authorization: Bearer $WEFT_KEY"` with WEFT_KEY unset.
      [{ authorization: 'Bearer ' }, "missing API key: the Authorization header has no key after 'Bearer' (is the variable meant to hold it empty?): send Authorization: Bearer <key>"],
      [{ authorization: ADMIN }, 'the Authorization header holds a key without its scheme: send Authorization: Bearer <key>'],
      [{ authorization: 'Basic YWRtaW46YWRtaW4=' }, "the Authorization header uses the scheme 'Basic', which Weft does not take: send Authorization: Bearer <key>"],
    ];
    for (const [headers, message] of cases) {
      const res = await fetch(`${base}/api/v1/dags`, { headers });
      expect({ headers, status: res.status, body: await res.json() }).toEqual({ headers, status: 401, body: { statusCode: 401, error: 'Unauthorized', message } });
    }
  });
});

describe("Airflow's field names", () => {
  it('are refused with the field Weft spells them as, each at its own path', async () => {
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    expect([200, 201]).toContain((await post(headers)).status);
    const res = await fetch(`${base}/api/v1/dags/newcomer/dagRuns`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ dag_run_id: 'first', logical_date: '2024-01-15T06:00:00Z', conf: {} }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { details: unknown }).details).toEqual([
      { path: 'dag_run_id', message: "unknown field 'dag_run_id' (did you mean 'runId'?)" },
      { path: 'logical_date', message: "unknown field 'logical_date' (did you mean 'logicalDate'?)" },
    ]);
  });
});
