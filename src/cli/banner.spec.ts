import { describe, expect, it } from '@jest/globals';
import { bannerLines, baseUrl, readyFields, type ReadyInfo } from './banner.js';

const info = (admin: ReadyInfo['admin'], over: Partial<ReadyInfo> = {}): ReadyInfo => ({
  role: 'start',
  host: '127.0.0.1',
  port: 8080,
  startupMs: 2840,
  home: '/home/ada/.weft',
  database: 'embedded PostgreSQL on 127.0.0.1:54329',
  console: false,
  admin,
  ...over,
});

describe('banner', () => {
  it('shows the key itself only when it was just created, and says where the file is', () => {
    const first = bannerLines(info({ kind: 'created', key: 'weft_secret', file: '/home/ada/.weft/admin-api-key' })).join('\n');
    expect(first).toContain('weft_secret');
    expect(first).toContain('/home/ada/.weft/admin-api-key');
    const later = bannerLines(info({ kind: 'file', file: '/home/ada/.weft/admin-api-key' })).join('\n');
    expect(later).not.toContain('weft_');
    expect(later).toMatch(/Admin key +in \/home\/ada\/\.weft\/admin-api-key/);
  });

  it('lists the API, its docs, GraphQL and the data directory, aligned', () => {
    const lines = bannerLines(info({ kind: 'seeded' }));
    expect(lines).toEqual([
      '',
      'Weft start is ready (2.8 s), listening on 127.0.0.1:8080 (HOST, PORT)',
      '  API        http://127.0.0.1:8080/api/v1',
      '  API docs   http://127.0.0.1:8080/docs',
      '  GraphQL    http://127.0.0.1:8080/graphql',
      '  Data       /home/ada/.weft (embedded PostgreSQL on 127.0.0.1:54329)',
      '  Admin key  the one in WEFT_ADMIN_API_KEY',
      '',
    ]);
  });

  it('adds the console when there is one and warns when authentication is off', () => {
    const text = bannerLines(info({ kind: 'auth-off' }, { console: true })).join('\n');
    expect(text).toMatch(/Console +http:\/\/127\.0\.0\.1:8080\//);
    expect(text).toMatch(/WEFT_AUTH=off/);
  });

  it('shows a wildcard listen address as localhost, an IPv6 one in brackets', () => {
    expect(baseUrl('0.0.0.0', 8080)).toBe('http://localhost:8080');
    expect(baseUrl('::', 8080)).toBe('http://localhost:8080');
    expect(baseUrl('::1', 9000)).toBe('http://[::1]:9000');
  });

  it('gives the same places as fields of the structured ready line, never the key', () => {
    const fields = readyFields(info({ kind: 'created', key: 'weft_secret', file: '/k' }));
    expect(fields).toEqual({
      url: 'http://127.0.0.1:8080',
      apiDocs: 'http://127.0.0.1:8080/docs',
      graphql: 'http://127.0.0.1:8080/graphql',
      home: '/home/ada/.weft',
      database: 'embedded PostgreSQL on 127.0.0.1:54329',
      adminKeyFile: '/k',
      startupMs: 2840,
    });
  });
});
