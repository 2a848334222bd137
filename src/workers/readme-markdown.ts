// A crate's README as HTML that is safe to put in a page: markdown-it (raw HTML allowed, as READMEs
// use it for centred logos, <details> and <kbd>), then sanitize-html with a strict allow-list.
// Every link and image URL goes through the WHATWG URL parser, the one browsers use, so no spelling
// of a scheme (case, entities, control characters, tabs) can differ between our check and the
// browser: links keep http, https and mailto; images http and https.
// Relative URLs point into the repository when its URL is known, and are dropped otherwise (they
// would point into this registry): a link becomes plain text, an image disappears.
// As on GitHub, ids and names the README sets get a `user-content-` prefix (no clash with the
// page's own ids), headings get such ids, and `#fragment` links are rewritten to match them.
// Hostile input: htmlparser2 (under sanitize-html) costs time in proportion to how deep the open
// elements nest for every element it opens, so 160,000 nested <div>s took minutes. The nesting is
// counted exactly as the parser builds it (sanitize-html's open/close hooks) and the render stops as
// soon as it passes MAX_README_NESTING: such a README is shown as escaped text with a note saying why.
// Every other step is linear in the input (links and images to drop are removed in one pass over the
// output, not by sanitize-html's exclusiveFilter, which copies the whole output once for each).
// Pure: no I/O. Runs on a worker thread (workers/readme-task.ts).

import MarkdownIt, { type StateCore } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';
import { tooLarge } from '../domain/errors.js';
import { MAX_README_NESTING, plainReadme, readmeNote } from './readme-text.js';

export { MAX_README_NESTING };

/** Where relative links and images of one README point; see readmeLinkBase. */
export interface ReadmeLinkBase {
  /** Root of the repository's file view (links), ending in `/`. */
  readonly links: string;
  /** Root of the repository's raw files (images), ending in `/`. */
  readonly images: string;
  /** Folder of the README inside the repository, as a URL path: `` or `docs/`. */
  readonly readmeDir: string;
}

export const USER_CONTENT_PREFIX = 'user-content-';
export const LINK_REL = 'nofollow noopener noreferrer';

const MARKDOWN_EXTENSIONS = new Set(['md', 'markdown', 'mdown', 'mdwn', 'mkd', 'mkdn', 'mkdown']);

export const README_TOO_DEEP = 'readme-too-deep';

/**
 * Renders a README: Markdown by its file extension, anything else as preformatted text. A Markdown
 * README whose HTML nests deeper than `maxNesting` is shown as preformatted text, after a note.
 */
export function renderReadme(source: string, path: string, links: ReadmeLinkBase | undefined, maxNesting = MAX_README_NESTING): string {
  const name = path.split(/[/\\]/).pop() ?? '';
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (!MARKDOWN_EXTENSIONS.has(extension)) return plainReadme(source);
  try {
    return renderMarkdown(source, links, maxNesting);
  } catch (error) {
    if ((error as { code?: unknown }).code !== README_TOO_DEEP) throw error;
    return (
      readmeNote(
        `This README nests HTML elements more than ${maxNesting} levels deep, which this registry does not render; it is shown as plain text.`,
      ) + plainReadme(source)
    );
  }
}

/**
 * Where a README's relative links point. GitHub, GitLab (gitlab.com and `gitlab.*` hosts, subgroups
 * included) and Codeberg/Gitea get their file and raw views of the default branch (`HEAD`); any other
 * http(s) URL is used as a folder. Undefined without a usable URL. `readmePath` is the README's path
 * inside the repository (e.g. `crates/foo/README.md`).
 */
