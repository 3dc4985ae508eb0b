/**
 * Stand-ins (a target account's `stand_ins:`): other mailboxes of the same
 * kind that may take a role, so that `run --concurrency N` can run side by
 * side scenarios that would otherwise wait for one account's INBOX. Nearly
 * every shipped scenario works on `primary`'s INBOX (a POP3 session holds the
 * maildrop's lock, RFC 1939 §4; a delivery or a cleanup sweep is there too),
 * so without stand-ins that INBOX makes the suite serial whatever N is.
 *
 * A scenario is offered, in order: the target's own accounts, then each
 * choice of stand-ins for the pooled roles it uses; the scheduler starts it
 * with the first whose claims fit what runs (src/runner/schedule.ts). A serial
 * run takes the first, so it is what it was without stand-ins. A choice that
 * puts one mailbox in two roles the scenario uses is never offered, unless the
 * target's own accounts already do: two devices of two people must stay two
 * mailboxes. The scenario then runs with that view of the target, so every
 * `${accounts.ROLE…}`, session login and cleanup goes to the mailbox chosen,
 * and its report says which (the property `stand_in.ROLE`).
 */
import type { RunAccount, RunTarget } from '../actions/run-target.js';
import type { Scenario } from '../scenario/model.js';

/** At most this many views per scenario: more would never run at once under --concurrency 16. */
const MAX_VIEWS = 16;

export interface TargetView {
  readonly target: RunTarget;
  /** Role → the user of the stand-in that took it (empty: the target's own accounts). */
  readonly standIns: Readonly<Record<string, string>>;
}

/** The views of the target one scenario may run with, the target's own accounts first. */
export function targetViews(scenario: Scenario, target: RunTarget): TargetView[] {
  const roles = [...new Set(scenario.requires.accounts)].filter((role) => target.accounts[role] !== undefined);
  const pooled = roles.filter((role) => (target.accounts[role]?.standIns?.length ?? 0) > 0);
  const views: TargetView[] = [{ target, standIns: {} }];
  if (pooled.length === 0) return views;
  const ownUsers = roles.map((role) => target.accounts[role]!.user.toLowerCase());
  const ownShared = new Set(ownUsers).size < ownUsers.length;
  for (const choice of choices(pooled.map((role) => poolOf(target.accounts[role]!)))) {
    if (views.length >= MAX_VIEWS) break;
    const chosen = new Map(pooled.map((role, i) => [role, choice[i]!]));
    if ([...chosen].every(([role, account]) => account.user === target.accounts[role]!.user)) continue;
    const users = roles.map((role) => (chosen.get(role) ?? target.accounts[role]!).user.toLowerCase());
    if (!ownShared && new Set(users).size < users.length) continue;
    views.push(view(target, chosen));
  }
  return views;
}

/** The role's account first, then its stand-ins, each with the role. */
function poolOf(account: RunAccount): RunAccount[] {
  return [account, ...(account.standIns ?? []).map((s) => ({ ...s, role: account.role }))];
}

/** Every pick of one member from each pool, in order (the first pick of each pool first). */
function* choices(pools: readonly (readonly RunAccount[])[]): Generator<RunAccount[]> {
  if (pools.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = pools;
  for (const member of first!) for (const tail of choices(rest)) yield [member, ...tail];
}

function view(target: RunTarget, chosen: ReadonlyMap<string, RunAccount>): TargetView {
  const accounts: Record<string, RunAccount> = { ...target.accounts };
  const standIns: Record<string, string> = {};
  for (const [role, member] of chosen) {
    const pool = poolOf(target.accounts[role]!);
    if (member.user === target.accounts[role]!.user) continue;
    // The rest of the pool stays reachable from the view, for what asks for every mailbox.
    accounts[role] = {
      role,
      user: member.user,
      address: member.address,
      passwordEnv: member.passwordEnv,
      standIns: pool.filter((m) => m.user !== member.user),
    };
    standIns[role] = member.user;
  }
  return { target: { ...target, accounts }, standIns };
}
