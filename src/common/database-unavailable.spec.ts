import { describe, expect, it } from '@jest/globals';
import { isDatabaseUnavailable } from './database-unavailable.js';

describe(isDatabaseUnavailable.name, () => {
  it.each([
    ['a refused socket', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['an aggregate of refused sockets (IPv4 and IPv6)', Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]), {})],
    ['a server shutting down', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a server starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['a connection exception', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['a read-only database (failover)', Object.assign(new Error('cannot execute SELECT FOR UPDATE in a read-only transaction'), { code: '25006' })],
    ['a read-only database through Prisma', Object.assign(new Error('x'), { meta: { driverAdapterError: { cause: { kind: 'postgres', code: '25006' } } } })],
    ['a lock timeout', Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' })],
    ['a statement timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })],
    ['an idle-in-transaction timeout', Object.assign(new Error('terminating connection due to idle-in-transaction timeout'), { code: '25P03' })],
    ['a deadlock', Object.assign(new Error('deadlock detected'), { code: '40P01' })],
    ['a dropped connection (pg)', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout (pg)', new Error('timeout exceeded when trying to connect')],
    ['Prisma: server unreachable', Object.assign(new Error("Can't reach database server"), { code: 'P1001' })],
    ['a driver adapter error', Object.assign(new Error('x'), { cause: { kind: 'DatabaseNotReachable' } })],
    ['a pg error wrapped by graphql-js (NonErrorThrown)', Object.assign(new Error('Unexpected error value'), { thrownValue: { code: 'ECONNREFUSED' } })],
    ['a wrapped adapter error', Object.assign(new Error('x'), { meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } } })],
  ])('recognises %s', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('duplicate key'), { code: '23505' })],
    ['a syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
    ['a plain bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('leaves %s alone', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
