import { escapeControls } from './escape.js';

/**
 * Escaping for the HTML report, made the default: `html\`…\`` escapes every
 * value it is given unless that value is itself Markup built the same way.
 * Server replies, transcripts and scenario text all reach the page through
 * it, so a `<script>` from a hostile server is shown as text.
 */
export class Markup {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export type Part = Markup | string | number | boolean | undefined | null | readonly Part[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Control and disguising characters made visible (`\x1b`, `\u202e`, as in every
 * report), then the five characters that mean something in HTML text or in a
 * quoted attribute.
 */
export function escapeHtml(text: string): string {
  return escapeControls(text).replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

function render(part: Part): string {
  if (part === undefined || part === null || part === false || part === true) return '';
  if (part instanceof Markup) return part.html;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: readonly Part[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Markup(out);
}

/**
 * The head of every page mailprobe writes (the HTML report, the matrix): the
 * policy that forbids every request, no referrer, the generator, the title and
 * the page's one inline style sheet (allowed by its hash in `csp`).
 */
export function pageHead(page: { readonly csp: string; readonly version: string; readonly title: Part; readonly style: string }): Markup {
  return html`<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mailprobe ${page.version}">
<title>${page.title}</title>
<style>${new Markup(page.style)}</style>
</head>`;
}
