// A Prisma 6 migration-aware driver adapter over PGlite (PostgreSQL compiled to wasm), used only as the
// throw-away shadow database of `prisma migrate diff --from-migrations`. There is no official
// @prisma/adapter-pglite for Prisma 6.19, and the community one fires `exec` without awaiting it (a failing
// migration would go unnoticed), so this is a small adapter of our own.
//
// Values are converted exactly as @prisma/adapter-pg 6.19.3 converts them (its fieldToColumnType and custom
// parsers, Apache-2.0, over pg's own pg-types), so the schema engine reads the same thing it reads from a
// real server: PGlite is asked for the raw text of every column and the pg conversion is applied here.
//
// Snags handled (docs/database.md): PGlite is opened lazily, on the first query, and only once per process;
// multi-statement scripts (the engine sends each migration file as one parameterless query) go through `exec`,
// the simple protocol, never split on ';'; its single connection is guarded so that a transaction is not
// interleaved with other queries; `name`/`"char"` catalog columns are mapped (adapter-pg 6.19.3 rejects them).
// WEFT_MIGRATE_DEBUG=1 traces connections and queries on stderr.
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { ColumnTypeEnum, DriverAdapterError } from '@prisma/driver-adapter-utils';
import pgTypes from 'pg-types';
import { parse as parseArray } from 'postgres-array';

const ADAPTER_NAME = 'weft-pglite-shadow';
const trace = process.env.WEFT_MIGRATE_DEBUG ? (...a) => console.error('[pglite-adapter]', ...a) : () => {};
const FIRST_NORMAL_OBJECT_ID = 16384;

// ---- conversion, as in @prisma/adapter-pg 6.19.3 (src/conversion.ts) ----
const ScalarColumnType = pgTypes.builtins;
const ArrayColumnType = {
  BIT_ARRAY: 1561,
  BOOL_ARRAY: 1000,
  BYTEA_ARRAY: 1001,
  BPCHAR_ARRAY: 1014,
  CHAR_ARRAY: 1002,
  CIDR_ARRAY: 651,
  DATE_ARRAY: 1182,
  FLOAT4_ARRAY: 1021,
  FLOAT8_ARRAY: 1022,
  INET_ARRAY: 1041,
  INT2_ARRAY: 1005,
  INT4_ARRAY: 1007,
  INT8_ARRAY: 1016,
  JSONB_ARRAY: 3807,
  JSON_ARRAY: 199,
  MONEY_ARRAY: 791,
  NUMERIC_ARRAY: 1231,
  OID_ARRAY: 1028,
  TEXT_ARRAY: 1009,
  TIMESTAMP_ARRAY: 1115,
  TIMESTAMPTZ_ARRAY: 1185,
  TIME_ARRAY: 1183,
  UUID_ARRAY: 2951,
  VARBIT_ARRAY: 1563,
  VARCHAR_ARRAY: 1015,
  XML_ARRAY: 143,
};

const CatalogType = {
  CHAR: 18,
  NAME: 19,
  INT2VECTOR: 22,
  REGPROC: 24,
  OIDVECTOR: 30,
  PG_NODE_TREE: 194,
  NAME_ARRAY: 1003,
  REGCLASS: 2205,
  REGTYPE: 2206,
};

