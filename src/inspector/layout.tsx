import type { Child, FC } from "hono/jsx";

const STYLE = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --ok: #15803d; --bad: #b91c1c; --accent: #2563eb; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.5rem; border-bottom: 1px solid var(--line); }
header a.brand { font-weight: 700; text-decoration: none; color: inherit; }
main { padding: 1rem 1.5rem 3rem; max-width: 72rem; }
a { color: var(--accent); }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { white-space: pre-wrap; word-break: break-word; background: rgba(127,127,127,.08); padding: .6rem .8rem; border-radius: 4px; margin: .3rem 0; }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.verdict-correct { color: var(--ok); font-weight: 600; } .verdict-incorrect { color: var(--bad); font-weight: 600; } .verdict-unknown { color: var(--muted); font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .8rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .7rem .9rem; }
.card h3 { font-size: 1rem; margin: 0 0 .4rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.scores { display: grid; grid-template-columns: max-content auto max-content auto; gap: 0 .6rem; margin: .4rem 0; font-variant-numeric: tabular-nums; }
dl.scores dt { color: var(--muted); font-size: .8rem; align-self: center; } dl.scores dd { margin: 0; }
form.search { display: flex; gap: .5rem; margin: .5rem 0 1rem; flex-wrap: wrap; }
input, select, button { font: inherit; padding: .25rem .5rem; }
details summary { cursor: pointer; }
.tag { display: inline-block; border: 1px solid var(--line); border-radius: 3px; padding: 0 .35rem; font-size: .8rem; }
`;

/** The page frame: title, navigation and the stylesheet (no scripts: every view reads without JavaScript). */
export const Layout: FC<{ title: string; children?: Child }> = ({ title, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · precedent`}</title>
      <style>{STYLE}</style>
    </head>
    <body>
      <header>
        <a class="brand" href="/">
          precedent
        </a>
        <a href="/">banks</a>
        <a href="/docs">API</a>
      </header>
      <main>{children}</main>
    </body>
  </html>
);

/** A verdict, coloured. */
export const Verdict: FC<{ verdict: string }> = ({ verdict }) => (
  <span class={`verdict-${verdict}`} data-verdict={verdict}>
    {verdict}
  </span>
);
