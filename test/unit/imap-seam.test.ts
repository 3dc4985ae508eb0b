import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Issue 8 §1, "actions stop driving imapflow": IMAP actions speak to the
 * session's named methods (list, open, fetchFlags, move, …), which name each
 * command for the transcript, its deadline and its error, and hand back
 * mailprobe's own plain types. No action imports imapflow, passes the session
 * a lambda over the imapflow client, or reaches for the client itself.
 */
const root = join(import.meta.dirname, '../../src');
const actions = readdirSync(join(root, 'actions')).filter((f) => f.endsWith('.ts'));

/** Source text without comments, so an explanation that names imapflow does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Whether an action file works on an IMAP session (by its name, or the session kinds it asks for). */
function usesImap(source: string): boolean {
  return /session\(\s*'imap'|extraSession\(\s*'imap'|protocols\/imap\//.test(source);
}

/** The lines of `source` that match `pattern`, numbered, so a failure says where. */
function lines(source: string, pattern: RegExp): string[] {
  return code(source)
    .split('\n')
    .flatMap((line, i) => (pattern.test(line) ? [`${i + 1}: ${line.trim()}`] : []));
}

describe('IMAP actions do not drive imapflow', () => {
  it('the guard sees every IMAP action file', () => {
    const imap = actions.filter((f) => usesImap(readFileSync(join(root, 'actions', f), 'utf8')));
    expect(imap).toEqual(expect.arrayContaining(actions.filter((f) => f.startsWith('imap-'))));
  });

  it.each(actions)('%s', (file) => {
    const source = readFileSync(join(root, 'actions', file), 'utf8');
    expect(lines(source, /from\s+['"]imapflow['"]|import\(\s*['"]imapflow['"]\s*\)/), 'imports imapflow').toEqual([]);
    // `session.call('LIST', (c) => c.list())`: a lambda over the client, however it is spelled.
    expect(lines(source, /\.call\s*(<[^>]*>)?\s*\(/), 'hands the session a call').toEqual([]);
    // `session.client.mailbox`, `ws.session.client`: the imapflow client itself. (A POP3
    // session's `client` is mailprobe's own POP3 client, which its actions drive on purpose.)
    if (usesImap(source)) expect(lines(source, /\bsession\s*\??\.\s*client\b/), 'reads the imapflow client of an IMAP session').toEqual([]);
  });

  it('catches each way of driving imapflow it is meant to catch', () => {
    const check = (text: string) => ({
      imports: lines(text, /from\s+['"]imapflow['"]|import\(\s*['"]imapflow['"]\s*\)/).length,
      calls: lines(text, /\.call\s*(<[^>]*>)?\s*\(/).length,
      client: lines(text, /\bsession\s*\??\.\s*client\b/).length,
    });
    expect(check("import type { MailboxObject } from 'imapflow';")).toMatchObject({ imports: 1 });
    expect(check("await ws.session.call('LIST', (c) => c.list());")).toMatchObject({ calls: 1 });
    expect(check('await session\n  .call(`STATUS ${path}`, (c) => c.status(path))')).toMatchObject({ calls: 1 });
    expect(check('const m = ws.session.client.mailbox;')).toMatchObject({ client: 1 });
    // Words in comments are explanations, not uses.
    expect(check('// imapflow would emulate MOVE; session.client is not used here')).toEqual({ imports: 0, calls: 0, client: 0 });
  });
});