function fieldToColumnType(oid) {
  switch (oid) {
    case ScalarColumnType.INT2:
    case ScalarColumnType.INT4:
      return ColumnTypeEnum.Int32;
    case ScalarColumnType.INT8:
    case ScalarColumnType.OID:
      return ColumnTypeEnum.Int64;
    case ScalarColumnType.FLOAT4:
      return ColumnTypeEnum.Float;
    case ScalarColumnType.FLOAT8:
      return ColumnTypeEnum.Double;
    case ScalarColumnType.BOOL:
      return ColumnTypeEnum.Boolean;
    case ScalarColumnType.DATE:
      return ColumnTypeEnum.Date;
    case ScalarColumnType.TIME:
    case ScalarColumnType.TIMETZ:
      return ColumnTypeEnum.Time;
    case ScalarColumnType.TIMESTAMP:
    case ScalarColumnType.TIMESTAMPTZ:
      return ColumnTypeEnum.DateTime;
    case ScalarColumnType.NUMERIC:
    case ScalarColumnType.MONEY:
      return ColumnTypeEnum.Numeric;
    case ScalarColumnType.JSON:
    case ScalarColumnType.JSONB:
      return ColumnTypeEnum.Json;
    case ScalarColumnType.UUID:
      return ColumnTypeEnum.Uuid;
    case ScalarColumnType.BPCHAR:
    case ScalarColumnType.TEXT:
    case ScalarColumnType.VARCHAR:
    case ScalarColumnType.BIT:
    case ScalarColumnType.VARBIT:
    case ScalarColumnType.INET:
    case ScalarColumnType.CIDR:
    case ScalarColumnType.XML:
      return ColumnTypeEnum.Text;
    case ScalarColumnType.BYTEA:
      return ColumnTypeEnum.Bytes;
    // Catalog types that the schema engine's describe queries return (adapter-pg 6.19.3 lacks them: with it the
    // wasm engine fails on "Column type 'name' could not be deserialized"). Their text form is the value.
    case CatalogType.NAME:
    case CatalogType.INT2VECTOR:
    case CatalogType.OIDVECTOR:
    case CatalogType.REGPROC:
    case CatalogType.PG_NODE_TREE:
    case CatalogType.REGCLASS:
    case CatalogType.REGTYPE:
      return ColumnTypeEnum.Text;
    case CatalogType.CHAR:
      return ColumnTypeEnum.Character;
    case CatalogType.NAME_ARRAY:
      return ColumnTypeEnum.TextArray;
    case ArrayColumnType.INT2_ARRAY:
    case ArrayColumnType.INT4_ARRAY:
      return ColumnTypeEnum.Int32Array;
    case ArrayColumnType.FLOAT4_ARRAY:
      return ColumnTypeEnum.FloatArray;
    case ArrayColumnType.FLOAT8_ARRAY:
      return ColumnTypeEnum.DoubleArray;
    case ArrayColumnType.NUMERIC_ARRAY:
    case ArrayColumnType.MONEY_ARRAY:
      return ColumnTypeEnum.NumericArray;
    case ArrayColumnType.BOOL_ARRAY:
      return ColumnTypeEnum.BooleanArray;
    case ArrayColumnType.CHAR_ARRAY:
      return ColumnTypeEnum.CharacterArray;
    case ArrayColumnType.BPCHAR_ARRAY:
    case ArrayColumnType.TEXT_ARRAY:
    case ArrayColumnType.VARCHAR_ARRAY:
    case ArrayColumnType.VARBIT_ARRAY:
    case ArrayColumnType.BIT_ARRAY:
    case ArrayColumnType.INET_ARRAY:
    case ArrayColumnType.CIDR_ARRAY:
    case ArrayColumnType.XML_ARRAY:
      return ColumnTypeEnum.TextArray;
    case ArrayColumnType.DATE_ARRAY:
      return ColumnTypeEnum.DateArray;
    case ArrayColumnType.TIME_ARRAY:
      return ColumnTypeEnum.TimeArray;
    case ArrayColumnType.TIMESTAMP_ARRAY:
    case ArrayColumnType.TIMESTAMPTZ_ARRAY:
      return ColumnTypeEnum.DateTimeArray;
    case ArrayColumnType.JSON_ARRAY:
    case ArrayColumnType.JSONB_ARRAY:
      return ColumnTypeEnum.JsonArray;
    case ArrayColumnType.BYTEA_ARRAY:
      return ColumnTypeEnum.BytesArray;
    case ArrayColumnType.UUID_ARRAY:
      return ColumnTypeEnum.UuidArray;
    case ArrayColumnType.INT8_ARRAY:
    case ArrayColumnType.OID_ARRAY:
      return ColumnTypeEnum.Int64Array;
    default:
      if (oid >= FIRST_NORMAL_OBJECT_ID) return ColumnTypeEnum.Text;
      throw new DriverAdapterError({ kind: 'UnsupportedNativeDataType', type: `oid ${oid}` });
  }
}

const identity = (x) => x;
const normalizeArray = (element) => (str) => parseArray(str, element);
const normalizeTimestamp = (time) => `${time.replace(' ', 'T')}+00:00`;
const normalizeTimestamptz = (time) => time.replace(' ', 'T').replace(/[+-]\d{2}(:\d{2})?$/, '+00:00');
const normalizeTimetz = (time) => time.replace(/[+-]\d{2}(:\d{2})?$/, '');
const normalizeMoney = (money) => money.slice(1);
const encodeBuffer = (buffer) => Array.from(new Uint8Array(buffer));
const parsePgBytes = pgTypes.getTypeParser(ScalarColumnType.BYTEA, 'text');
const parseBytesArray = pgTypes.getTypeParser(ArrayColumnType.BYTEA_ARRAY, 'text');

