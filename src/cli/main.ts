#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import { endQuietlyOnClosedPipes } from './closed-pipes.js';
import { MAX_TIMEOUT_MS, TIMEOUT_TOO_LARGE } from '../transport/timeouts.js';
// Only light modules are imported here: each command's own module (and with it imapflow, nodemailer, xmlbuilder2,
// zod, yaml, dns-packet) is loaded by its action, so --version and --help load none of them (issue 12, cold start).
import { parseDnsServer, parsePortMap, parseWatchSeconds, portNumber, positiveCount, PROBE_MODES } from './probe-options.js';
import { DEFAULT_THRESHOLD, DIFF_FORMATS, parseThreshold, type Threshold } from '../reporters/diff-options.js';
import { contextFromProcess, type CliContext } from './run-context.js';
import { parseOutputMode, type OutputModes } from '../transport/private-files.js';
import { scenarioFilter, type ScenarioFilter } from '../runner/scenario-filter.js';
import { parseShard, type Shard } from '../runner/shard.js';
import { DEFAULT_BUDGET } from '../transport/budget.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    every scenario passed (or was skipped)
  1    non-compliance: at least one scenario failed
  2    invalid input or usage (bad scenario/target file, bad option); nothing was connected to
  3    could not run: connection, TLS, timeout, credentials, or a report could not be written
  4    inconclusive: only temporary refusals (4xx, [IN-USE], [SYS/TEMP]) stood in the way
  130  interrupted (Ctrl-C); cleanup ran and the reports were written (a second Ctrl-C cuts cleanup short and names what is left)`;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number of milliseconds');
  if (n > MAX_TIMEOUT_MS) throw new InvalidArgumentError(TIMEOUT_TOO_LARGE);
  return n;
}

/** A whole number in [min, max], for --concurrency and --max-connections-per-host. */
function wholeNumberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** --connect-rate: new connections per second to one host, a positive number (0.5 = one every two seconds). */
function connectRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1000)
    throw new InvalidArgumentError('expected a number of new connections per second, above 0 and at most 1000');
  return n;
}

/** --grep is a regular expression, compiled here once: a pattern that does not compile is a usage error with the engine's reason. */
function grepPattern(value: string): ScenarioFilter {
  try {
    return scenarioFilter(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function shardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function threshold(value: string): Threshold {
  try {
    return parseThreshold(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const THRESHOLD_HELP = `latency regression threshold: a time regresses when it grew by more than both, e.g. 50%,200ms (the default; either part alone keeps the other's default)`;

function reportMode(value: string): OutputModes {
  try {
    return parseOutputMode(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const program = new Command('mailprobe')
    .description('Conformance and connectivity harness for mail hosts: checks that POP3, IMAP and SMTP keep their promises')
    .version(ctx.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    // Before any .command(): subcommands copy these settings when created, so a bad option value of `run` is exit 2 too, not commander's own exit 1.
    .exitOverride()
    .configureOutput({ writeErr: (s) => ctx.stderr.write(s), writeOut: (s) => ctx.stdout.write(s) });

  program
    .command('run')
    .description('Run scenarios against a target host (default: the built-in lab started by `mailprobe lab up`)')
    .argument('[paths...]', 'scenario files or folders (default: the shipped suites)')
    .option(
      '-t, --target <file>',
      'target file describing the host, its ports and accounts; repeatable: each target is run in turn and the console ends with the matrix of scenario × target',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--servers <list>',
      'run against these servers of the built-in lab, in turn, e.g. dovecot,cyrus,courier (started by `mailprobe lab up --servers …`); instead of --target',
    )
    .option(
      '--secrets-file <file>',
      'read KEY=value lines (e.g. passwords) from this file in addition to the environment (not --env-file: Node takes that one for itself)',
    )
    // The name this option had before; kept, unlisted, so that existing CI jobs keep working.
    .addOption(new Option('--env-from <file>').hideHelp())
    .option(
      '-r, --reporter <name[=file]>',
      "console, junit, junit-strict, tap, json or html (html needs =FILE: one self-contained page, filterable); with several targets each file gets the target's name (junit-cyrus.xml, or {target} in FILE); matrix-md, matrix-json or matrix-html=FILE: the scenario × target matrix; repeatable",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addOption(new Option('-g, --grep <pattern>', 'only scenarios whose name, id or tag matches this regular expression').argParser(grepPattern))
    .addOption(
      new Option(
        '--shard <i/n>',
        'run only part i of n of the scenarios (after --grep): sorted by id, the i-th of n contiguous chunks; merge the JSON reports with `report merge`',
      ).argParser(shardOption),
    )
    .addOption(new Option('--timeout <ms>', 'per-command timeout, overriding the target file').argParser(positiveInt))
    .option('--out-dir <dir>', 'folder for saved message copies', 'reports')
    .addOption(
      new Option(
        '--report-mode <mode>',
        "file mode of reports and saved messages, which hold users' mail: 0600 (default) or e.g. 0640 for a CI reader's group; folders get the matching search bits (0700, 0750)",
      ).argParser(reportMode),
    )
    .addOption(
      new Option(
        '--concurrency <n>',
        'run up to N scenarios at once (1-16, default 1); scenarios that share an INBOX, a folder or an account never overlap, and results stay in plan order',
      ).argParser(wholeNumberIn(1, 16)),
    )
    .addOption(
      new Option(
        '--max-connections-per-host <m>',
        `at most M connections open to one host at once (1-64; default ${DEFAULT_BUDGET.maxPerHost}; on whenever --concurrency is above 1)`,
      ).argParser(wholeNumberIn(1, 64)),
    )
    .addOption(
      new Option(
        '--connect-rate <r>',
        `at most R new connections per second to one host (default ${DEFAULT_BUDGET.connectsPerSecond}; on whenever --concurrency is above 1)`,
      ).argParser(connectRate),
    )
    .option('-q, --quiet', 'no console progress (other reporters still write)', false)
    .option('-v, --verbose', "print every step's wire transcript on stderr as it happens, redacted (-> client, <- server, ~> <~ inside TLS)", false)
    .option(
      '--baseline <file>',
      "after the run, print the diff against this JSON report (as `report diff`); exit: the run's own code when not 0, else 1 if the diff regressed",
    )
    .addOption(new Option('--threshold <spec>', THRESHOLD_HELP).argParser(threshold))
    .option(
      '--dry-run',
      'check every input, then list per scenario what the run would connect to, create, send, change and delete; connects nowhere (exit 0 valid, 2 invalid)',
      false,
    )
    .addHelpText(
      'after',
      `
Examples:
  mailprobe lab up && mailprobe run
  mailprobe run suites/pop3 --target staging.yaml --reporter junit=reports/junit.xml
  mailprobe run --target staging.yaml --reporter html=reports/report.html
  mailprobe lab up --servers dovecot,cyrus,courier && mailprobe run --servers dovecot,cyrus,courier --reporter matrix-md=reports/matrix.md
  MAIL_PW=… mailprobe run --target prod.yaml --grep retrieve --reporter tap
  mailprobe run suites/imap --target prod.yaml --dry-run
${EXIT_CODES_HELP}`,
    )
    .action(async (paths: string[], options) => setExit(await (await import('./commands/run.js')).runCommand(paths, options, ctx)));

  program
    .command('validate')
    .description('Check scenario and target files offline; never connects anywhere')
    .argument('[paths...]', 'scenario files or folders, and target files (named *target*.yaml)')
    .option('-t, --target <file...>', 'target file(s) to check')
    .addHelpText('after', '\nExamples:\n  mailprobe validate suites/\n  mailprobe validate --target staging.yaml suites/pop3')
    .action(async (paths: string[], options) => setExit(await (await import('./commands/validate.js')).validateCommand(paths, options, ctx)));

  program
    .command('probe')
    .description(
      'Diagnose a mail domain or host: DNS (MX, SRV, SPF, DMARC, MTA-STS, TLSA), autoconfig, and every client port of every address (TLS, capabilities, STARTTLS), graded with hints',
    )
    .argument('[host]', 'a mail domain (example.com), a host name (resolved to A and AAAA) or an IP address; optional with --target')
    .addOption(
      new Option('--as <mode>', 'auto: a name with MX or mail SRV records is probed as a mail domain, anything else as a host')
        .choices(PROBE_MODES)
        .default('auto'),
    )
    .addOption(new Option('--https-port <port>', 'port of the autoconfig, Autodiscover and MTA-STS URLs of a domain (default 443)').argParser(portNumber))
    .addOption(
      new Option(
        '--ports <list>',
        'ports to probe (default 25,465,587,110,995,143,993): PORT or PORT=PROTOCOL/SECURITY, e.g. 587,2525=smtp/starttls',
      ).argParser(parsePortMap),
    )
    .option('--json', 'write the report as JSON to stdout, nothing else', false)
    .addOption(new Option('--timeout <ms>', 'connect, TLS, greeting and reply timeout').argParser(positiveInt))
    .option('--ca-file <file>', 'trust this CA (PEM) instead of the system roots')
    .option('--servername <name>', 'the name clients use: sent as SNI and matched against the certificate (default: HOST)')
    .addOption(new Option('--budget <n>', 'conversations with the host at once (default 4)').argParser(positiveCount))
    .addOption(new Option('--dns-server <ip[:port]>', 'resolve HOST with this DNS server, e.g. 127.0.0.1:5300').argParser(parseDnsServer))
    .option(
      '-r, --reporter <name[=file]>',
      'also write the findings as console, junit, junit-strict, tap, json or html=FILE (one testcase per port and check); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addOption(new Option('--watch <seconds>', 'probe again every SECONDS (at least 5) and print only what changed; Ctrl-C ends').argParser(parseWatchSeconds))
    .option(
      '--login <role>',
      "also log in, inside verified TLS only, as the target file's account ROLE on every port (password from its password_env); needs --target",
    )
    .option('-t, --target <file>', "probe the target file's hosts and endpoints with its TLS settings (HOST, --ports, --ca-file and --servername win over it)")
    .addHelpText(
      'after',
      `
Examples:
  mailprobe probe example.com
  mailprobe probe mail.example.com
  mailprobe probe mail.example.com --ports 587,993 --json
  mailprobe probe mail.example.com --reporter junit=reports/probe.xml
  mailprobe probe mail.example.com --watch 30
  mailprobe probe --target staging.yaml
  MAIL_PW=… mailprobe probe --target staging.yaml --login primary

Exit codes: 0 no finding worse than warn, 1 a finding failed, 2 usage, 3 could not run (HOST has no address, DNS did not answer, or a report could not be written), 130 interrupted.`,
    )
    .action(async (host: string | undefined, options) => setExit(await (await import('./commands/probe.js')).probeCommand(host, options, ctx)));

  program
    .command('load')
    .description(
      'Load a mail host: N clients run a weighted mix of IMAP commands (or POP3 cycles) for a set time; prints count, errors and p50/p95/p99 per command, commands/s and logins/s',
    )
    .option('-t, --target <file>', 'target file (default: the built-in lab started by `mailprobe lab up`)')
    .option('--secrets-file <file>', 'read KEY=value lines (passwords) from this file in addition to the environment')
    .option(
      '--protocol <name>',
      'imap, or pop3: each client cycles APPEND to INBOX, then a POP3 session LOGIN, STAT, FIND (LIST/UIDL/TOP), RETR, DELE, QUIT of its own message',
      'imap',
    )
    .addOption(new Option('--clients <n>', 'clients at once (1-1000)').argParser(wholeNumberIn(1, 1000)).default(4))
    .option('--duration <time>', 'how long the measured window lasts: 30s, 500ms, 2m', '30s')
    .option(
      '--mix <weights>',
      'weighted command mix (default FETCH=40,STORE=20,APPEND=10,SELECT=10,EXPUNGE=5; also NOOP and LOGOUT); LOGOUT ends the session and opens a new one',
    )
    .option('--reconnect', 'every session logs in, runs --session-commands mix commands and logs out (the "every session reconnects" case)', false)
    .addOption(
      new Option(
        '--pipeline <n>',
        'persistent imap clients keep up to N FETCH/STORE commands in flight, each on a distinct own message (RFC 9051 §5.5); default 1: one at a time',
      ).argParser(wholeNumberIn(1, 64)),
    )
    .addOption(new Option('--session-commands <n>', 'mix commands per session with --reconnect (default 6)').argParser(wholeNumberIn(1, 100000)))
    .option(
      '--account <role>',
      'account role of the target to log in as; repeatable: clients take them in turn (default: the first); pop3 also takes their stand-ins',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--json <file>', 'also write the results as a JSON report that `report diff` reads (- for stdout; the table then goes to stderr)')
    .addOption(
      new Option('--max-connections-per-host <m>', 'at most M connections open to the host at once (default: --clients; pop3: twice that)').argParser(
        wholeNumberIn(1, 1000),
      ),
    )
    .addOption(new Option('--connect-rate <r>', 'at most R new connections per second to the host (default 500)').argParser(connectRate))
    .action(async (options) => setExit(await (await import('./commands/load.js')).loadCommand(options, ctx)));

  const report = program.command('report').description('Work with JSON reports written by --reporter json=FILE');
  report
    .command('diff')
    .description(
      'What changed between two runs, e.g. before and after a server upgrade: verdicts, capabilities per session, latencies beyond a threshold, check values',
    )
    .argument('<baseline>', 'the JSON report of the earlier run')
    .argument('<current>', 'the JSON report of the later run')
    .addOption(new Option('--format <format>', 'console table, Markdown (for a pull-request comment) or JSON').choices(DIFF_FORMATS).default('console'))
    .addOption(new Option('--threshold <spec>', THRESHOLD_HELP).argParser(threshold).default(DEFAULT_THRESHOLD, '50%,200ms'))
    .addHelpText(
      'after',
      `
Examples:
  mailprobe report diff before.json after.json
  mailprobe report diff before.json after.json --format markdown > comment.md
  mailprobe report diff before.json after.json --threshold 100%,500ms

Regressions: a scenario newly failed or errored, a capability gone from a session, a delivery, IDLE push or scenario
time beyond the threshold. New capabilities, newly passing, skipped or inconclusive scenarios, changed check values and
scenarios found in one report only are listed but are no regression.

Exit codes: 0 no regression, 1 regressed, 2 usage or a file that is not a mailprobe JSON report.`,
    )
    .action(async (baseline: string, current: string, options) =>
      setExit(await (await import('./commands/report.js')).reportDiffCommand(baseline, current, options, ctx)),
    );

  report
    .command('merge')
    .description('Merge the JSON reports of the shards of one run (run --shard i/n) and write them as one run with any reporter')
    .argument('<reports...>', 'the JSON reports of the shards (every shard 1/n … n/n, once each)')
    .option(
      '-r, --reporter <name[=file]>',
      'console, junit, junit-strict, tap, json or html=FILE, as for run; repeatable (default: console)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
Examples:
  mailprobe report merge shard-1.json shard-2.json shard-3.json --reporter junit=junit.xml --reporter json=merged.json

Refused (exit 2): a scenario in two reports, reports of different targets or mailprobe versions, shard reports
that are not exactly shards 1/n … n/n, a file that is not a mailprobe JSON report.

Exit codes: as run would exit for the merged result (0 pass, 1 failed, 3 errored or a report could not be written,
4 inconclusive, 130 a shard was interrupted); 2 usage.`,
    )
    .action(async (files: string[], options) => setExit(await (await import('./commands/report.js')).reportMergeCommand(files, options, ctx)));

  const lab = program.command('lab').description('The built-in loopback lab: real Dovecot and Postfix on 127.0.0.1');
  lab
    .command('up')
    .description('Install (as root) and start the lab; prints where the target files are')
    .option(
      '--servers <names>',
      'comma-separated mail servers: dovecot (always runs; target.yaml), cyrus (target-cyrus.yaml), courier (target-courier.yaml)',
      'dovecot',
    )
    .action(async (options: { servers: string }) => setExit(await (await import('./commands/lab.js')).labCommand('up', ctx, { servers: options.servers })));
  lab
    .command('down')
    .description('Stop every lab process and free its ports')
    .action(async () => setExit(await (await import('./commands/lab.js')).labCommand('down', ctx)));
  lab
    .command('status')
    .description('Show what runs')
    .action(async () => setExit(await (await import('./commands/lab.js')).labCommand('status', ctx)));

  program
    .command('schema')
    .description('Print the JSON Schema for scenario (default) or target files, or write both with --write')
    .argument('[kind]', 'scenario or target', 'scenario')
    .option('--write [dir]', 'write scenario.schema.json and target.schema.json (default: the package schema/ folder)')
    .action(async (kind: string, options) => {
      if (kind !== 'scenario' && kind !== 'target') throw new InvalidArgumentError(`unknown schema '${kind}'; use scenario or target`);
      setExit(await (await import('./commands/schema.js')).schemaCommand(kind, options, ctx));
    });

  return program;
}

async function main(): Promise<void> {
  const pipes = endQuietlyOnClosedPipes([process.stdout, process.stderr]);
  const ctx = contextFromProcess();
  let code: number = EXIT.OK;
  const program = buildProgram(ctx, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    // InvalidArgumentError is a CommanderError too, so it is tested first: one that reaches here was thrown by
    // a command's own action (commander prints, and rethrows as a plain CommanderError, those of its parser).
    if (err instanceof InvalidArgumentError) {
      ctx.stderr.write(`mailprobe: ${err.message}\n`);
      code = EXIT.USAGE;
    } else if (err instanceof CommanderError) {
      // --help and --version exit 0; every other parse problem (already printed by commander) is a usage error.
      code = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      ctx.stderr.write(`mailprobe: internal error: ${(err as Error).stack ?? String(err)}\n`);
      code = EXIT.ERRORED;
    }
  }
  process.exitCode = pipes.failed() && (code === EXIT.OK || code === EXIT.INCONCLUSIVE) ? EXIT.ERRORED : code;
}

await main();
