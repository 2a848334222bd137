// The pages' stylesheet and their one script, served from this registry (the Content-Security-Policy
// allows no inline style or script). Their URLs carry a hash of their content, so that browsers
// may cache them for good.

import { createHash } from 'node:crypto';

const STYLE = `
:root{--fg:#1b1f24;--muted:#4d5560;--bg:#fff;--line:#d0d7de;--accent:#0b57d0;--soft:#f3f5f7;--bad:#a40e26;--ok:#116329}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0;line-height:1.5}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f0b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:1}
header.site{border-bottom:1px solid var(--line);background:var(--soft)}
header.site nav{max-width:64rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.75rem 1.25rem;align-items:center}
header.site .brand{font-weight:700;text-decoration:none;color:var(--fg)}
header.site form.search{flex:1 1 16rem;display:flex;gap:.25rem}
header.site form.search input{flex:1}
header.site form.inline{display:inline}
main{max-width:64rem;margin:0 auto;padding:1rem}
h1{font-size:1.75rem;margin:.5rem 0 1rem}
h2{font-size:1.25rem;margin-top:1.75rem;border-bottom:1px solid var(--line)}
input,select,button{font:inherit;padding:.3rem .5rem;border:1px solid #8c959f;border-radius:4px}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad)}
label{font-weight:600}
form.stack label{display:block;margin:.75rem 0 .25rem}
form.stack .hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}
fieldset{border:1px solid var(--line);border-radius:4px;margin:.75rem 0}
form.stack fieldset label{font-weight:400;margin:.25rem 0}
pre{background:var(--soft);padding:.75rem;overflow-x:auto;border-radius:4px}
code.token{word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}
.muted{color:var(--muted)}
.refusal{color:var(--bad);font-weight:600}
.notice{color:var(--ok);font-weight:600}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.85rem;border:1px solid currentColor}
.yanked{color:var(--bad)}
.crate-layout{display:grid;grid-template-columns:minmax(0,1fr) 18rem;gap:2rem}
@media (max-width:48rem){.crate-layout{grid-template-columns:1fr}}
aside.facts dl{margin:0}aside.facts dt{font-weight:600;margin-top:.75rem}aside.facts dd{margin:0}
.install{display:flex;gap:.5rem;align-items:center}.install pre{flex:1;margin:0}
ul.results{list-style:none;padding:0}ul.results li{padding:.6rem 0;border-bottom:1px solid var(--line)}
.readme img{max-width:100%}
.download-chart{width:100%;height:auto;color:var(--accent)}
.pager{display:flex;gap:1rem;margin:1rem 0}
`;

const SCRIPT = `
// Copy buttons: shown only when this script runs (the pages work without it).
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = 'Copied';
    } catch {
      button.textContent = 'Copy failed: select the text';
    }
    setTimeout(() => (button.textContent = 'Copy'), 2000);
  });
}
`;

export interface StaticAsset {
  path: string;
  body: Buffer;
  type: string;
}

function asset(body: string, type: string, name: string, extension: string): StaticAsset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/static/${name}-${hash}.${extension}`, body: Buffer.from(body), type };
}

export const STYLESHEET = asset(STYLE, 'text/css; charset=utf-8', 'style', 'css');
export const SCRIPT_FILE = asset(SCRIPT, 'text/javascript; charset=utf-8', 'copy', 'js');
export const STATIC_ASSETS = [STYLESHEET, SCRIPT_FILE];
