// README HTML that needs no Markdown or HTML parser: the README as escaped preformatted text, and the
// note shown above a README that is not rendered as written; and the nesting limit. Its own module so
// that the event loop's side of README rendering (services/readme.ts) loads neither markdown-it nor
// sanitize-html: those run on the worker threads only (readme-markdown.ts).

/**
 * How deep HTML elements may nest in a rendered README. Real READMEs stay far below (a list in a
 * table in <details> is about ten); browsers flatten anything past 512. The parser's cost for each
 * element grows with this depth, so it bounds the render at a few hundred milliseconds for the
 * largest README read.
 */
export const MAX_README_NESTING = 256;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

export const escapeText = (text: string) => text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);

/** A note shown above a README that is not rendered as written, and why. */
export const readmeNote = (why: string) => `<p class="readme-note"><em>${escapeText(why)}</em></p>`;

/** A README as preformatted text, escaped. */
export const plainReadme = (source: string) => `<pre class="readme-text">${escapeText(source.replace(/^\uFEFF/, ''))}</pre>`;
