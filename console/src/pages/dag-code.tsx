import { diffLines } from 'diff';
import { useMemo, useState } from 'preact/hooks';
import { gql } from '../lib/api';
import { fmtTime } from '../lib/format';
import { ErrorBox, Field, Loading, useAsync } from '../lib/ui';

type Version = { version: number; contentHash: string; createdAt: string; document: unknown };

const VERSIONS = `query Versions($d: ID!) { dag(dagId: $d) { versions(limit: 50) { totalEntries items { version contentHash createdAt document } } } }`;

const text = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

/** The DAG document of a version, and a line diff between any two versions (jsdiff). */
export function DagCode({ dagId, latest }: { dagId: string; latest: number }) {
  const { data, error } = useAsync(() => gql<{ dag: { versions: { totalEntries: number; items: Version[] } } }>(VERSIONS, { d: dagId }), [dagId, latest]);
  const [shown, setShown] = useState<number | null>(null);
  const [against, setAgainst] = useState<number | null>(null);
  const versions = data?.dag.versions.items ?? [];
  const current = versions.find((v) => v.version === shown) ?? versions[0];
  const base = versions.find((v) => v.version === against) ?? null;
  const parts = useMemo(() => (current && base ? diffLines(text(base.document), text(current.document)) : null), [current, base]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="versions" />;
  return (
    <div class="code">
      <div class="filters">
        <Field label="Version">
          <select name="version" value={current?.version} onChange={(e) => setShown(Number(e.currentTarget.value))}>
            {versions.map((v) => (
              <option value={v.version}>
                v{v.version} · {fmtTime(v.createdAt)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Compare with">
          <select name="against" value={against ?? ''} onChange={(e) => setAgainst(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
            <option value="">(no comparison)</option>
            {versions
              .filter((v) => v.version !== current?.version)
              .map((v) => (
                <option value={v.version}>v{v.version}</option>
              ))}
          </select>
        </Field>
      </div>
      {current ? (
        <p class="muted small">
          v{current.version}, content hash <code>{current.contentHash.slice(0, 12)}</code>
          {data.dag.versions.totalEntries > versions.length ? ` (the newest ${versions.length} of ${data.dag.versions.totalEntries} versions)` : ''}
        </p>
      ) : null}
      {parts && base && current ? (
        <pre class="diff" aria-label={`Changes from v${base.version} to v${current.version}`}>
          {parts.map((p) => (
            <span class={p.added ? 'add' : p.removed ? 'del' : undefined}>
              {p.value
                .replace(/\n$/, '')
                .split('\n')
                .map((l) => `${p.added ? '+ ' : p.removed ? '- ' : '  '}${l}\n`)
                .join('')}
            </span>
          ))}
        </pre>
      ) : current ? (
        <pre class="json">{text(current.document)}</pre>
      ) : null}
    </div>
  );
}
