import { describe, expect, it } from '@jest/globals';
import { MAX_DAG_DOCUMENT_BYTES } from './limits.js';
import { parseDagFile } from './parse-dag-file.js';

const yamlDag = `
dagId: daily_etl
schedule: "0 6 * * *"
startDate: 2024-01-01T00:00:00Z
catchup: false
defaults: &shell
  type: shell
tasks:
  - taskId: extract
    type: shell
    command: extract.sh --date {{ ds }}
  - taskId: load
    type: noop
    dependsOn: [extract]
`;

describe(parseDagFile.name, () => {
  it('reads JSON', () => {
    expect(parseDagFile('dags/a.json', '{"dagId": "a", "tasks": []}')).toEqual({ ok: true, value: { dagId: 'a', tasks: [] } });
  });

  it('names the file, line and column of a JSON syntax error', () => {
    const result = parseDagFile('dags/a.json', '{\n  "dagId": "a"\n  "tasks": []\n}');
    expect(result).toEqual({ ok: false, error: "dags/a.json:3:3: invalid JSON: Expected ',' or '}' after property value" });
  });

  it('names the file of a JSON error that carries no position', () => {
    expect(parseDagFile('a.json', '{"dagId": ')).toEqual({ ok: false, error: expect.stringMatching(/^a\.json: invalid JSON: /) });
  });

  it('reads YAML in the core schema: timestamps stay strings, booleans are booleans', () => {
    const result = parseDagFile('dags/daily.yaml', yamlDag);
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({ schedule: '0 6 * * *', startDate: '2024-01-01T00:00:00Z', catchup: false }),
    });
  });

  it('accepts .yml in any case', () => {
    expect(parseDagFile('DAG.YML', 'dagId: a').ok).toBe(true);
  });

  it('names the file and line of a YAML syntax error', () => {
    const result = parseDagFile('dags/bad.yaml', 'dagId: a\ntasks:\n  - taskId: x\n   type: shell\n');
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^dags\/bad\.yaml:4:\d+: invalid YAML: /) });
  });

  it('refuses duplicate keys', () => {
    expect(parseDagFile('a.yaml', 'dagId: a\ndagId: b\n')).toEqual({
      ok: false,
      error: expect.stringMatching(/^a\.yaml:2:1: invalid YAML: .*unique/),
    });
  });

  it('refuses more than one document per file', () => {
    expect(parseDagFile('a.yaml', 'dagId: a\n---\ndagId: b\n')).toEqual({
      ok: false,
      error: expect.stringContaining('a.yaml:2:1: invalid YAML: a YAML DAG file must contain exactly one document'),
    });
  });

  it.each(['!!python/object:os.system [rm]', '!include other.yaml', '!!binary aGVsbG8='])(
    'refuses tags outside the core schema (%p)',
    (value) => {
      const result = parseDagFile('a.yaml', `dagId: a\nparams:\n  x: ${value}\n`);
      expect(result).toEqual({ ok: false, error: expect.stringMatching(/^a\.yaml:3:\d+: invalid YAML: .*tag/i) });
    },
  );

  it('keeps the core schema even when the file declares YAML 1.1', () => {
    const result = parseDagFile('a.yaml', '%YAML 1.1\n---\nstartDate: 2024-01-01T00:00:00Z\ncatchup: yes\n');
    expect(result).toEqual({ ok: true, value: { startDate: '2024-01-01T00:00:00Z', catchup: 'yes' } });
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const result = parseDagFile('bomb.yaml', lines.join('\n'));
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^bomb\.yaml: invalid YAML: .*alias/i) });
  });

  it('refuses other file types', () => {
    expect(parseDagFile('dags/etl.py', 'x = 1')).toEqual({
      ok: false,
      error: "dags/etl.py: unsupported file type '.py'; expected .json, .yaml or .yml",
    });
    expect(parseDagFile('README', '')).toMatchObject({ ok: false, error: expect.stringContaining("unsupported file type ''") });
  });

  it('refuses a file over the size limit before parsing it', () => {
    const text = `{"pad": "${'x'.repeat(MAX_DAG_DOCUMENT_BYTES)}"}`;
    expect(parseDagFile('big.json', text)).toEqual({
      ok: false,
      error: expect.stringContaining(`big.json: file is ${MAX_DAG_DOCUMENT_BYTES + 11} bytes; the limit is`),
    });
  });
});