const customParsers = {
  [ScalarColumnType.NUMERIC]: identity,
  [ArrayColumnType.NUMERIC_ARRAY]: normalizeArray(identity),
  [ScalarColumnType.TIME]: identity,
  [ArrayColumnType.TIME_ARRAY]: normalizeArray(identity),
  [ScalarColumnType.TIMETZ]: normalizeTimetz,
  [ScalarColumnType.DATE]: identity,
  [ArrayColumnType.DATE_ARRAY]: normalizeArray(identity),
  [ScalarColumnType.TIMESTAMP]: normalizeTimestamp,
  [ArrayColumnType.TIMESTAMP_ARRAY]: normalizeArray(normalizeTimestamp),
  [ScalarColumnType.TIMESTAMPTZ]: normalizeTimestamptz,
  [ArrayColumnType.TIMESTAMPTZ_ARRAY]: normalizeArray(normalizeTimestamptz),
  [ScalarColumnType.MONEY]: normalizeMoney,
  [ArrayColumnType.MONEY_ARRAY]: normalizeArray(normalizeMoney),
  [ScalarColumnType.JSON]: identity,
  [ArrayColumnType.JSON_ARRAY]: normalizeArray(identity),
  [ScalarColumnType.JSONB]: identity,
  [ArrayColumnType.JSONB_ARRAY]: normalizeArray(identity),
  [ScalarColumnType.BYTEA]: (s) => encodeBuffer(parsePgBytes(s)),
  [ArrayColumnType.BYTEA_ARRAY]: (s) => parseBytesArray(s).map((b) => (b ? encodeBuffer(b) : null)),
  [ArrayColumnType.BIT_ARRAY]: normalizeArray(identity),
  [ArrayColumnType.VARBIT_ARRAY]: normalizeArray(identity),
  [ArrayColumnType.XML_ARRAY]: normalizeArray(identity),
  [CatalogType.NAME_ARRAY]: normalizeArray(identity),
};

/** The value pg + @prisma/adapter-pg would hand to the engine for this column's text. */
function textParser(oid) {
  return customParsers[oid] ?? pgTypes.getTypeParser(oid, 'text');
}

function formatDateTime(date) {
  const pad = (n, z = 2) => String(n).padStart(z, '0');
  const ms = date.getUTCMilliseconds();
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    (ms ? `.${String(ms).padStart(3, '0')}` : '')
  );
}

function mapArg(arg, argType) {
  if (arg === null || arg === undefined) return null;
  if (Array.isArray(arg) && argType?.arity === 'list') return arg.map((v) => mapArg(v, argType));
  if (typeof arg === 'string' && argType?.scalarType === 'datetime') arg = new Date(arg);
  if (arg instanceof Date) {
    const full = formatDateTime(arg);
    if (argType?.dbType === 'DATE') return full.slice(0, 10);
    if (argType?.dbType === 'TIME' || argType?.dbType === 'TIMETZ') return full.slice(11);
    return full;
  }
  if (typeof arg === 'string' && argType?.scalarType === 'bytes') return Buffer.from(arg, 'base64');
  if (Array.isArray(arg) && argType?.scalarType === 'bytes') return Buffer.from(arg);
  if (ArrayBuffer.isView(arg)) return new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength);
  return arg;
}

function toDriverError(error) {
  if (error && typeof error.code === 'string' && typeof error.severity === 'string') {
    return new DriverAdapterError({
      kind: 'postgres',
      code: error.code,
      severity: error.severity,
      message: error.message,
      detail: error.detail,
      column: error.column,
      hint: error.hint,
      originalCode: error.code,
      originalMessage: error.message,
    });
  }
  return error;
}

// ---- the one PGlite of this process ----
// PGlite is opened lazily, by the first query (not by connect() nor at config load), and there is one instance
// per process (each costs a second or more of start-up and a few hundred MB), shared by the main and the shadow
// connection. That suits `migrate diff`: the CLI only probes the main connection's version, then the shadow one
// is wiped (connectToShadowDb) and gets the migrations. It is closed when the shadow is disposed, because its
// postgres arms a 10 s interval timer that would otherwise keep the CLI alive ~10 s after printing the diff.
let dbPromise = null;
let dirty = false;
let liveShadows = 0;

function pglite() {
  dbPromise ??= (async () => {
    trace('open');
    const db = new PGlite(); // in memory: nothing to clean up on disk
    await db.waitReady;
    dirty = false;
    return db;
  })();
  return dbPromise;
}

/**
 * Parser options that make PGlite hand back the raw text of every column (its own parsers turn timestamps into
 * Date, int8 into number, arrays into arrays, ...); queryRaw then converts as pg would. Rebuilt per query, since
 * PGlite registers parsers for array types that DDL creates.
 */
function rawParsers(db) {
  const raw = {};
  for (const oid of Object.keys({ ...pgliteTypes.parsers, ...db.parsers })) {
    if (/^\d+$/.test(oid)) raw[oid] = identity;
  }
  return raw;
}

async function closePglite() {
  if (!dbPromise) return;
  const db = await dbPromise;
  dbPromise = null;
  trace('close');
  await db.close();
}

