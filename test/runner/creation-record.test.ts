import { describe, expect, it } from 'vitest';
import { ScenarioRecord } from '../../src/runner/creation-record.js';
import type { RunAccount } from '../../src/actions/run-target.js';

/** The run's own record of what it created, and the leftovers it names from it. */
const alice = { user: 'alice', address: 'alice@lab.test' } as RunAccount;
const bob = { user: 'bob', address: 'bob@lab.test' } as RunAccount;
const why = () => 'cleanup did not run';

describe('ScenarioRecord', () => {
  it('names nothing when nothing was created', () => {
    expect(new ScenarioRecord().leftovers([alice, bob], why)).toEqual([]);
  });

  it('names every recorded folder and every message sent to or found in the account until cleanup confirms it gone', () => {
    const record = new ScenarioRecord();
    const a = record.forAccount(alice);
    a.folder('mailprobe-r');
    a.folder('mailprobe-r/x');
    a.message({ mailbox: 'INBOX', uid: 7, messageId: '<found@mailprobe.invalid>' });
    record.noteSent({ messageId: '<sent@mailprobe.invalid>', recipients: ['Alice@lab.test'] });
    record.noteSent({ messageId: '<to-bob@mailprobe.invalid>', recipients: ['bob@lab.test'] });
    expect(record.leftovers([alice, bob], why)).toEqual([
      "folder 'mailprobe-r' (account alice): cleanup did not run",
      "folder 'mailprobe-r/x' (account alice): cleanup did not run",
      'message <found@mailprobe.invalid> (account alice): cleanup did not run',
      'message <sent@mailprobe.invalid> (account alice): cleanup did not run',
      'message <to-bob@mailprobe.invalid> (account bob): cleanup did not run',
    ]);
    a.confirmGone({ folder: 'mailprobe-r' });
    a.confirmGone({ messageId: '<found@mailprobe.invalid>' });
    a.remains({ folder: 'mailprobe-r/x' }, 'has children that this session cannot see');
    expect(record.leftovers([alice], why)).toEqual([
      "folder 'mailprobe-r/x' (account alice): has children that this session cannot see",
      'message <sent@mailprobe.invalid> (account alice): cleanup did not run',
    ]);
  });

  it("after a RENAME the new names (children too) are the run's to delete, the old ones only to check", () => {
    const a = new ScenarioRecord().forAccount(alice);
    a.folder('r/p');
    a.folder('r/p/2026');
    a.message({ mailbox: 'r/p/2026', uid: 1, messageId: '<m@x>' });
    a.renamed('r/p', 'r/q', '/');
    expect(a.folders()).toEqual([
      { path: 'r/p', delete: false },
      { path: 'r/p/2026', delete: false },
      { path: 'r/q', delete: true },
      { path: 'r/q/2026', delete: true },
    ]);
    expect(a.messages().map((m) => m.mailbox)).toEqual(['r/p/2026', 'r/q/2026']);
    a.folderGone('r/q/2026');
    expect(a.folders().find((f) => f.path === 'r/q/2026')?.delete).toBe(false);
  });

  it('names a subscription the run made until cleanup confirms it gone, even when its folder is gone', () => {
    const record = new ScenarioRecord();
    const a = record.forAccount(alice);
    a.folder('mailprobe-r/archive');
    a.subscribed('mailprobe-r/archive');
    a.subscribed('mailprobe-r/archive');
    expect(a.subscriptions()).toEqual(['mailprobe-r/archive']);
    // The folder is confirmed gone; the subscription is a separate thing on the server (RFC 9051 §6.3.7).
    a.confirmGone({ folder: 'mailprobe-r/archive' });
    expect(record.leftovers([alice], why)).toEqual(["subscription 'mailprobe-r/archive' (account alice): cleanup did not run"]);
    a.remains({ subscription: 'mailprobe-r/archive' }, 'still subscribed after cleanup (LSUB lists it)');
    expect(record.leftovers([alice], why)).toEqual(["subscription 'mailprobe-r/archive' (account alice): still subscribed after cleanup (LSUB lists it)"]);
    a.confirmGone({ subscription: 'mailprobe-r/archive' });
    expect(record.leftovers([alice], why)).toEqual([]);
    // Another account's record is its own.
    expect(record.forAccount(bob).subscriptions()).toEqual([]);
  });
});
