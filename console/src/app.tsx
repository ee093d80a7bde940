import { useCallback, useEffect, useState } from 'preact/hooks';
import { describeError, gql, setUnauthenticatedHandler, storedKey, storeKey } from './lib/api';
import { liveStatus, resetLive } from './lib/live';
import { href, useRoute, type Route } from './lib/router';
import { SessionContext, sessionOf, useSession, type Principal, type Session } from './lib/session';
import { useSignal } from './lib/signal';
import { ErrorBox, Field } from './lib/ui';
import { AuditPage } from './pages/audit';
import { BackfillPage, BackfillsPage } from './pages/backfills';
import { DagPage } from './pages/dag';
import { DagsPage } from './pages/dags';
import { KeysPage } from './pages/keys';
import { PoolsPage } from './pages/pools';
import { RunPage } from './pages/run';
import { SlaPage } from './pages/sla';
import { TaskPage } from './pages/task';
import { WorkersPage } from './pages/workers';

const WHOAMI = `query { whoami { authEnabled role name prefix } }`;

export function App() {
  const [principal, setPrincipal] = useState<Principal | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((message?: string) => {
    storeKey(null);
    resetLive();
    setPrincipal(null);
    setNotice(message ?? null);
  }, []);

  const identify = useCallback(async () => {
    setChecking(true);
    try {
      const { whoami } = await gql<{ whoami: Principal }>(WHOAMI);
      setPrincipal(whoami);
      setNotice(null);
    } catch (err) {
      // With WEFT_AUTH=on and no (valid) key yet: the sign-in form.
      setPrincipal(null);
      if (storedKey()) {
        storeKey(null);
        setNotice(describeError(err));
      }
    } finally {
      setChecking(false);
    }
  }, []);

  useEffect(() => {
    setUnauthenticatedHandler((message) => signOut(`Signed out: ${message}`));
    void identify();
  }, [identify, signOut]);

  if (checking && !principal) return <p class="muted pad">Connecting to Weft…</p>;
  if (!principal) return <SignIn notice={notice} onKey={(key) => (storeKey(key), void identify())} />;
  return (
    <SessionContext.Provider value={sessionOf(principal, () => signOut())}>
      <Shell />
    </SessionContext.Provider>
  );
}

function SignIn({ notice, onKey }: { notice: string | null; onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <main class="signin">
      <h1>Weft</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (key.trim()) onKey(key.trim());
        }}
      >
        <Field label="API key" hint="Kept in this browser tab only, until you sign out or close it.">
          <input type="password" name="apiKey" autoComplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
        </Field>
        <ErrorBox error={notice} />
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

function Shell() {
  const route = useRoute();
  const session = useSession();
  const live = useSignal(liveStatus);
  const { principal } = session;
  const nav: [string, string, Route['page'][]][] = [
    ['DAGs', href.dags(), ['dags', 'dag', 'run', 'task']],
    ['Backfills', href.backfills(), ['backfills', 'backfill']],
    ['Pools', '#/pools', ['pools']],
    ['SLA misses & alerts', '#/sla', ['sla']],
    ['Workers', '#/workers', ['workers']],
  ];
  if (session.isAdmin) nav.push(['Audit log', '#/audit', ['audit']], ['API keys', '#/keys', ['keys']]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.dags()}>
          Weft
        </a>
        <nav aria-label="Main">
          {nav.map(([label, to, pages]) => (
            <a href={to} aria-current={pages.includes(route.page) ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class={`live live-${live}`} role="status" title="Live updates over the GraphQL subscription connection">
          {live === 'live' ? '● live' : live === 'reconnecting' ? '○ reconnecting' : '○ idle'}
        </span>
        <span class="who" data-role={principal.role}>
          {principal.authEnabled ? `${principal.name ?? principal.prefix} (${principal.role})` : 'authentication off'}
        </span>
        {principal.authEnabled ? (
          <button type="button" onClick={session.signOut}>
            Sign out
          </button>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'dags':
      // Keyed by the hash: following a link to the list (even from the list) loads it afresh.
      return <DagsPage key={window.location.hash} />;
    case 'dag':
      return <DagPage key={route.dagId} dagId={route.dagId} tab={route.tab} />;
    case 'run':
      return <RunPage key={`${route.dagId}/${route.runId}`} dagId={route.dagId} runId={route.runId} />;
    case 'task':
      return <TaskPage key={`${route.dagId}/${route.runId}/${route.taskId}/${route.mapIndex}`} dagId={route.dagId} runId={route.runId} taskId={route.taskId} mapIndex={route.mapIndex} />;
    case 'backfills':
      return <BackfillsPage />;
    case 'backfill':
      return <BackfillPage key={route.id} id={route.id} />;
    case 'pools':
      return <PoolsPage />;
    case 'sla':
      return <SlaPage />;
    case 'workers':
      return <WorkersPage />;
    case 'audit':
      return <AuditPage />;
    case 'keys':
      return <KeysPage />;
    case 'missing':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing at <code>{route.path}</code>. <a href={href.dags()}>Back to the DAGs</a>.
          </p>
        </section>
      );
  }
}

export type { Session };
