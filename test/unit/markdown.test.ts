// README rendering: XSS vectors come out inert (checked by parsing the output's tags and
// attributes, not by grepping), ordinary Markdown and README HTML survive, and relative links and
// images resolve into the repository (or are dropped without one).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LINK_REL,
  MAX_README_NESTING,
  readmeLinkBase,
  renderMarkdown,
  renderReadme,
  type ReadmeLinkBase,
} from '../../src/workers/readme-markdown.js';
// The strict tag reader: every `<` must open a well-formed tag whose attributes are all
// double-quoted and text may hold no `>`, so a browser cannot read the output differently.
import { ACTIVE_TAGS, readTags, type HtmlTag } from '../support/html-inert.js';

/** Fails unless every tag and attribute of `html` is one a page can show without running anything. */
function assertInert(html: string): HtmlTag[] {
  const tags = readTags(html);
  for (const t of tags) {
    assert.ok(!ACTIVE_TAGS.has(t.name), `forbidden <${t.name}> in ${html}`);
    for (const [name, value] of t.attrs) {
      assert.ok(!/^on/i.test(name), `event handler ${name} in ${html}`);
      assert.ok(!['style', 'srcset', 'formaction', 'action', 'target', 'xlink:href'].includes(name), `attribute ${name} in ${html}`);
      if (name === 'id' || name === 'name') assert.match(value, /^user-content-/, `unprefixed ${name} in ${html}`);
      if (name === 'href' || name === 'src') {
        if (name === 'href' && value.startsWith('#')) continue;
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          assert.fail(`${name}=${value} is not an absolute URL (every URL we emit is) in ${html}`);
        }
        const allowed = name === 'href' ? ['http:', 'https:', 'mailto:'] : ['http:', 'https:'];
        assert.ok(allowed.includes(url.protocol), `${name}=${value} in ${html}`);
        assert.ok(!/^[\s\u0000-\u001f]*(javascript|vbscript|data):/i.test(value), `${name}=${value} in ${html}`);
      }
    }
    if (t.name === 'a' && t.attrs.has('href')) assert.equal(t.attrs.get('rel'), LINK_REL);
  }
  return tags;
}

const github = readmeLinkBase('https://github.com/owner/repo', 'README.md');
const elements = (html: string, name: string) => readTags(html).filter((t) => t.name === name && !t.closing);
const hrefs = (html: string) => elements(html, 'a').map((a) => a.attrs.get('href'));
const srcs = (html: string) => elements(html, 'img').map((img) => img.attrs.get('src'));

const VECTORS = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>',
  '<img src=x onerror=alert(1)>',
  '<img src="javascript:alert(1)">',
  '<img src="data:image/svg+xml;base64,PHN2Zz4=">',
  '![x](javascript:alert(1))',
  '![x](data:image/png;base64,iVBORw0KGgo=)',
  '[x](javascript:alert(1))',
  '[x](JAVASCRIPT:alert(1))',
  '[x](vbscript:msgbox(1))',
  '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="javascript&#58;alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
  '<a href="\u0001javascript:alert(1)">x</a>',
  '<a href=" java\tscript:alert(1)">x</a>',
  '<a href="java&#x09;script:alert(1)">x</a>',
  '<a href="data:text/html,<script>alert(1)</script>">x</a>',
  '<a href="https://ok.example/" onclick="alert(1)" target="_blank" style="position:fixed">x</a>',
  '<iframe src="https://evil.example/"></iframe>',
  '<svg onload=alert(1)><a xlink:href="javascript:alert(1)"><text>t</text></a></svg>',
  '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
  '<style>body { display: none }</style>',
  '<form action="https://evil.example/"><input name="password"><button formaction="javascript:alert(1)">go</button></form>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<base href="https://evil.example/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x.swf">',
  '<p style="background:url(javascript:alert(1))">styled</p>',
  '<div id="login" name="config">clobber</div>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
  '<img src="https://ok.example/a.png" srcset="javascript:alert(1) 1x">',
  '<details open ontoggle=alert(1)><summary>s</summary>x</details>',
  '<a href="//evil.example/x">protocol-relative</a>',
  '<template><script>alert(1)</script></template>',
  '<textarea><img src=x onerror=alert(1)></textarea>',
];