export function readmeLinkBase(repositoryUrl: string | null | undefined, readmePath: string): ReadmeLinkBase | undefined {
  if (!repositoryUrl) return undefined;
  let url: URL;
  try {
    url = new URL(repositoryUrl.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const readmeDir = folderOf(readmePath);
  const host = url.hostname.toLowerCase();
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const repo = (parts: string[]) => `https://${host.replace(/^www\./, '')}/${parts.join('/').replace(/\.git$/i, '')}/`;
  if ((host === 'github.com' || host === 'www.github.com') && segments.length >= 2) {
    const root = repo(segments.slice(0, 2));
    return { links: `${root}blob/HEAD/`, images: `${root}raw/HEAD/`, readmeDir };
  }
  const project = segments.indexOf('-') === -1 ? segments : segments.slice(0, segments.indexOf('-'));
  if ((host === 'gitlab.com' || host.startsWith('gitlab.')) && project.length >= 2) {
    const root = repo(project);
    return { links: `${root}-/blob/HEAD/`, images: `${root}-/raw/HEAD/`, readmeDir };
  }
  if ((host === 'codeberg.org' || host === 'gitea.com') && segments.length >= 2) {
    // Gitea and Forgejo have no /blob/; `branch/HEAD` names the default branch.
    const root = repo(segments.slice(0, 2));
    return { links: `${root}src/branch/HEAD/`, images: `${root}raw/branch/HEAD/`, readmeDir };
  }
  url.username = url.password = url.search = url.hash = ''; // never put credentials into a page
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { links: url.href, images: url.href, readmeDir };
}

/** The folder part of a path inside the repository, normalized (no `..` above the root), `` or ending in `/`. */
function folderOf(path: string): string {
  const resolved = new URL(path.replace(/\\/g, '/').replace(/[?#]/g, encodeURIComponent), PLACEHOLDER).pathname;
  return resolved.slice(1, resolved.lastIndexOf('/') + 1);
}

// Relative URLs are resolved against this first: `..` cannot climb above the repository root, and
// a URL that leaves this origin was protocol-relative (`//host/x`, `\\host\x`).
const PLACEHOLDER = 'https://readme.invalid/';
const PLACEHOLDER_ORIGIN = new URL(PLACEHOLDER).origin;

/** A safe absolute URL for a link or image, or undefined to drop it. */
function resolveUrl(raw: string, kind: 'link' | 'image', base: ReadmeLinkBase | undefined): string | undefined {
  const value = raw.trim();
  if (value === '') return undefined;
  if (kind === 'link' && value.startsWith('#')) return userContentFragment(value);
  const schemes = kind === 'link' ? ['http:', 'https:', 'mailto:'] : ['http:', 'https:'];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Relative (no scheme).
    try {
      url = new URL(value, PLACEHOLDER + (base?.readmeDir ?? ''));
    } catch {
      return undefined;
    }
    if (url.origin === PLACEHOLDER_ORIGIN) {
      if (!base) return undefined;
      url = new URL(url.pathname.slice(1) + url.search + url.hash, kind === 'image' ? base.images : base.links);
    }
  }
  return schemes.includes(url.protocol) ? url.href : undefined;
}

function userContentFragment(fragment: string): string {
  const id = fragment.slice(1);
  if (id === '' || id.startsWith(USER_CONTENT_PREFIX)) return fragment;
  return `#${USER_CONTENT_PREFIX}${id}`;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function headingIds(state: StateCore): void {
  const seen = new Map<string, number>();
  state.tokens.forEach((token, i) => {
    if (token.type !== 'heading_open') return;
    const inline = state.tokens[i + 1];
    const text = (inline?.children ?? [])
      .filter((child) => child.type === 'text' || child.type === 'code_inline')
      .map((child) => child.content)
      .join('');
    const slug = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    if (slug === '') return;
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    token.attrSet('id', count === 0 ? slug : `${slug}-${count}`);
  });
}

const markdown = new MarkdownIt({ html: true, linkify: true });
markdown.core.ruler.push('heading_ids', headingIds);

function alignFromStyle(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
  // markdown-it aligns table cells with `style`, which is not allowed: keep the alignment as `align`.
  const align = /text-align:\s*(left|right|center)/i.exec(attribs.style ?? '')?.[1];
  const { style: _style, ...rest } = attribs;
  return { tagName, attribs: align ? { ...rest, align: align.toLowerCase() } : rest };
}

const ALIGN = ['align'];

// A link or image to drop leaves sanitize-html with no attributes at all: `<a>` or `<img />`, which
// nothing else produces with a meaning (an <a> without href is no link, an <img> without src shows
// nothing). removeDropped then takes those out: a link keeps its text, an image goes. (Renaming the
// tag instead confuses sanitize-html: the new name leaks onto the closing tag of a later sibling.)
const drop = (tagName: string): sanitizeHtml.Tag => ({ tagName, attribs: {} });

/**
 * Removes the `<a>`…`</a>` pairs and `<img />` tags that mark dropped links and images, in one pass.
 * Sanitized output escapes `<` in text and attribute values, so every match is a real tag, and every
 * `</a>` closes the nearest open `<a…>`.
 */
function removeDropped(html: string): string {
  const openLinks: boolean[] = []; // for each <a> open at this point: was it dropped?
  return html.replace(/<a(?:\s[^>]*)?>|<\/a>|<img \/>/g, (tag) => {
    if (tag === '<img />') return '';
    if (tag === '</a>') return openLinks.pop() === true ? '' : tag;
    openLinks.push(tag === '<a>');
    return tag === '<a>' ? '' : tag;
  });
}

function sanitizeOptions(base: ReadmeLinkBase | undefined, maxNesting: number): sanitizeHtml.IOptions {
  // The depth of the parser's stack of open elements, as it changes (void elements open and close).
  let depth = 0;
  return {
    onOpenTag: () => {
      if (++depth > maxNesting) throw tooLarge(README_TOO_DEEP, `this README nests HTML elements more than ${maxNesting} levels deep`);
    },
    onCloseTag: () => {
      depth--;
    },
    allowedTags: [
      'h1',
      'h2',
      'h3',
      'h4',
      'h5',
      'h6',
      'p',
      'div',
      'span',
      'br',
      'hr',
      'blockquote',
      'pre',
      'code',
      'em',
      'strong',
      'b',
      'i',
      's',
      'del',
      'ins',
      'mark',
      'small',
      'sub',
      'sup',
      'kbd',
      'samp',
      'var',
      'abbr',
      'q',
      'cite',
      'ul',
      'ol',
      'li',
      'dl',
      'dt',
      'dd',
      'details',
      'summary',
      'figure',
      'figcaption',
      'table',
      'caption',
      'thead',
      'tbody',
      'tfoot',
      'tr',
      'th',
      'td',
      'a',
      'img',
    ],
    allowedAttributes: {
      '*': ['id'],
      a: ['href', 'title', 'rel', 'name'],
      img: ['src', 'alt', 'title', 'width', 'height', 'align', 'referrerpolicy', 'loading'],
      p: ALIGN,
      div: ALIGN,
      h1: ALIGN,
      h2: ALIGN,
      h3: ALIGN,
      h4: ALIGN,
      h5: ALIGN,
      h6: ALIGN,
      th: ['align', 'colspan', 'rowspan'],
      td: ['align', 'colspan', 'rowspan'],
      ol: ['start'],
      details: ['open'],
      abbr: ['title'],
      code: ['class'],
    },
    allowedClasses: { code: [/^language-[\w+#.,-]+$/] },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: [
      'script',
      'style',
      'textarea',
      'option',
      'noscript',
      'template',
      'title',
      'xmp',
      'noembed',
      'noframes',
      'iframe',
      'object',
      'select',
    ],
    enforceHtmlBoundary: false,
    transformTags: {
      a: (tagName, attribs) => {
        if (attribs.href === undefined) return { tagName, attribs };
        const href = resolveUrl(attribs.href, 'link', base);
        if (href === undefined) return drop(tagName);
        return { tagName, attribs: { ...attribs, href, rel: LINK_REL } };
      },
      img: (tagName, attribs) => {
        const src = resolveUrl(attribs.src ?? '', 'image', base);
        if (src === undefined) return drop(tagName);
        return { tagName, attribs: { ...attribs, src, referrerpolicy: 'no-referrer', loading: 'lazy' } };
      },
      th: alignFromStyle,
      td: alignFromStyle,
      '*': (tagName, attribs) => {
        for (const key of ['id', 'name']) {
          const value = attribs[key];
          if (value !== undefined && !value.startsWith(USER_CONTENT_PREFIX)) attribs[key] = USER_CONTENT_PREFIX + value;
        }
        return { tagName, attribs };
      },
    },
  };
}

/**
 * Markdown (with inline HTML) to sanitized HTML; relative URLs resolved against `links`. Throws
 * `too-large` with code README_TOO_DEEP when elements nest deeper than `maxNesting`.
 */
export function renderMarkdown(source: string, links: ReadmeLinkBase | undefined, maxNesting = MAX_README_NESTING): string {
  return removeDropped(sanitizeHtml(markdown.render(source.replace(/^\uFEFF/, '')), sanitizeOptions(links, maxNesting)));
}
