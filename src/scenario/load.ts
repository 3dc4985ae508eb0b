import path from 'node:path';
import type { ActionSignatures, ProtocolName } from '../actions/define-action.js';
import { findReferences } from '../interpolate/references.js';
import { ACCOUNT_FIELDS, RUN_FIELDS, SCOPE_NAMES, TARGET_FIELDS } from '../interpolate/scopes.js';
import type { Reference } from '../interpolate/template.js';
import { ENDPOINT_PROTOCOL } from '../target/endpoints.js';
import type { EndpointName } from '../target/endpoints.js';
import { closest, didYouMean } from '../core/did-you-mean.js';
import { LoadError } from '../core/diagnostics.js';
import { readInputOrThrow } from '../input/errors.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { isPlainObject, issuesToDiagnostics } from '../input/issues.js';
import { isMatcherName, MATCHER_NAMES } from './matchers.js';
import type { MatcherName } from './matchers.js';
import type { Expectation, Scenario, SessionDecl, Step } from './model.js';
import { assignCheckIds, CHECK_ID_RE } from './check-ids.js';
import { pointsIntoInterpolated, validateParamsStatic } from './params.js';
import { scenarioShapeSchema } from './schema.js';
import { parseYamlWithPositions } from '../input/yaml-doc.js';
import type { DataPath, PositionMap } from '../input/yaml-doc.js';

export interface LoadScenarioOptions {
  /** Suite root: the scenario id is the file path relative to it. */
  readonly root: string;
  readonly actions: ActionSignatures;
}

/** Reads and loads one scenario file. Throws LoadError listing every problem found. */
export async function loadScenarioFile(file: string, opts: LoadScenarioOptions): Promise<Scenario> {
  return loadScenarioSource(await readInputOrThrow(file, 'scenario'), file, opts);
}

/** Loads a scenario from text; `file` is used for positions and the id. Never touches the network. */
export function loadScenarioSource(text: string, file: string, opts: LoadScenarioOptions): Scenario {
  const parsed = parseYamlWithPositions(text, file);
  if (parsed.diagnostics.length > 0) throw new LoadError('EYAML_SYNTAX', parsed.diagnostics);
  const { data, positions } = parsed;
  if (!isPlainObject(data)) {
    const message =
      data === null || data === undefined
        ? 'the file is empty; expected a scenario (a map with name and steps)'
        : 'expected a scenario: a map with name and steps';
    throw new LoadError('ESCENARIO_INVALID', [{ pos: positions.posOf([]), message }]);
  }

  const diagnostics: Diagnostic[] = [];
  const shape = scenarioShapeSchema.safeParse(data);
  if (!shape.success) {
    diagnostics.push(
      ...issuesToDiagnostics(shape.error.issues, {
        data,
        schema: scenarioShapeSchema,
        positions,
        // A `${…}` operand is typed only at run time.
        ignore: (p) => isMatcherOperandPath(p) && pointsIntoInterpolated(data, p),
      }),
    );
  }
  const checker = new SemanticChecker(data, positions, opts.actions, diagnostics);
  checker.run();
  if (diagnostics.length > 0) throw new LoadError('ESCENARIO_INVALID', diagnostics);
  return checker.build(file, scenarioId(file, opts.root));
}

/** Scenario id: path relative to the suite root, no extension, '/'-separated. */
export function scenarioId(file: string, root: string): string {
  const rel = path.relative(path.resolve(root), path.resolve(file));
  return rel
    .replace(/\.ya?ml$/i, '')
    .split(path.sep)
    .join('/');
}

function isMatcherOperandPath(p: DataPath): boolean {
  return (p[0] === 'steps' || p[0] === 'cleanup') && p[2] === 'expect' && typeof p[4] === 'string' && isMatcherName(p[4]);
}

const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const asRecord = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});

/**
 * Checks that need more than a schema: actions and their params, sessions,
 * matcher counts and `${…}` references. Works on the raw tree defensively,
 * so one malformed step does not hide the problems of the others.
 */
