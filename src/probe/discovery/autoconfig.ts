import { create } from 'xmlbuilder2';
import type { ProtocolName } from '../../core/protocols.js';
import type { DiscoveredServer } from '../domain-model.js';

/**
 * Mozilla autoconfig (the "clientConfig" format Thunderbird reads from
 * autoconfig.<domain> and the ISPDB). Read the way a consumer reads it:
 * clientConfig > emailProvider > incomingServer[type=imap|pop3] and
 * outgoingServer[type=smtp], each with hostname, port and socketType; other
 * elements (displayName, authentication, username, documentation, …) are
 * ignored. As in Thunderbird's own readers (desktop, and thunderbird-android's
 * autoconfig parser): the first emailProvider counts, it needs a host-name id
 * and one valid <domain>, and at least one usable incoming and one usable
 * outgoing server. A server whose type, hostname, port or socketType cannot be
 * used is skipped (desktop's way; Android refuses the whole document, and
 * refuses socketType plain too), and the skipped ones are reported.
 *
 * Parsing is bounded and inert: the body is already size-limited by the
 * fetcher, and a document with a DOCTYPE is refused before it is parsed.
 * xmlbuilder2 neither loads external DTDs nor expands internal entities (an
 * entity reference stays literal text), so nothing could be expanded anyway;
 * refusing the DOCTYPE outright keeps a literal "&x;" out of a hostname and
 * says plainly why. xmlbuilder2's parser is lax about mismatched end tags;
 * what matters here is the structure it yields, which is checked below.
 */

/** The part of the DOM xmlbuilder2 returns that is read here (its DOM types live in a transitive package). */
interface XmlNode {
  readonly nodeType: number;
  readonly textContent: string | null;
}
interface XmlElement extends XmlNode {
  readonly localName: string;
  readonly childNodes: ArrayLike<XmlNode>;
  getAttribute(name: string): string | null;
}

export interface AutoconfigAddress {
  /** The domain the document is for (%EMAILDOMAIN%). */
  readonly domain: string;
  /** The user's address when one is known (%EMAILADDRESS%, %EMAILLOCALPART%). */
  readonly emailAddress?: string;
}

export interface SkippedServer {
  readonly element: string;
  readonly why: string;
}

export type AutoconfigParse =
  | { readonly ok: true; readonly servers: readonly DiscoveredServer[]; readonly skipped: readonly SkippedServer[] }
  | { readonly ok: false; readonly reason: string };

const SOCKET_TYPES: Readonly<Record<string, DiscoveredServer['security']>> = { SSL: 'tls', STARTTLS: 'starttls', plain: 'none' };
const INCOMING: Readonly<Record<string, ProtocolName>> = { imap: 'imap', pop3: 'pop3' };
const OUTGOING: Readonly<Record<string, ProtocolName>> = { smtp: 'smtp' };

/** A DNS name after substitution: letters, digits, hyphens, dots; no placeholder left. */
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

export function parseAutoconfig(text: string, address: AutoconfigAddress): AutoconfigParse {
  if (/<!DOCTYPE/i.test(text)) return { ok: false, reason: 'the document has a DOCTYPE; autoconfig needs none, and its entities are not expanded' };
  let root: XmlElement;
  try {
    const document = create(text);
    root = document.root().node as unknown as XmlElement;
  } catch (error) {
    return { ok: false, reason: `not well-formed XML: ${firstLine(error)}` };
  }
  if (root.localName !== 'clientConfig') return { ok: false, reason: `the root element is <${root.localName}>, not <clientConfig>` };
  const provider = children(root, 'emailProvider')[0];
  if (provider === undefined) return { ok: false, reason: '<clientConfig> has no <emailProvider>' };
  // Thunderbird refuses a provider without a host-name id or without one valid <domain>.
  if (!HOSTNAME.test(provider.getAttribute('id') ?? '')) return { ok: false, reason: '<emailProvider> has no valid id attribute' };
  const domains = children(provider, 'domain').map((element) => substitute(element.textContent?.trim(), address) ?? '');
  if (!domains.some((domain) => HOSTNAME.test(domain))) return { ok: false, reason: '<emailProvider> has no valid <domain>' };

  const servers: DiscoveredServer[] = [];
  const skipped: SkippedServer[] = [];
  const read = (element: XmlElement, kinds: Readonly<Record<string, ProtocolName>>): void => {
    const type = element.getAttribute('type') ?? '';
    const label = `<${element.localName} type="${type}">`;
    const protocol = kinds[type];
    if (protocol === undefined) return void skipped.push({ element: label, why: `type "${type}" is not one mailprobe checks` });
    const hostname = substitute(text1(element, 'hostname'), address);
    if (hostname === undefined) return void skipped.push({ element: label, why: 'no <hostname>' });
    if (/%[A-Z]+%/.test(hostname))
      return void skipped.push({ element: label, why: `hostname "${hostname}" keeps a placeholder that needs the user's address` });
    if (!HOSTNAME.test(hostname)) return void skipped.push({ element: label, why: `hostname "${hostname}" is not a host name` });
    const portText = text1(element, 'port');
    const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) return void skipped.push({ element: label, why: `port "${portText ?? ''}" is not a port number` });
    const socketType = text1(element, 'socketType') ?? '';
    const security = SOCKET_TYPES[socketType];
    if (security === undefined) return void skipped.push({ element: label, why: `socketType "${socketType}" is not SSL, STARTTLS or plain` });
    servers.push({ protocol, host: hostname.replace(/\.$/, '').toLowerCase(), port, security });
  };
  // Like Thunderbird desktop, a server it cannot use is skipped, but the
  // document needs at least one usable server of each direction.
  const directions = [
    ['incomingServer', INCOMING],
    ['outgoingServer', OUTGOING],
  ] as const;
  for (const [name, kinds] of directions) {
    const before = servers.length;
    const skippedBefore = skipped.length;
    for (const element of children(provider, name)) read(element, kinds);
    if (servers.length === before) {
      const why = skipped.slice(skippedBefore).map((s) => `${s.element}: ${s.why}`);
      return { ok: false, reason: `no usable <${name}>${why.length === 0 ? '' : ` (${why.join('; ')})`}` };
    }
  }
  return { ok: true, servers, skipped };
}

/** %EMAILDOMAIN% always; %EMAILADDRESS% and %EMAILLOCALPART% only when the address is known (else left for the caller to refuse). */
function substitute(value: string | undefined, address: AutoconfigAddress): string | undefined {
  if (value === undefined) return undefined;
  const at = address.emailAddress?.lastIndexOf('@') ?? -1;
  return value.replace(/%(EMAILDOMAIN|EMAILADDRESS|EMAILLOCALPART)%/g, (whole, name: string) => {
    if (name === 'EMAILDOMAIN') return address.domain;
    if (address.emailAddress === undefined) return whole;
    return name === 'EMAILADDRESS' ? address.emailAddress : address.emailAddress.slice(0, Math.max(at, 0));
  });
}

function children(parent: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (const node of Array.from(parent.childNodes)) {
    if (node.nodeType === 1 && (node as XmlElement).localName === name) found.push(node as XmlElement);
  }
  return found;
}

function text1(parent: XmlElement, name: string): string | undefined {
  const value = children(parent, name)[0]?.textContent?.trim();
  return value === undefined || value.length === 0 ? undefined : value;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
