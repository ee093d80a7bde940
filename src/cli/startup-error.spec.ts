import { describe, expect, it } from '@jest/globals';
import { startupErrorLine } from './startup-error.js';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5499'), { code: 'ECONNREFUSED' });

describe(startupErrorLine.name, () => {
  it('names the database and DATABASE_URL when the database cannot be reached', () => {
    expect(startupErrorLine(refused, 'postgresql://weft:***@db:5499/weft', true)).toBe(
      'cannot reach the database at postgresql://weft:***@db:5499/weft (DATABASE_URL): connect ECONNREFUSED 127.0.0.1:5499; start PostgreSQL there, or set DATABASE_URL to one that runs',
    );
    expect(startupErrorLine(refused, 'embedded PostgreSQL on 127.0.0.1:54329', false)).toBe(
      'cannot reach the embedded PostgreSQL on 127.0.0.1:54329: connect ECONNREFUSED 127.0.0.1:5499',
    );
  });

  it('leaves any other error as it is', () => {
    expect(startupErrorLine(new Error('migration 2024_x failed'), 'postgresql://db/weft', true)).toBe('migration 2024_x failed');
  });
});