describe('markdown: hostile input', () => {
  it('the checker itself rejects unsafe markup', () => {
    for (const unsafe of [
      '<script>alert(1)</script>',
      '<img src="https://a.example/x.png" onerror="alert(1)">',
      `<a href="javascript:alert(1)" rel="${LINK_REL}">x</a>`,
      '<img src="data:image/png;base64,AAAA">',
      '<p style="color:red">x</p>',
      '<h2 id="login">x</h2>',
      '<a href=javascript:alert(1)>x</a>',
      '<img src="x.png">',
    ]) {
      assert.throws(() => assertInert(unsafe), assert.AssertionError, unsafe);
    }
  });

  for (const base of [undefined, github, readmeLinkBase('https://git.example.com/team/thing', 'README.md')]) {
    it(`renders every XSS vector inert (${base ? base.links : 'no repository'})`, () => {
      for (const vector of VECTORS) {
        const out = renderMarkdown(vector, base);
        assertInert(out);
        // Also inside other markup, and all at once.
        assertInert(renderMarkdown(`> ${vector}\n\n- ${vector}\n\n<div>\n${vector}\n</div>`, base));
      }
      assertInert(renderMarkdown(VECTORS.join('\n\n'), base));
    });
  }

  it('keeps the harmless part of hostile markup', () => {
    const out = renderMarkdown('<a href="https://ok.example/" onclick="alert(1)" target="_blank" style="x">ok</a>', undefined);
    assert.deepEqual(hrefs(out), ['https://ok.example/']);
    const img = elements(renderMarkdown('<img src=x onerror=alert(1)>', github), 'img');
    assert.deepEqual([...img[0]!.attrs.keys()].sort(), ['loading', 'referrerpolicy', 'src']);
    assert.equal(img[0]!.attrs.get('referrerpolicy'), 'no-referrer');
    assert.match(renderMarkdown('<form><button>go</button></form>', undefined), /go/);
    assert.doesNotMatch(renderMarkdown('<script>alert(1)</script><style>p{}</style>', undefined), /alert|p\{\}/);
    assert.deepEqual(hrefs(renderMarkdown('<a href="//evil.example/x">x</a>', undefined)), ['https://evil.example/x']);
  });

  it('prefixes ids and names the README sets', () => {
    const out = renderMarkdown('<div id="login">a</div><a name="config"></a><h2 id="user-content-x">x</h2>', undefined);
    assert.deepEqual(elements(out, 'div')[0]!.attrs.get('id'), 'user-content-login');
    assert.deepEqual(elements(out, 'a')[0]!.attrs.get('name'), 'user-content-config');
    assert.deepEqual(elements(out, 'h2')[0]!.attrs.get('id'), 'user-content-x');
  });
});

