/** What `weft start` / `weft api` tell at the end of start-up. */
export type ReadyInfo = {
  role: string;
  host: string;
  port: number;
  startupMs: number;
  home: string;
  /** `embedded PostgreSQL on 127.0.0.1:54329`, or the redacted DATABASE_URL. */
  database: string;
  /** Whether the service serves a web console at `/`. */
  console: boolean;
  admin:
    | { kind: 'created'; key: string; file: string }
    | { kind: 'file'; file: string }
    | { kind: 'seeded' }
    | { kind: 'elsewhere' }
    | { kind: 'auth-off' };
};

/** The base URL a person can open: a wildcard listen address is reached through localhost. */
export function baseUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** The URLs and places of a ready service, as fields of the structured "ready" line. */
export function readyFields(info: ReadyInfo): Record<string, string | number> {
  const url = baseUrl(info.host, info.port);
  return {
    url,
    apiDocs: `${url}/docs`,
    graphql: `${url}/graphql`,
    ...(info.console ? { console: `${url}/` } : {}),
    home: info.home,
    database: info.database,
    ...(info.admin.kind === 'created' || info.admin.kind === 'file' ? { adminKeyFile: info.admin.file } : {}),
    startupMs: info.startupMs,
  };
}

/** The closing banner for a terminal: a few aligned lines, the admin key itself only when it was just created. */
export function bannerLines(info: ReadyInfo): string[] {
  const url = baseUrl(info.host, info.port);
  const rows: [string, string][] = [];
  if (info.console) rows.push(['Console', `${url}/`]);
  rows.push(['API', `${url}/api/v1`], ['API docs', `${url}/docs`], ['GraphQL', `${url}/graphql`], ['Data', `${info.home} (${info.database})`]);
  switch (info.admin.kind) {
    case 'created':
      rows.push(['Admin key', `${info.admin.key}`], ['', `shown this once; also in ${info.admin.file} (owner-only)`]);
      break;
    case 'file':
      rows.push(['Admin key', `in ${info.admin.file}`]);
      break;
    case 'seeded':
      rows.push(['Admin key', 'the one in WEFT_ADMIN_API_KEY']);
      break;
    case 'elsewhere':
      rows.push(['Admin key', 'an admin key exists (not created by this data directory; docs/security.md)']);
      break;
    case 'auth-off':
      rows.push(['Auth', 'off (WEFT_AUTH=off): every endpoint is open to anyone who can reach this port']);
      break;
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    '',
    `Weft ${info.role} is ready (${(info.startupMs / 1000).toFixed(1)} s), listening on ${info.host}:${info.port} (HOST, PORT)`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
  ];
}
