// Fuzzes README rendering (src/workers/readme-markdown.ts) with small documents assembled from
// Markdown and raw HTML fragments, XSS vectors and obfuscated URLs: renderReadme never throws, and
// its output runs nothing: no <script>, no event handler or style attribute, no javascript: or
// data: URL, every tag well-formed (test/support/html-inert.ts). Inputs stay small: the cost of
// deep nesting is bounded elsewhere.

import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readmeLinkBase, renderReadme } from '../../src/workers/readme-markdown.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';
import { assertInertHtml } from '../support/html-inert.js';

const file = import.meta.url;

const url = fc.oneof(
  fc.constantFrom(
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'java&#x09;script:alert(1)',
    'javascript&colon;alert(1)',
    '&#106;avascript:alert(1)',
    '\u0001javascript:alert(1)',
    'vbscript:msgbox(1)',
    'data:text/html;base64,PHNjcmlwdD4=',
    'data:image/svg+xml,<svg onload=alert(1)>',
    '//evil.example/x',
    '\\\\evil.example\\x',
    'https://ok.example/a?b=c#d',
    'http://ok.example/',
    'mailto:a@b.example',
    'ftp://x.example/',
    'file:///etc/passwd',
    '../../../etc',
    'docs/guide.md',
    '#section',
    '#user-content-x',
    '',
    ' ',
    'https://ok.example/"onmouseover="alert(1)',
  ),
  fc.webUrl(),
  fc.string({ maxLength: 12 }),
);
const attrName = fc.constantFrom(
  'href',
  'href',
  'href',
  'src',
  'src',
  'src',
  'onclick',
  'onerror',
  'OnLoad',
  'style',
  'id',
  'name',
  'class',
  'title',
  'srcset',
  'formaction',
  'target',
  'xlink:href',
  'align',
  'width',
);
const attr = fc
  .tuple(attrName, fc.oneof(url, fc.string({ maxLength: 8 })), fc.constantFrom('"', "'", ''))
  .map(([n, v, q]) => `${n}=${q}${v}${q}`);
const tagName = fc.constantFrom(
  'a',
  'a',
  'a',
  'a',
  'img',
  'img',
  'img',
  'A',
  'IMG',
  'script',
  'SCRIPT',
  'style',
  'iframe',
  'svg',
  'math',
  'div',
  'p',
  'details',
  'summary',
  'table',
  'td',
  'form',
  'input',
  'object',
  'embed',
  'base',
  'meta',
  'link',
  'noscript',
  'template',
  'textarea',
  'xmp',
  'kbd',
  'code',
);
const html = fc.oneof(
  fc
    .tuple(tagName, fc.array(attr, { maxLength: 3 }), fc.string({ maxLength: 10 }), fc.boolean())
    .map(([t, attrs, body, close]) => `<${t} ${attrs.join(' ')}>${body}${close ? `</${t}>` : ''}`),
  fc.constantFrom(
    '<!-- x -->',
    '<!--',
    '-->',
    '<![CDATA[<script>alert(1)</script>]]>',
    '</',
    '<',
    '>',
    '<a href=x',
    '"><script>alert(1)</script>',
    '<img src=x onerror=alert(1)//',
  ),
);
const markdown = fc.oneof(
  fc.tuple(fc.string({ maxLength: 8 }), url).map(([t, u]) => `[${t}](${u})`),
  fc.tuple(fc.string({ maxLength: 8 }), url).map(([t, u]) => `![${t}](${u})`),
  url.map((u) => `<${u}>`),
  fc.tuple(fc.string({ maxLength: 8 }), url).map(([t, u]) => `[${t}][r]\n\n[r]: ${u}\n`),
  fc.string({ maxLength: 12 }).map((t) => `# ${t}\n`),
  fc.constantFrom(
    '| a | b |\n|:-:|--:|\n| 1 | 2 |\n',
    '```js\nalert(1)\n```\n',
    '> quote\n',
    '- item\n- [link](javascript:x)\n',
    '***',
    '`<script>`',
    'www.example.com',
    'https://bare.example/link',
  ),
  fc.string({ maxLength: 20 }),
);
const document = fc
  .array(fc.tuple(fc.oneof(markdown, html), fc.constantFrom('', ' ', '\n', '\n\n')), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.map(([p, sep]) => p + sep).join(''));
const path = fc.constantFrom('README.md', 'docs/README.markdown', 'crates/x/readme.MD', 'README', 'readme.txt', 'README.rst');
const links = fc.constantFrom(
  undefined,
  'https://github.com/owner/repo',
  'https://gitlab.example/group/sub/repo.git',
  'http://plain.example/repo/',
  'javascript:alert(1)//github.com/a/b',
  'https://user:pass@host.example/r',
);

describe('fuzz: README rendering', () => {
  it('never throws, and its output runs nothing', async () => {
    await checkProperty(
      fc.property(document, path, links, (source, readmePath, repository) => {
        const base = repository === undefined ? undefined : readmeLinkBase(repository, readmePath);
        const out = renderReadme(source, readmePath, base);
        assertInertHtml(out, { link: ['http:', 'https:', 'mailto:'], image: ['http:', 'https:'] });
      }),
      { runs: 2500, file, name: 'never throws, and its output runs nothing' },
    );
  });
});