class SemanticChecker {
  private readonly sessions: Record<string, unknown>;
  private readonly vars: Record<string, unknown>;
  private readonly accounts: string[];
  private readonly endpoints: string[];

  constructor(
    private readonly data: Record<string, unknown>,
    private readonly positions: PositionMap,
    private readonly actions: ActionSignatures,
    private readonly out: Diagnostic[],
  ) {
    this.sessions = asRecord(data.sessions);
    this.vars = asRecord(data.vars);
    const requires = asRecord(data.requires);
    this.accounts = asStrings(requires.accounts);
    this.endpoints = asStrings(requires.endpoints);
    // Session accounts and endpoints are required implicitly: a target
    // without them makes the scenario skip, never crash.
    for (const s of Object.values(this.sessions)) {
      const decl = asRecord(s);
      if (typeof decl.account === 'string' && !this.accounts.includes(decl.account)) this.accounts.push(decl.account);
      if (typeof decl.endpoint === 'string' && !this.endpoints.includes(decl.endpoint)) this.endpoints.push(decl.endpoint);
    }
  }

  private report(p: DataPath, message: string): void {
    this.out.push({ pos: this.positions.posOf(p), message });
  }

  run(): void {
    this.checkSessions();
    this.checkVars();
    const mainCaptures = new Map<string, number>();
    const steps = Array.isArray(this.data.steps) ? this.data.steps : [];
    const stepCaptures = steps.map((s) => Object.keys(asRecord(asRecord(s).capture)));
    steps.forEach((step, i) => {
      const later = new Map<string, number>();
      // The first later step that captures each name.
      for (const [k, names] of stepCaptures.slice(i).entries()) {
        for (const n of names) if (!later.has(n)) later.set(n, i + k);
      }
      this.checkStep(step, ['steps', i], mainCaptures, later);
      for (const name of stepCaptures[i] ?? []) mainCaptures.set(name, i);
    });
    const cleanup = Array.isArray(this.data.cleanup) ? this.data.cleanup : [];
    const available = new Map(mainCaptures);
    cleanup.forEach((step, i) => {
      this.checkStep(step, ['cleanup', i], available, new Map());
      for (const name of Object.keys(asRecord(asRecord(step).capture))) available.set(name, i);
    });
    this.checkCleanupPresent(steps, cleanup);
    this.checkCheckIds(steps, cleanup);
  }

  /** Explicit check ids are unique within the scenario (steps and cleanup), so `<scenario>#<id>` names one check. */
  private checkCheckIds(steps: unknown[], cleanup: unknown[]): void {
    const first = new Map<string, DataPath>();
    const lists = [
      ['steps', steps],
      ['cleanup', cleanup],
    ] as const;
    for (const [key, list] of lists) {
      list.forEach((step, i) => {
        const expect = asRecord(step).expect;
        if (!Array.isArray(expect)) return;
        expect.forEach((e, j) => {
          const id = asRecord(e).id;
          if (typeof id !== 'string' || !CHECK_ID_RE.test(id)) return;
          const p: DataPath = [key, i, 'expect', j, 'id'];
          const earlier = first.get(id);
          if (earlier === undefined) first.set(id, p);
          else this.report(p, `check id '${id}' is already used at line ${this.positions.posOf(earlier).line}; check ids are unique within a scenario`);
        });
      });
    }
  }

