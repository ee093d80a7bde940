import { useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { useSession } from '../lib/session';
import { ErrorBox, Field, Loading, useAction, useAsync } from '../lib/ui';

type Pool = { name: string; slots: number; description: string | null; runningSlots: number; queuedSlots: number; openSlots: number };

/** Pools with their occupancy; operators create pools and change slots. */
export function PoolsPage() {
  const session = useSession();
  const { data, error, reload } = useAsync(() => gql<{ pools: { items: Pool[] } }>(`query { pools(limit: 1000) { items { name slots description runningSlots queuedSlots openSlots } } }`), []);
  const action = useAction();
  const [name, setName] = useState('');
  const [slots, setSlots] = useState('1');
  return (
    <section>
      <h1>Pools</h1>
      <ErrorBox error={error ?? action.error} />
      {!data ? <Loading what="pools" /> : null}
      {data ? (
        <table class="list" aria-label="Pools">
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">Occupancy</th>
              <th scope="col">Running</th>
              <th scope="col">Queued</th>
              <th scope="col">Open</th>
              <th scope="col">Slots</th>
            </tr>
          </thead>
          <tbody>
            {data.pools.items.map((p) => (
              <tr data-pool={p.name}>
                <td>
                  {p.name}
                  {p.description ? <div class="muted small">{p.description}</div> : null}
                </td>
                <td>
                  <meter min={0} max={Math.max(1, p.slots)} value={p.runningSlots} aria-label={`${p.name}: ${p.runningSlots} of ${p.slots} slots in use`} />
                </td>
                <td>{p.runningSlots}</td>
                <td>{p.queuedSlots}</td>
                <td>{p.openSlots}</td>
                <td>
                  {session.canOperate ? (
                    <SlotsEditor pool={p} onSaved={reload} />
                  ) : (
                    p.slots
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {session.canOperate ? (
        <form
          class="filters"
          aria-label="New pool"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(() => gql(`mutation($input: CreatePoolInput!) { createPool(input: $input) { name } }`, { input: { name: name.trim(), slots: Number(slots) } })).then((ok) => ok && (setName(''), reload()));
          }}
        >
          <Field label="New pool name">
            <input name="poolName" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </Field>
          <Field label="Slots">
            <input name="poolSlots" type="number" min={0} value={slots} onInput={(e) => setSlots(e.currentTarget.value)} required />
          </Field>
          <button type="submit" disabled={action.busy}>
            Create pool
          </button>
        </form>
      ) : null}
    </section>
  );
}

function SlotsEditor({ pool, onSaved }: { pool: Pool; onSaved: () => void }) {
  const [value, setValue] = useState(String(pool.slots));
  const action = useAction();
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(() => gql(`mutation($n: String!, $input: UpdatePoolInput!) { updatePool(name: $n, input: $input) { slots } }`, { n: pool.name, input: { slots: Number(value) } })).then((ok) => ok && onSaved());
      }}
    >
      <input type="number" min={0} aria-label={`Slots of ${pool.name}`} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <button type="submit" disabled={action.busy || value === String(pool.slots)}>
        Save
      </button>
      <ErrorBox error={action.error} />
    </form>
  );
}
