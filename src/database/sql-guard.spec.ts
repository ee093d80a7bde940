import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

/**
 * Guard: no SQL text is built from values. Every `.query(…)`, `.$queryRawUnsafe(…)` and `.$executeRawUnsafe(…)`
 * in src/ must take SQL that is a literal, or a template whose `${…}` parts are SCREAMING_CASE constants (column
 * lists, channel names) — values travel as bind parameters ($1, $2…). The few places that run SQL text by design
 * are listed below with the reason; anything else fails this test with its file and line.
 */
const ALLOWED: Record<string, string> = {
  'src/database/migrator.ts': 'runs the committed migration files (reviewed SQL from the repository, checksummed)',
  'src/worker/executors/sql.executor.ts': "executes a sql task's own statement on the task's connection: that is the task",
  'src/database/pg-listener.service.ts': 'LISTEN takes no parameters: channel names come from constants and must match /^[a-z_][a-z0-9_]*$/ (checked in listen())',
};

/** Pass-through helpers (`file#method`) that forward SQL text; their callers pass literals. */
const ALLOWED_FORWARDERS: Record<string, string> = {
  'src/retention/retention.repository.ts#exec': 'runs one of the literal DELETE statements of the same class with its parameters',
};

const SQL_METHODS = new Set(['query', '$queryRawUnsafe', '$executeRawUnsafe']);
const CONSTANT = /^[A-Z][A-Z0-9_]*$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : files(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A `${…}` part that cannot carry a value: a constant name, or a property of one (TABLES.runs). */
function isConstant(expr: ts.Expression): boolean {
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr) || ts.isNumericLiteral(expr)) return true;
  if (ts.isIdentifier(expr)) return CONSTANT.test(expr.text);
  if (ts.isPropertyAccessExpression(expr)) return isConstant(expr.expression);
  // `${lock ? 'FOR UPDATE' : ''}`: a choice between fixed texts.
  if (ts.isConditionalExpression(expr)) return isConstant(expr.whenTrue) && isConstant(expr.whenFalse);
  // `${columns(RUN_FIELDS, 'r')}`: a function of constants only.
  if (ts.isCallExpression(expr)) return ts.isIdentifier(expr.expression) && expr.arguments.every(isConstant);
  if (ts.isParenthesizedExpression(expr)) return isConstant(expr.expression);
  return false;
}

function enclosingFunction(node: ts.Node): string | undefined {
  for (let n: ts.Node | undefined = node.parent; n; n = n.parent) {
    if ((ts.isMethodDeclaration(n) || ts.isFunctionDeclaration(n)) && n.name) return n.name.getText();
  }
  return undefined;
}

/** Why this SQL argument may be built from values, or null when it cannot be. */
function unsafe(arg: ts.Expression, consts: Map<string, ts.Expression>): string | null {
  if (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)) return null;
  if (ts.isTemplateExpression(arg)) {
    const bad = arg.templateSpans.find((s) => !isConstant(s.expression) && !(ts.isIdentifier(s.expression) && consts.has(s.expression.text) && unsafe(consts.get(s.expression.text)!, consts) === null));
    return bad ? `interpolates \`\${${bad.expression.getText()}}\`` : null;
  }
  if (ts.isIdentifier(arg)) {
    if (CONSTANT.test(arg.text)) return null;
    const init = consts.get(arg.text);
    return init ? unsafe(init, consts) : `passes the variable \`${arg.text}\``;
  }
  if (ts.isObjectLiteralExpression(arg)) {
    const text = arg.properties.find((p) => ts.isPropertyAssignment(p) && p.name.getText() === 'text');
    return text && ts.isPropertyAssignment(text) ? unsafe(text.initializer, consts) : null;
  }
  return `builds SQL with \`${arg.getText().slice(0, 60)}\``;
}

function violations(root: string): string[] {
  const found: string[] = [];
  for (const file of files(join(root, 'src'))) {
    const rel = relative(root, file);
    if (ALLOWED[rel]) continue;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    // `const sql = \`…\`` declarations, so a query may take a name whose text is still constant.
    const consts = new Map<string, ts.Expression>();
    const visit = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && ts.isVariableDeclarationList(node.parent) && node.parent.flags & ts.NodeFlags.Const) {
        consts.set(node.name.text, node.initializer);
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && SQL_METHODS.has(node.expression.name.text) && node.arguments.length > 0) {
        const why = unsafe(node.arguments[0]!, consts);
        if (why && ALLOWED_FORWARDERS[`${rel}#${enclosingFunction(node)}`]) return;
        if (why) found.push(`${rel}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${why}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

describe('SQL is never built from values', () => {
  it('finds only literal or constant-built SQL text in src/', () => {
    expect(violations(process.cwd())).toEqual([]);
  });

  it('catches interpolation, concatenation and variables (the guard itself can fail)', () => {
    const probe = (code: string) => {
      const source = ts.createSourceFile('probe.ts', code, ts.ScriptTarget.Latest, true);
      const out: string[] = [];
      const consts = new Map<string, ts.Expression>();
      const visit = (node: ts.Node): void => {
        if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && node.parent.flags & ts.NodeFlags.Const) consts.set(node.name.text, node.initializer);
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && SQL_METHODS.has(node.expression.name.text)) {
          const why = unsafe(node.arguments[0]!, consts);
          if (why) out.push(why);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      return out;
    };
    expect(probe('db.query(`SELECT * FROM t WHERE id = ${id}`)')).toEqual(['interpolates `${id}`']);
    expect(probe("db.query('SELECT * FROM t WHERE id = ' + id)")).toHaveLength(1);
    expect(probe('let q = "x"; db.query(q)')).toEqual(['passes the variable `q`']);
    expect(probe('prisma.$queryRawUnsafe(`DELETE FROM ${table}`)')).toHaveLength(1);
    expect(probe('const sql = `SELECT ${COLS} FROM t WHERE a = $1`; db.query(sql, [a])')).toEqual([]);
    expect(probe("db.query('SELECT 1', [x]); db.query(`SELECT ${COLUMNS} FROM t`)")).toEqual([]);
    expect(probe("db.query(`SELECT 1 ${lock ? 'FOR UPDATE' : ''}`); db.query(`SELECT ${cols(FIELDS, 'r')} FROM t`)")).toEqual([]);
    expect(probe("db.query(`SELECT 1 ${lock ? name : ''}`)")).toHaveLength(1);
    expect(probe('db.query(`SELECT ${cols(FIELDS, name)} FROM t`)')).toHaveLength(1);
  });
});