  /**
   * A scenario that creates mail or folders must remove them even when it fails
   * (users run it against real mailboxes), so it needs a cleanup step that does.
   */
  private checkCleanupPresent(steps: unknown[], cleanup: unknown[]): void {
    const actionOf = (step: unknown) => {
      const name = asRecord(step).action;
      return typeof name === 'string' ? this.actions[name] : undefined;
    };
    if (cleanup.some((step) => actionOf(step)?.cleansUp)) return;
    const first = steps.findIndex((step) => actionOf(step)?.leavesMail);
    if (first === -1) return;
    const cleaners = Object.entries(this.actions)
      .filter(([, a]) => a.cleansUp)
      .map(([name]) => name);
    this.report(
      ['steps', first, 'action'],
      `this step creates mail or folders, but the scenario has no cleanup step that removes them; add e.g. "cleanup: [{ action: ${cleaners[0] ?? 'imap.cleanup'}, session: … }]" (${cleaners.join(' or ')})`,
    );
  }

  private checkSessions(): void {
    for (const [name, raw] of Object.entries(this.sessions)) {
      const s = asRecord(raw);
      if (typeof s.endpoint !== 'string' || typeof s.protocol !== 'string') continue;
      const speaks = ENDPOINT_PROTOCOL[s.endpoint as EndpointName];
      if (speaks !== undefined && speaks !== s.protocol) {
        this.report(['sessions', name, 'endpoint'], `endpoint '${s.endpoint}' speaks ${speaks}, but session '${name}' is ${an(s.protocol)} session`);
      }
    }
  }

  private checkVars(): void {
    // vars are rendered once, before any step runs: they cannot see captures or each other.
    const { references, problems } = findReferences(this.vars, ['vars']);
    for (const p of problems) this.report(p.path, p.message);
    for (const { path: p, ref } of references) {
      if (ref.scope === 'captures' || ref.scope === 'vars') {
        this.report(p, `'\${${ref.expr}}': vars may refer only to run, env, accounts and target (they are set before any step runs)`);
        continue;
      }
      this.checkReference(ref, p, new Map(), new Map());
    }
  }

  private checkStep(raw: unknown, p: DataPath, captures: ReadonlyMap<string, number>, later: ReadonlyMap<string, number>): void {
    if (!isPlainObject(raw)) return;
    const action = raw.action;
    if (typeof action === 'string' && action !== '') {
      const sig = this.actions[action];
      if (sig === undefined) {
        this.report([...p, 'action'], `unknown action '${action}'${didYouMean(action, Object.keys(this.actions))}`);
      } else {
        this.out.push(...validateParamsStatic(sig.params, raw.with ?? {}, this.positions, [...p, 'with']));
        this.checkSession(raw, p, action, sig.protocol);
        this.checkStepRequires(raw, p, sig.protocol);
      }
    }
    if (Array.isArray(raw.expect)) {
      for (const [j, e] of raw.expect.entries()) this.checkMatcherCount(e, [...p, 'expect', j]);
    }
    const { references, problems } = findReferences(raw.with, [...p, 'with']);
    if (Array.isArray(raw.expect)) {
      raw.expect.forEach((e, j) => {
        for (const [k, v] of Object.entries(asRecord(e))) {
          if (!isMatcherName(k)) continue;
          const found = findReferences(v, [...p, 'expect', j, k]);
          references.push(...found.references);
          problems.push(...found.problems);
        }
      });
    }
    for (const pr of problems) this.report(pr.path, pr.message);
    for (const { path: rp, ref } of references) this.checkReference(ref, rp, captures, later);
  }

  private checkSession(raw: Record<string, unknown>, p: DataPath, action: string, protocol: ProtocolName | undefined): void {
    const session = raw.session;
    if (protocol === undefined) {
      if (session !== undefined) this.report([...p, 'session'], `action '${action}' does not use a session; remove 'session'`);
      return;
    }
    if (session === undefined) {
      const ofKind = Object.entries(this.sessions)
        .filter(([, s]) => asRecord(s).protocol === protocol)
        .map(([n]) => n);
      const hint = ofKind.length > 0 ? ` (e.g. ${ofKind.map((n) => `'${n}'`).join(', ')})` : ` (declare one under 'sessions')`;
      this.report(p, `action '${action}' needs ${an(protocol)} session: add 'session'${hint}`);
      return;
    }
    if (typeof session !== 'string') return;
    const decl = this.sessions[session];
    if (decl === undefined) {
      const declared = Object.keys(this.sessions);
      const detail = declared.length === 0 ? "; no sessions are declared under 'sessions'" : didYouMean(session, declared);
      this.report([...p, 'session'], `unknown session '${session}'${detail}`);
      return;
    }
    const declProtocol = asRecord(decl).protocol;
    if (typeof declProtocol === 'string' && declProtocol !== protocol) {
      this.report([...p, 'session'], `session '${session}' is ${an(declProtocol)} session, but action '${action}' needs ${an(protocol)} session`);
    }
  }

