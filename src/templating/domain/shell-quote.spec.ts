import { describe, expect, it } from '@jest/globals';
import { buildTemplateContext } from './template-context.js';
import { renderShellCommand } from './render-template.js';
import { TemplateError } from './template-error.js';

const HOSTILE = 'a$(touch /tmp/x)`id`;rm -rf / \'q\' "d"\nnext';
const ctx = (conf: Record<string, unknown>) =>
  buildTemplateContext({
    dagId: 'd', runId: 'r', logicalDate: new Date('2024-01-15T06:00:00Z'), dataIntervalStart: new Date('2024-01-15T06:00:00Z'),
    dataIntervalEnd: new Date('2024-01-16T06:00:00Z'), params: { flags: '--a --b' }, conf, xcom: {},
  });

describe(renderShellCommand.name, () => {
  it('leaves plain values as they were (backward compatible), quotes the rest as one word', () => {
    expect(renderShellCommand('echo {{ ds }} --at={{ ts }}', ctx({}))).toBe('echo 2024-01-15 --at=2024-01-15T06:00:00+00:00');
    expect(renderShellCommand('echo {{ dag_run.conf.x }}', ctx({ x: 'two words' }))).toBe("echo 'two words'");
    expect(renderShellCommand('echo {{ dag_run.conf.x }}', ctx({ x: "it's" }))).toBe("echo 'it'\\''s'");
    expect(renderShellCommand('echo {{ dag_run.conf.x }}', ctx({ x: '' }))).toBe("echo ''");
  });
  it('quotes for the place the value lands: single quotes, double quotes, $( ), here-documents', () => {
    const c = ctx({ x: HOSTILE });
    expect(renderShellCommand("echo '{{ dag_run.conf.x }}'", c)).toBe(`echo '${HOSTILE.replace(/'/g, `'\\''`)}'`);
    expect(renderShellCommand('echo "{{ dag_run.conf.x }}"', c)).toBe(`echo "${HOSTILE.replace(/[\\$`"]/g, '\\$&')}"`);
    expect(renderShellCommand('echo "$(printf %s {{ dag_run.conf.x }})"', c)).toContain(`printf %s '`);
    expect(renderShellCommand('cat <<EOF\n{{ dag_run.conf.x }}\nEOF', c)).toBe(`cat <<EOF\n${HOSTILE.replace(/[\\$`]/g, '\\$&')}\nEOF`);
    expect(renderShellCommand("cat <<'EOF'\n{{ dag_run.conf.x }}\nEOF", c)).toBe(`cat <<'EOF'\n${HOSTILE}\nEOF`);
  });
  it('refuses what it cannot make safe', () => {
    expect(() => renderShellCommand('cat <<EOF\n{{ dag_run.conf.x }}\nEOF', ctx({ x: 'a\nEOF\nrm -rf /' }))).toThrow(TemplateError);
    expect(() => renderShellCommand('echo `echo {{ dag_run.conf.x }}`', ctx({ x: 'a b' }))).toThrow(/backquotes/);
    expect(() => renderShellCommand('true # {{ dag_run.conf.x }}', ctx({ x: 'a\nrm -rf /' }))).toThrow(/comment/);
    expect(renderShellCommand('true # {{ dag_run.conf.x }}', ctx({ x: 'a b' }))).toBe('true # a b');
  });
  it('inserts a trusted fragment as it is with | shell_trusted; | raw is still quoted', () => {
    expect(renderShellCommand('ls {{ params.flags | shell_trusted }}', ctx({}))).toBe('ls --a --b');
    expect(renderShellCommand('ls {{ params.flags | raw }}', ctx({}))).toBe("ls '--a --b'");
  });
});
