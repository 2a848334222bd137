// Checks that HTML meant for a page can run nothing: read strictly (every `<` opens a well-formed
// tag with double-quoted attributes, so a browser cannot read the markup otherwise than this
// reader), no tag that runs or loads active content, no event handler or style attribute, and
// every link or image URL absolute with an allowed scheme after entity decoding.

import assert from 'node:assert/strict';

export interface HtmlTag {
  name: string;
  closing: boolean;
  attrs: Map<string, string>;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] !== '#') return NAMED[e.toLowerCase()] ?? whole;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1));
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** The tags of `html`; fails on any `<` that does not open a strictly well-formed tag, or a raw `>` in text. */
export function readTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = [];
  const tag = /<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z0-9-]*(?:="[^"<>]*")?)*)\s*\/?>/y;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const text = html.slice(i, lt === -1 ? html.length : lt);
    assert.ok(!text.includes('>'), `raw > in text: ${JSON.stringify(text)}`);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(html);
    assert.ok(m, `malformed markup at ${JSON.stringify(html.slice(lt, lt + 80))}`);
    const attrs = new Map<string, string>();
    for (const a of m[3]!.matchAll(/([a-z][a-z0-9-]*)(?:="([^"]*)")?/g)) {
      assert.ok(!attrs.has(a[1]!), `duplicate attribute ${a[1]}`);
      attrs.set(a[1]!, decodeEntities(a[2] ?? ''));
    }
    tags.push({ name: m[2]!, closing: m[1] === '/', attrs });
    i = tag.lastIndex;
  }
  return tags;
}

/** Tags that run, load or submit something: never in what a page shows from a publisher. */
export const ACTIVE_TAGS = new Set([
  'script',
  'style',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'form',
  'input',
  'button',
  'textarea',
  'select',
  'option',
  'meta',
  'base',
  'link',
  'svg',
  'math',
  'template',
  'noscript',
  'source',
  'picture',
  'video',
  'audio',
  'track',
  'portal',
  'xmp',
  'plaintext',
  'title',
  'html',
  'head',
  'body',
]);
const ACTIVE_ATTRIBUTES = new Set([
  'style',
  'srcset',
  'formaction',
  'action',
  'target',
  'background',
  'dynsrc',
  'lowsrc',
  'ping',
  'poster',
  'xlink:href',
  'data',
]);
/** Attributes a browser reads as a URL (text attributes such as title or id may say anything). */
const URL_ATTRIBUTES = new Set(['href', 'src', 'cite', 'longdesc', 'usemap', 'codebase', 'manifest']);

/** Fails unless every tag and attribute of `html` is one a page can show without running anything. */
export function assertInertHtml(html: string, allowed: { link: string[]; image: string[] }): HtmlTag[] {
  assert.ok(!/<script/i.test(html), `<script in ${html}`);
  const tags = readTags(html);
  for (const t of tags) {
    assert.ok(!ACTIVE_TAGS.has(t.name), `<${t.name}> in ${html}`);
    for (const [name, value] of t.attrs) {
      assert.ok(!/^on/i.test(name), `event handler ${name} in ${html}`);
      assert.ok(!ACTIVE_ATTRIBUTES.has(name), `attribute ${name} in ${html}`);
      // A text attribute (title, id) may say anything, and so may a fragment link within the page.
      if (!URL_ATTRIBUTES.has(name) || (name === 'href' && value.startsWith('#'))) continue;
      assert.ok(!/(java|vb)script:/i.test(value.replace(/[\s\u0000-\u001f]/g, '')), `${name}=${value} in ${html}`);
      if (name === 'href' || name === 'src') {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          assert.fail(`${name}=${JSON.stringify(value)} is not an absolute URL in ${html}`);
        }
        const schemes = name === 'href' ? allowed.link : allowed.image;
        assert.ok(schemes.includes(url.protocol), `${name}=${value} in ${html}`);
      }
    }
  }
  return tags;
}