  /**
   * A step's own requires are judged against the capabilities its session
   * announced, so they may name only that session's protocol.
   */
  private checkStepRequires(raw: Record<string, unknown>, p: DataPath, protocol: ProtocolName | undefined): void {
    const capabilities = asRecord(asRecord(raw.requires).capabilities);
    for (const named of Object.keys(capabilities)) {
      if (named === protocol) continue;
      const own = protocol === undefined ? 'this step has no session' : `this step runs on ${an(protocol)} session`;
      this.report(
        [...p, 'requires', 'capabilities', named],
        `requires.capabilities.${named} cannot be checked: ${own}, and a step's requires name only its own session's capabilities`,
      );
    }
  }

  private checkMatcherCount(raw: unknown, p: DataPath): void {
    if (!isPlainObject(raw)) return;
    const present = Object.keys(raw).filter(isMatcherName);
    if (present.length === 1) return;
    if (present.length === 0) {
      this.report(p, `expectation needs one matcher: ${MATCHER_NAMES.join(', ')}`);
    } else {
      this.report(p, `expectation has ${present.length} matchers (${present.join(', ')}); use exactly one per expectation`);
    }
  }

  private checkReference(ref: Reference, p: DataPath, captures: ReadonlyMap<string, number>, later: ReadonlyMap<string, number>): void {
    const first = ref.segments[0];
    const say = (message: string) => this.report(p, message);
    switch (ref.scope) {
      case 'run':
      case 'target': {
        const fields: readonly string[] = ref.scope === 'run' ? RUN_FIELDS : TARGET_FIELDS;
        if (first !== undefined && !fields.includes(first)) say(`undefined variable '${ref.scope}.${first}'${suggest(ref.scope, first, fields)}`);
        return;
      }
      case 'vars':
        if (first !== undefined && !(first in this.vars)) say(`undefined variable 'vars.${first}'${suggest('vars', first, Object.keys(this.vars))}`);
        return;
      case 'captures': {
        if (first === undefined || captures.has(first)) return;
        const laterAt = later.get(first);
        if (laterAt !== undefined) say(`capture '${first}' is set only by a later step (step ${laterAt + 1}); a step can use captures of earlier steps only`);
        else say(`capture '${first}' is not set by an earlier step${suggest('captures', first, [...captures.keys()])}`);
        return;
      }
      case 'accounts': {
        if (first === undefined) return;
        if (!this.accounts.includes(first)) {
          say(`account role '${first}' is not listed in requires.accounts; add it so that a target without it skips this scenario`);
          return;
        }
        const field = ref.segments[1];
        if (field === 'password') say('passwords are never available to scenarios; use accounts.ROLE.user or accounts.ROLE.address');
        else if (field !== undefined && !(ACCOUNT_FIELDS as readonly string[]).includes(field))
          say(`undefined variable 'accounts.${first}.${field}'${suggest(`accounts.${first}`, field, ACCOUNT_FIELDS)}`);
        return;
      }
      case 'env':
        return; // only known at run time
      default:
        say(`unknown scope '${ref.scope}' in '\${${ref.expr}}'${didYouMean(ref.scope, SCOPE_NAMES)}`);
    }
  }

