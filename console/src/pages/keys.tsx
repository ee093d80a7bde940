import { useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtTime } from '../lib/format';
import { Dialog, ErrorBox, Field, Loading, useAction, useAsync } from '../lib/ui';

type Key = { id: string; name: string; prefix: string; role: string; queues: string[]; taskTypes: string[]; createdAt: string; lastUsedAt: string | null; revokedAt: string | null };

/** API keys (admins): create (the key is shown once), list, revoke. */
export function KeysPage() {
  const { data, error, reload } = useAsync(() => gql<{ apiKeys: { items: Key[] } }>(`query { apiKeys(limit: 1000) { items { id name prefix role queues taskTypes createdAt lastUsedAt revokedAt } } }`), []);
  const action = useAction();
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [created, setCreated] = useState<{ name: string; key: string } | null>(null);
  return (
    <section>
      <h1>API keys</h1>
      <form
        class="filters"
        aria-label="New API key"
        onSubmit={(e) => {
          e.preventDefault();
          void action
            .run(async () => {
              const r = await gql<{ createApiKey: { name: string; key: string } }>(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { name key } }`, { input: { name: name.trim(), role } });
              setCreated(r.createApiKey);
              setName('');
            })
            .then((ok) => ok && reload());
        }}
      >
        <Field label="Name">
          <input name="keyName" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </Field>
        <Field label="Role">
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="viewer">viewer (read)</option>
            <option value="operator">operator (run control)</option>
            <option value="admin">admin</option>
            <option value="worker">worker (lease API)</option>
          </select>
        </Field>
        <button type="submit" disabled={action.busy}>
          Create key
        </button>
      </form>
      <ErrorBox error={error ?? action.error} />
      {!data ? <Loading what="API keys" /> : null}
      {data ? (
        <table class="list" aria-label="API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Role</th>
              <th scope="col">Scope</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {data.apiKeys.items.map((k) => (
              <tr data-key={k.name}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.role}</td>
                <td>{[k.queues.length ? `queues ${k.queues.join(', ')}` : '', k.taskTypes.length ? `types ${k.taskTypes.join(', ')}` : ''].filter(Boolean).join('; ') || '—'}</td>
                <td>{fmtTime(k.createdAt)}</td>
                <td>{fmtTime(k.lastUsedAt)}</td>
                <td>
                  {k.revokedAt ? (
                    `revoked ${fmtTime(k.revokedAt)}`
                  ) : (
                    <button type="button" disabled={action.busy} onClick={() => void action.run(() => gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: k.id })).then((ok) => ok && reload())}>
                      Revoke {k.name}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {created ? (
        <Dialog title={`Key “${created.name}” created`} onClose={() => setCreated(null)}>
          <p>Copy it now: it is shown only this once.</p>
          <pre class="json" aria-label="The new key">{created.key}</pre>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </Dialog>
      ) : null}
    </section>
  );
}