describe('markdown: ordinary READMEs', () => {
  it('renders headings with GitHub-style ids, and fragment links that reach them', () => {
    const out = assertInert(renderMarkdown('# My Crate!\n\n## Usage\n\n## Usage\n\nSee [usage](#usage) and [top](#my-crate).', github));
    assert.deepEqual(
      out.filter((t) => /^h\d$/.test(t.name) && !t.closing).map((t) => t.attrs.get('id')),
      ['user-content-my-crate', 'user-content-usage', 'user-content-usage-1'],
    );
    const html = renderMarkdown('[usage](#usage)', github);
    assert.deepEqual(hrefs(html), ['#user-content-usage']);
    assert.deepEqual(hrefs(renderMarkdown('[usage](#usage)', undefined)), ['#user-content-usage']);
  });

  it('renders code blocks with their language class, escaped', () => {
    const out = renderMarkdown('```rust\nfn main() { if a < b && c > d {} }\n```\n\n    indented <b>\n\nand `x<y`', undefined);
    assertInert(out);
    assert.match(out, /<pre><code class="language-rust">fn main\(\) \{ if a &lt; b &amp;&amp; c &gt; d \{\} \}\n<\/code><\/pre>/);
    assert.match(out, /<pre><code>indented &lt;b&gt;\n<\/code><\/pre>/);
    assert.match(out, /<code>x&lt;y<\/code>/);
    assert.doesNotMatch(renderMarkdown('```js" onmouseover="alert(1)\nx\n```', undefined), /onmouseover=/);
  });

  it('renders tables, keeping column alignment without style attributes', () => {
    const out = renderMarkdown('| left | right | centre |\n|:--|--:|:-:|\n| 1 | 2 | 3 |', undefined);
    assertInert(out);
    assert.deepEqual(
      elements(out, 'th').map((t) => t.attrs.get('align')),
      ['left', 'right', 'center'],
    );
    assert.deepEqual(
      elements(out, 'td').map((t) => t.attrs.get('align')),
      ['left', 'right', 'center'],
    );
  });

  it('renders lists, emphasis and the HTML READMEs use', () => {
    const out = renderMarkdown(
      '- one\n- **two**\n\n3. three\n4. ~~four~~\n\n<p align="center"><img src="https://example.com/logo.png" width="200" alt="logo"></p>\n\n' +
        '<details><summary>More</summary>\n\nPress <kbd>Ctrl</kbd>+<kbd>C</kbd>, H<sub>2</sub>O, x<sup>2</sup>\n\n</details>\n\n<dl><dt>term</dt><dd>definition</dd></dl>\n\n---',
      undefined,
    );
    assertInert(out);
    for (const name of ['ul', 'ol', 'li', 'strong', 's', 'details', 'summary', 'kbd', 'sub', 'sup', 'dl', 'dt', 'dd', 'hr']) {
      assert.ok(elements(out, name).length > 0, `<${name}> missing in ${out}`);
    }
    assert.equal(elements(out, 'ol')[0]!.attrs.get('start'), '3');
    const p = elements(out, 'p').find((t) => t.attrs.get('align') === 'center');
    assert.ok(p, out);
    assert.deepEqual(srcs(out), ['https://example.com/logo.png']);
    assert.equal(elements(out, 'img')[0]!.attrs.get('width'), '200');
  });

  it('gives links rel="nofollow noopener noreferrer", autolinks bare URLs and keeps mailto', () => {
    const out = renderMarkdown('[docs](https://docs.rs/x) and https://example.com/a and <mailto:me@example.com>', undefined);
    assertInert(out);
    assert.deepEqual(hrefs(out), ['https://docs.rs/x', 'https://example.com/a', 'mailto:me@example.com']);
    assert.ok(elements(out, 'a').every((a) => a.attrs.get('rel') === LINK_REL));
  });
});

