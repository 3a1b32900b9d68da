/*
 * The import rules of ARCHITECTURE.md, read from the sources: electron only in main/electron,
 * the renderer reaching the core only through main/shared, main/shared self-contained, the
 * core free of its transports, smtp-server's internals reached from one file only; and no
 * source or doc pointing at a design document or folder outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function files(dir: string, exts: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'results') continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (exts.test(e.name)) out.push(p);
    }
  };
  walk(path.join(ROOT, dir));
  return out;
}

/** Every module specifier a file imports (static, dynamic, export-from, require). */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: { spec: string; typeOnly: boolean }[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"`;]*?\s+from\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[3]!, typeOnly: Boolean(m[2]) });
  for (const m of src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ spec: m[1]!, typeOnly: false });
  for (const m of src.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false });
  return out;
}

/** A relative specifier as a path from the repository root. */
function target(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
}

const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');
const SOURCES = /\.(ts|cts|mts|svelte)$/;

describe('import rules (ARCHITECTURE.md)', () => {
  it('electron is imported only in main/electron', () => {
    const bad = [...files('main', SOURCES), ...files('renderer/src', SOURCES)]
      .filter((f) => !rel(f).startsWith('main/electron/'))
      .filter((f) => imports(f).some((i) => i.spec === 'electron' || i.spec.startsWith('electron/')))
      .map(rel);
    expect(bad).toEqual([]);
  });

  it('the renderer reaches main/ only through main/shared', () => {
    const bad: string[] = [];
    for (const f of files('renderer/src', SOURCES)) {
      for (const i of imports(f)) {
        const t = target(f, i.spec);
        if (t?.startsWith('main/') && !t.startsWith('main/shared/')) bad.push(`${rel(f)} -> ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('main/shared imports nothing outside itself but the libraries the window bundles too', () => {
    // Pure JavaScript that runs in the window as in Node: the schema library and the CSV writer.
    const libraries = ['valibot', 'csv-stringify/browser/esm/sync'];
    const bad: string[] = [];
    for (const f of files('main/shared', SOURCES)) {
      for (const i of imports(f)) {
        const t = target(f, i.spec);
        if (t === null ? !libraries.includes(i.spec) : !t.startsWith('main/shared/')) bad.push(`${rel(f)} -> ${i.spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('main/core does not import the transports; main/headless not the CLI or the shell', () => {
    const bad: string[] = [];
    const rules: [string, string[]][] = [
      ['main/core/', ['main/headless/', 'main/cli/', 'main/electron/']],
      ['main/headless/', ['main/cli/', 'main/electron/']],
    ];
    for (const [from, banned] of rules) {
      for (const f of files(from, SOURCES)) {
        for (const i of imports(f)) {
          const t = target(f, i.spec);
          if (t && banned.some((b) => t.startsWith(b))) bad.push(`${rel(f)} -> ${t}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it("smtp-server's internals are reached from smtp-server-adapter.ts only (elsewhere: types)", () => {
    const bad: string[] = [];
    for (const f of files('main', SOURCES)) {
      if (rel(f) === 'main/core/smtp/smtp-server-adapter.ts') continue;
      for (const i of imports(f)) {
        if ((i.spec === 'smtp-server' || i.spec.startsWith('smtp-server/')) && !i.typeOnly) bad.push(`${rel(f)} -> ${i.spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the checks see imports at all (a parser that finds nothing would pass everything)', () => {
    const adapter = imports(path.join(ROOT, 'main/core/smtp/smtp-server-adapter.ts')).map((i) => i.spec);
    expect(adapter).toEqual(expect.arrayContaining(['smtp-server', 'smtp-server/lib/smtp-connection.js']));
    expect(imports(path.join(ROOT, 'main/electron/bootstrap.ts')).some((i) => i.spec === 'electron')).toBe(true);
    expect(imports(path.join(ROOT, 'main/core/smtp/receiver.ts')).some((i) => i.spec === 'smtp-server' && i.typeOnly)).toBe(true);
  });
});

describe('the repository stands alone', () => {
  it('no source, test or doc cites a design document or folder outside it', () => {
    const self = fileURLToPath(import.meta.url);
    const all = [...files('main', SOURCES), ...files('renderer/src', SOURCES), ...files('test', SOURCES), ...files('bench', /\.(py|mjs|sh|md)$/), ...files('scripts', /\.m?js$/)];
    const docs = ['README.md', 'ARCHITECTURE.md', 'CHANGELOG.md'].map((d) => path.join(ROOT, d));
    // `../shared/<module>.js` of main/shared is the repository's own; any other `../shared/` is not.
    const own = fs.readdirSync(path.join(ROOT, 'main', 'shared')).map((f) => f.replace(/\.ts$/, ''));
    const outside = new RegExp(`DESIGN\\.md|\\.\\./shared/(?!(?:${own.join('|')})\\.js)`);
    const bad = [...all, ...docs]
      .filter((f) => f !== self)
      .filter((f) => outside.test(fs.readFileSync(f, 'utf8')))
      .map(rel);
    expect(bad).toEqual([]);
  });
});
