// Weft's structure rules (issue 21; docs/layout.md), checked on every import of src/:
//  - no-foreign-repository: a feature (a folder directly under src/; src/engine is the kernel) reads and writes
//    another feature's tables only through that feature's services and events, never its *.repository.ts;
//  - pure-domain: a domain/ folder holds pure TypeScript: no framework, database, network or file-system package
//    (type-only imports of a package's data shapes are fine: they leave nothing at run time), and nothing of
//    src/database/ or src/generated/ nor any module, service, repository, controller, resolver or job. Its specs may
//    read files (documentation checks) and compare with generated enums;
//  - unit-spec: a spec under src/ is a unit test (Jest's unit project): no database, no subprocess, no server. Such
//    tests are integration tests, test/**/*.int-spec.ts;
//  - pg-at-run-time: code of src/ queries the database with pg only (docs/database.md, "Access at run time"): no
//    import of a Prisma package or of the generated client (src/generated/) outside specs, which may compare with
//    its enums; `import type` is fine (it leaves nothing at run time).
import path from 'node:path';

const SRC = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src');

const FRAMEWORK_OR_IO = [
  /^@nestjs\//, /^@prisma\//, /^@apollo\//, /^@as-integrations\//, /^@fastify\//, /^@kubernetes\//,
  /^pg$/, /^fastify$/, /^graphql(-ws)?$/, /^pino(-pretty)?$/, /^prom-client$/, /^undici$/, /^nodemailer$/, /^ws$/,
  /^(node:)?(fs|fs\/promises|net|http|https|http2|dns|child_process|worker_threads|cluster|dgram|tls)$/,
];
const NOT_UNIT = [/^pg$/, /^smtp-server$/, /^(node:)?(net|http|https|http2|child_process|dgram|tls)$/];
const NOT_PURE_FILE = /\.(repository|service|module|controller|resolver|job)\.(js|ts)$/;

const featureOf = (file) => {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts.length > 1 && parts[0] !== '..' ? parts[0] : null;
};

function check(context, node) {
  const filename = context.filename;
  const from = featureOf(filename);
  if (!from || !node.source || typeof node.source.value !== 'string') return;
  const specifier = node.source.value;
  const inDomain = path.relative(SRC, filename).split(path.sep).includes('domain') && !filename.endsWith('.spec.ts');
  if (filename.endsWith('.spec.ts') && node.importKind !== 'type' && NOT_UNIT.some((p) => p.test(specifier))) {
    context.report({ node: node.source, messageId: 'unitSpec', data: { what: `the package ${specifier}` } });
  }
  const isSpec = filename.endsWith('.spec.ts');
  if (!isSpec && node.importKind !== 'type' && (/^@prisma\//.test(specifier) || (specifier.startsWith('.') && featureOf(path.resolve(path.dirname(filename), specifier)) === 'generated'))) {
    context.report({ node: node.source, messageId: 'pgAtRunTime', data: { what: specifier } });
  }
  if (!specifier.startsWith('.')) {
    if (inDomain && node.importKind !== 'type' && FRAMEWORK_OR_IO.some((p) => p.test(specifier))) {
      context.report({ node: node.source, messageId: 'pureDomain', data: { what: `the package ${specifier}` } });
    }
    return;
  }
  const target = path.resolve(path.dirname(filename), specifier);
  const to = featureOf(target);
  if (to && to !== from && /\.repository\.(js|ts)$/.test(target)) {
    context.report({ node: node.source, messageId: 'foreignRepository', data: { to, from } });
  }
  if (inDomain && (to === 'database' || to === 'generated' || NOT_PURE_FILE.test(target))) {
    context.report({ node: node.source, messageId: 'pureDomain', data: { what: path.relative(SRC, target) } });
  }
}

export const featureBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Feature boundaries of src/ (docs/layout.md)' },
    schema: [],
    messages: {
      foreignRepository: "{{from}} may not import a repository of {{to}}: use {{to}}'s services or events (docs/layout.md)",
      unitSpec: 'a spec under src/ is a unit test and may not use {{what}} (databases, processes, servers): make it test/**/*.int-spec.ts (docs/layout.md)',
      pgAtRunTime: 'src/ queries the database with pg only, not Prisma Client: {{what}} may not be loaded at run time (docs/database.md)',
      pureDomain: 'domain/ is pure TypeScript and may not import {{what}} (docs/layout.md)',
    },
  },
  create(context) {
    const visit = (node) => check(context, node);
    return {
      ImportDeclaration: visit,
      ExportNamedDeclaration: visit,
      ExportAllDeclaration: visit,
      ImportExpression: visit,
    };
  },
};

export default { rules: { 'feature-boundaries': featureBoundaries } };