describe('markdown: relative links and images', () => {
  const doc =
    '[guide](guide.md) [license](../LICENSE) [changes](/CHANGELOG.md) [escape](../../../../../etc/x) [q](guide.md?plain=1#part) ![logo](img/logo.png) <img src="./a b.svg">';
  const resolve = (base: ReadmeLinkBase | undefined) => {
    const out = renderMarkdown(doc, base);
    assertInert(out);
    return { links: hrefs(out), images: srcs(out) };
  };

  it('resolves into GitHub: file view for links, raw files for images', () => {
    const base = readmeLinkBase('https://github.com/owner/repo.git', 'README.md');
    assert.deepEqual(resolve(base), {
      links: [
        'https://github.com/owner/repo/blob/HEAD/guide.md',
        'https://github.com/owner/repo/blob/HEAD/LICENSE',
        'https://github.com/owner/repo/blob/HEAD/CHANGELOG.md',
        'https://github.com/owner/repo/blob/HEAD/etc/x',
        'https://github.com/owner/repo/blob/HEAD/guide.md?plain=1#part',
      ],
      images: ['https://github.com/owner/repo/raw/HEAD/img/logo.png', 'https://github.com/owner/repo/raw/HEAD/a%20b.svg'],
    });
    assert.deepEqual(
      readmeLinkBase('http://www.github.com/owner/repo/tree/main/x/', 'README.md')?.links,
      'https://github.com/owner/repo/blob/HEAD/',
    );
  });

  it('resolves a README in a subdirectory against its own folder', () => {
    const base = readmeLinkBase('https://github.com/owner/repo', 'docs/README.md');
    assert.deepEqual(resolve(base), {
      links: [
        'https://github.com/owner/repo/blob/HEAD/docs/guide.md',
        'https://github.com/owner/repo/blob/HEAD/LICENSE',
        'https://github.com/owner/repo/blob/HEAD/CHANGELOG.md',
        'https://github.com/owner/repo/blob/HEAD/etc/x',
        'https://github.com/owner/repo/blob/HEAD/docs/guide.md?plain=1#part',
      ],
      images: ['https://github.com/owner/repo/raw/HEAD/docs/img/logo.png', 'https://github.com/owner/repo/raw/HEAD/docs/a%20b.svg'],
    });
  });

  it('resolves into GitLab (subgroups too) and Codeberg', () => {
    const gitlab = resolve(readmeLinkBase('https://gitlab.com/group/sub/project.git', 'crates/foo/README.md'));
    assert.equal(gitlab.links[0], 'https://gitlab.com/group/sub/project/-/blob/HEAD/crates/foo/guide.md');
    assert.equal(gitlab.images[0], 'https://gitlab.com/group/sub/project/-/raw/HEAD/crates/foo/img/logo.png');
    const selfHosted = readmeLinkBase('https://gitlab.example.com/team/project/-/tree/main', 'README.md');
    assert.equal(selfHosted?.links, 'https://gitlab.example.com/team/project/-/blob/HEAD/');
    const codeberg = resolve(readmeLinkBase('https://codeberg.org/owner/repo', 'README.md'));
    assert.equal(codeberg.links[0], 'https://codeberg.org/owner/repo/src/branch/HEAD/guide.md');
    assert.equal(codeberg.images[0], 'https://codeberg.org/owner/repo/raw/branch/HEAD/img/logo.png');
  });

  it('resolves against any other repository URL as a folder, without its credentials', () => {
    const out = resolve(readmeLinkBase('https://user:secret@git.example.com/team/thing?x=1#y', 'README.md'));
    assert.deepEqual(out, {
      links: [
        'https://git.example.com/team/thing/guide.md',
        'https://git.example.com/team/thing/LICENSE',
        'https://git.example.com/team/thing/CHANGELOG.md',
        'https://git.example.com/team/thing/etc/x',
        'https://git.example.com/team/thing/guide.md?plain=1#part',
      ],
      images: ['https://git.example.com/team/thing/img/logo.png', 'https://git.example.com/team/thing/a%20b.svg'],
    });
  });

  it('without a repository, drops relative links to text and relative images altogether', () => {
    const out = renderMarkdown(`${doc} [abs](https://example.com/) [frag](#top) ![abs](https://example.com/i.png)`, undefined);
    assertInert(out);
    assert.deepEqual(hrefs(out), ['https://example.com/', '#user-content-top']);
    assert.deepEqual(srcs(out), ['https://example.com/i.png']);
    assert.match(out, /guide license changes escape q/);
  });

  it('leaves absolute links and fragments alone when a repository is known', () => {
    const out = renderMarkdown('[a](https://example.com/x) [b](#install) ![c](https://example.com/c.png)', github);
    assert.deepEqual(hrefs(out), ['https://example.com/x', '#user-content-install']);
    assert.deepEqual(srcs(out), ['https://example.com/c.png']);
  });

  it('has no link base for a missing or unusable repository URL', () => {
    for (const url of [
      null,
      undefined,
      '',
      '   ',
      'git@github.com:owner/repo.git',
      'ssh://git@github.com/owner/repo',
      'javascript:alert(1)',
      'ftp://example.com/x',
    ]) {
      assert.equal(readmeLinkBase(url, 'README.md'), undefined, String(url));
    }
  });
});