/** Drops everything an earlier connection created, so that a shadow database always starts empty. */
async function wipe(db) {
  const { rows } = await db.query(
    `SELECT nspname FROM pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
       AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`,
    [],
    { rowMode: 'array', parsers: rawParsers(db) },
  );
  const drops = rows.map(([n]) => `DROP SCHEMA "${n.replaceAll('"', '""')}" CASCADE;`).join('\n');
  await db.exec(`${drops}\nCREATE SCHEMA public;`);
  dirty = false;
}

/** PGlite has a single connection: a transaction holds it until COMMIT/ROLLBACK, other queries wait. */
class Lock {
  #tail = Promise.resolve();
  acquire() {
    let release;
    const next = new Promise((r) => (release = r));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}
const lock = new Lock();

class Queryable {
  provider = 'postgres';
  adapterName = ADAPTER_NAME;

  async queryRaw(query) {
    const { fields, rows } = await this.performIO(query);
    const columnTypes = fields.map((f) => fieldToColumnType(f.dataTypeID));
    const parsers = fields.map((f) => textParser(f.dataTypeID));
    for (const row of rows) {
      for (let i = 0; i < row.length; i++) {
        if (row[i] !== null) row[i] = parsers[i](row[i]);
      }
    }
    return { columnNames: fields.map((f) => f.name), columnTypes, rows };
  }

  async executeRaw(query) {
    return (await this.performIO(query)).affectedRows ?? 0;
  }

  /** Runs on the connection; the caller holds the lock. */
  async run(query) {
    trace(this.role ?? 'tx', query.sql.replace(/\s+/g, ' ').slice(0, 100));
    const db = await pglite();
    dirty = true;
    const options = { rowMode: 'array', parsers: rawParsers(db) };
    try {
      if (query.args.length === 0) {
        // The engine applies each migration file as one raw query without parameters; the extended protocol
        // (PGlite's `query`) refuses several commands in one statement, the simple protocol (`exec`) runs them.
        const results = await db.exec(query.sql, options);
        const last = results.at(-1) ?? { rows: [], fields: [] };
        const affectedRows = results.reduce((n, r) => n + (r.affectedRows ?? 0), 0);
        return { rows: last.rows, fields: last.fields, affectedRows };
      }
      const values = query.args.map((arg, i) => mapArg(arg, query.argTypes?.[i]));
      return await db.query(query.sql, values, options);
    } catch (e) {
      throw toDriverError(e);
    }
  }
}

class Transaction extends Queryable {
  // As with @prisma/adapter-pg: the engine itself sends COMMIT/ROLLBACK; these only release the connection.
  options = { usePhantomQuery: false };

  constructor(release) {
    super();
    this.release = release;
  }

  performIO(query) {
    return this.run(query);
  }

  async commit() {
    this.release();
  }

  async rollback() {
    this.release();
  }
}

class Adapter extends Queryable {
  async performIO(query) {
    const release = await lock.acquire();
    try {
      return await this.run(query);
    } finally {
      release();
    }
  }

  async executeScript(script) {
    // The whole script through the simple protocol: never split on ';' (semicolons in strings or bodies).
    await this.performIO({ sql: script, args: [], argTypes: [] });
  }

  async startTransaction(isolationLevel) {
    const release = await lock.acquire();
    const tx = new Transaction(release);
    try {
      await tx.executeRaw({ sql: 'BEGIN', args: [], argTypes: [] });
      if (isolationLevel) {
        await tx.executeRaw({ sql: `SET TRANSACTION ISOLATION LEVEL ${isolationLevel}`, args: [], argTypes: [] });
      }
      return tx;
    } catch (e) {
      release();
      throw e;
    }
  }

  getConnectionInfo() {
    return { schemaName: 'public', supportsRelationJoins: true };
  }

  async dispose() {
    trace('dispose', this.role);
    if (this.role === 'shadow') liveShadows--;
    // The CLI never disposes the main connection it opened; closing on the shadow's dispose is what matters.
    if (this.role === 'main' && liveShadows > 0) return;
    const release = await lock.acquire();
    try {
      await closePglite();
    } finally {
      release();
    }
  }
}

/** SqlMigrationAwareDriverAdapterFactory for the Prisma 6 CLI (prisma.config.mjs). */
export class PgliteShadowFactory {
  provider = 'postgres';
  adapterName = ADAPTER_NAME;

  async connect() {
    trace('connect');
    return Object.assign(new Adapter(), { role: 'main' });
  }

  async connectToShadowDb() {
    trace('connectToShadowDb');
    if (dbPromise && dirty) {
      const release = await lock.acquire();
      try {
        await wipe(await pglite());
      } finally {
        release();
      }
    }
    liveShadows++;
    return Object.assign(new Adapter(), { role: 'shadow' });
  }
}