  build(file: string, id: string): Scenario {
    const d = this.data;
    const sessions: Record<string, SessionDecl> = {};
    for (const [name, raw] of Object.entries(this.sessions)) {
      const s = raw as { protocol: ProtocolName; endpoint: EndpointName; account: string };
      sessions[name] = { protocol: s.protocol, endpoint: s.endpoint, account: s.account, source: this.positions.posOf(['sessions', name]) };
    }
    const requires = asRecord(d.requires);
    const scenario: Scenario = {
      file,
      id,
      name: d.name as string,
      tags: asStrings(d.tags),
      rfc: asStrings(d.rfc),
      requires: {
        endpoints: this.endpoints as EndpointName[],
        accounts: this.accounts,
        capabilities: { ...(asRecord(requires.capabilities) as Partial<Record<ProtocolName, string[]>>) },
      },
      vars: this.vars,
      sessions,
      ...this.buildAllSteps(d.steps, d.cleanup),
      source: this.positions.posOf([]),
      positions: this.positions,
    };
    return typeof d.description === 'string' ? { ...scenario, description: d.description } : scenario;
  }

  /** Steps and cleanup, with every check's id assigned over both (check-ids.ts). */
  private buildAllSteps(stepList: unknown, cleanupList: unknown): { steps: Step[]; cleanup: Step[] } {
    const steps = this.buildSteps(stepList, 'steps');
    const cleanup = this.buildSteps(cleanupList, 'cleanup');
    const all = [...steps, ...cleanup];
    const ids = assignCheckIds(
      all.flatMap((step) => step.expect.map((e) => ({ ...(e.id !== '' ? { explicit: e.id } : {}), stepName: step.name, that: e.that }))),
    );
    let n = 0;
    const withIds = (list: Step[]) => list.map((step) => ({ ...step, expect: step.expect.map((e) => ({ ...e, id: ids[n++]! })) }));
    return { steps: withIds(steps), cleanup: withIds(cleanup) };
  }

  private buildSteps(list: unknown, key: 'steps' | 'cleanup'): Step[] {
    if (!Array.isArray(list)) return [];
    return list.map((raw, index) => {
      const s = asRecord(raw);
      const p: DataPath = [key, index];
      const expect: Expectation[] = (Array.isArray(s.expect) ? s.expect : []).map((e, j) => {
        const ex = asRecord(e);
        const matcher = Object.keys(ex).find(isMatcherName) as MatcherName;
        const item: Expectation = {
          // '' until buildAllSteps assigns it: explicit ids first, then derived ones around them.
          id: typeof ex.id === 'string' ? ex.id : '',
          that: ex.that as string,
          matcher,
          value: ex[matcher],
          source: this.positions.posOf([...p, 'expect', j]),
          path: [...p, 'expect', j, matcher],
        };
        return {
          ...item,
          ...(typeof ex.rfc === 'string' ? { rfc: ex.rfc } : {}),
          ...(typeof ex.because === 'string' ? { because: ex.because } : {}),
        };
      });
      const requires = asRecord(asRecord(s.requires).capabilities) as Partial<Record<ProtocolName, string[]>>;
      const step: Step = {
        index,
        name: typeof s.name === 'string' ? s.name : (s.action as string),
        action: s.action as string,
        with: s.with ?? {},
        capture: asRecord(s.capture) as Record<string, string>,
        expect,
        ...(Object.keys(requires).length > 0 ? { requires: { capabilities: requires } } : {}),
        source: this.positions.posOf(p),
        path: p,
      };
      return typeof s.session === 'string' ? { ...step, session: s.session } : step;
    });
  }
}

function suggest(prefix: string, word: string, candidates: readonly string[]): string {
  const hit = closest(word, candidates);
  return hit === undefined ? '' : ` (did you mean '${prefix}.${hit}'?)`;
}

/** "a pop3", "an imap", "an smtp" — as the names are read aloud. */
function an(word: string): string {
  return /^(imap|smtp|[aeiou])/i.test(word) ? `an ${word}` : `a ${word}`;
}