describe('renderReadme', () => {
  it('renders Markdown by extension, anything else as escaped preformatted text', () => {
    assert.match(renderReadme('# Title', 'README.md', undefined), /<h1 id="user-content-title">Title<\/h1>/);
    assert.match(renderReadme('# Title', 'docs/Guide.MARKDOWN', undefined), /<h1/);
    for (const path of ['README', 'README.txt', 'readme.rst']) {
      const out = renderReadme('# Title\n<script>alert(1)</script> & more', path, github);
      assert.equal(out, '<pre class="readme-text"># Title\n&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</pre>');
      assertInert(out);
    }
  });
});

describe('markdown: input built to be slow', () => {
  // A hang detector only, no duration asserted: before these limits the cost grew with the square of
  // the input (200,000 nested elements, or 200,000 dropped links, took minutes; now seconds).
  const HANG = { timeout: 60_000 };

  it('shows a README whose HTML nests deeper than the limit as plain text, after a note saying why', HANG, () => {
    const source = '<div>'.repeat(200_000) + 'deep';
    const out = renderReadme(source, 'README.md', github);
    assertInert(out);
    assert.ok(
      out.startsWith(`<p class="readme-note"><em>This README nests HTML elements more than ${MAX_README_NESTING} levels deep`),
      out.slice(0, 200),
    );
    // (assert.ok, not match: a failure would print the megabyte)
    assert.ok(/shown as plain text\.<\/em><\/p><pre class="readme-text">(&lt;div&gt;){200000}deep<\/pre>$/.test(out), out.slice(0, 300));
  });

  it('counts nesting as the parser builds it: depth, not the number of elements', () => {
    const limit = 8;
    const nested = (depth: number) => '<div>'.repeat(depth) + 'x' + '</div>'.repeat(depth);
    assert.match(renderReadme(nested(limit), 'README.md', undefined, limit), /^<div><div>/);
    assert.match(renderReadme(nested(limit + 1), 'README.md', undefined, limit), /^<p class="readme-note">.*more than 8 levels deep/);
    // Siblings, void elements and paragraphs the parser closes by itself never add up.
    for (const wide of [
      nested(limit).repeat(1000),
      '<br>'.repeat(1000),
      '<p>x\n'.repeat(1000),
      '<img src="https://a.example/i.png">'.repeat(1000),
      '<li>x'.repeat(1000),
    ]) {
      assert.doesNotMatch(renderReadme(wide, 'README.md', undefined, limit), /readme-note/, wide.slice(0, 40));
    }
    // Markdown nests too (quotes in lists), and counts the same way.
    assert.match(renderReadme('> '.repeat(limit + 1) + 'quoted', 'README.md', undefined, limit), /readme-note/);
    assert.doesNotMatch(renderReadme('> '.repeat(limit - 1) + 'quoted', 'README.md', undefined, limit), /readme-note/);
  });

  it('drops many relative links to their text in one pass, keeping the links around them', HANG, () => {
    const source =
      '[kept](https://example.com/k) ' +
      '[tx](rel.md) '.repeat(200_000) +
      '<a href="https://example.com/o">outer <a href="rel">inner</a> after</a> <a>bare</a>';
    const out = renderMarkdown(source, undefined);
    assertInert(out);
    assert.deepEqual(hrefs(out), ['https://example.com/k', 'https://example.com/o']);
    assert.equal(out.split('tx').length - 1, 200_000, 'each dropped link keeps its text');
    assert.match(out, /inner/);
    assert.match(out, /bare/);
    const tags = readTags(out).filter((t) => t.name === 'a');
    assert.equal(tags.filter((t) => t.closing).length, tags.filter((t) => !t.closing).length, 'every kept <a> is closed once');
  });
});
