import type { EndpointName } from '../ports.js';
import type { LabLayout } from '../paths.js';

/** The mail servers the lab knows, in the order `--servers` lists them. */
export const SERVER_NAMES = ['dovecot', 'cyrus', 'courier'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** Ports by listener name (endpoint names, plus e.g. "lmtp" for a server's delivery port). */
export type ServerPorts = Readonly<Record<string, number>>;

/** A listener the lab waits on until it greets (LAB-NOTES 3: a TCP connect proves nothing). */
export interface GreetingCheck {
  endpoint: EndpointName;
  host: string;
  port: number;
}

/**
 * The greetings that mean a server on its own address is ready: its IMAP and POP3 listeners and the
 * Postfix endpoints for its accounts, since its target file is complete only when they all greet.
 */
export function ownAddressGreetings(host: string, ports: ServerPorts): GreetingCheck[] {
  return (['imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'submission', 'smtps'] as EndpointName[]).map((endpoint) => ({
    endpoint,
    host,
    port: ports[endpoint] as number,
  }));
}

export interface UnpackSpec {
  packages: readonly string[];
  /** The installed apt package whose version they must have (it carries the libraries they link against). */
  versionOf: string;
  /** Where they are unpacked. */
  root(layout: LabLayout): string;
}

/** What every server module gets from the lab when it is prepared and started. */
export interface ServerContext {
  layout: LabLayout;
  /** password_env name -> this lab's password; never logged, never on a command line. */
  passwords: ReadonlyMap<string, string>;
  log: (line: string) => void;
}

/** Lines a server adds to the lab's one Postfix so mail for its accounts reaches it. */
export interface PostfixPart {
  /** Appended to main.cf (may be empty). */
  main: string;
  /** Appended to master.cf: e.g. smtpd services on the server's own address (may be empty). */
  master: string;
  /**
   * A mail domain that Postfix's virtual(8) writes into Maildirs itself, beside
   * Dovecot's lab.test (for a server without LMTP, such as Courier). Merged into
   * the one virtual_mailbox_domains / virtual_mailbox_maps of main.cf, since a
   * second definition of those in a part would silently replace Dovecot's.
   * The map's paths are relative to virtual_mailbox_base (the lab's mail dir).
   */
  virtualMailbox?: { domain: string; mapFile: string };
}

/**
 * One mail server of the lab. The lab (src/lab/lab.ts) owns what they share:
 * the state dir, the certificate, the passwords, Postfix, readiness, and
 * stopping by PID. A module owns what only its server needs.
 */
export interface LabServer {
  readonly name: ServerName;
  /** Debian packages installed with apt (must not conflict with any other server's). */
  readonly aptPackages: readonly string[];
  /**
   * Debian packages that conflict with another server's (apt would remove
   * Dovecot): fetched with apt-get download at the version of an installed
   * companion package, and unpacked into a private root (src/lab/unpack.ts).
   */
  readonly unpack: UnpackSpec | null;
  /** Listener names this server needs ports for, each bound on `hostOf(name)`. */
  readonly portNames: readonly string[];
  hostOf(portName: string): string;
  /** The target file it writes once ready. */
  targetFile(layout: LabLayout): string;
  /** Folders, accounts and config files, from fixtures/lab templates. Called before Postfix's config is written. */
  prepare(ctx: ServerContext, ports: ServerPorts): Promise<void>;
  /** What it adds to Postfix (delivery into it, SMTP endpoints for its accounts). */
  postfix(ctx: ServerContext, ports: ServerPorts): Promise<PostfixPart>;
  /**
   * Start it; returns the PIDs to end at `lab down`, by role. Throws a LabError
   * with its log tail when it does not start. PIDs are recorded as soon as known.
   */
  start(ctx: ServerContext, ports: ServerPorts, record: (pids: Record<string, number | null>) => Promise<void>): Promise<Record<string, number | null>>;
  /** The recorded PIDs that are still alive and still this lab's (PIDs get reused). */
  livePids(layout: LabLayout, recorded: Readonly<Record<string, number | null>>): Promise<Record<string, number | null>>;
  /** Is this command line one of this server's processes (safety net at `lab down`)? */
  ownsCommand(layout: LabLayout, commandLine: string): boolean;
  /**
   * This lab's processes of the server that are no descendants of its recorded
   * PIDs (a helper that daemonised itself, like Courier's gam_server); ended with
   * the rest at `lab down`. Optional.
   */
  strayPids?(layout: LabLayout): Promise<number[]>;
  /** The listeners that must greet before the lab is ready. */
  greetings(ports: ServerPorts): GreetingCheck[];
  /** The target file's text for these ports. */
  renderTarget(ports: ServerPorts, caFile: string): string;
  /** Logs quoted in an error message when it does not start or greet. */
  logFiles(layout: LabLayout): string[];
}
