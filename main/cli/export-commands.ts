/*
 * `gatehouse export postfix [--out DIR]`: the config in force as Postfix configuration
 * (core/export/postfix.ts). With --out, writes DIR/main.cf.gatehouse, DIR/gatehouse_* tables
 * and DIR/README.txt (how to install them: postmap, where the files go) and lists what it
 * wrote; without it, prints everything to stdout, each file under a `==> name <==` line.
 * Returns exit code 0; a missing or unknown target, a folder whose name (or a file's in it)
 * Windows would refuse, or an unwritable folder, is a UsageError (exit 2) naming the problem.
 * Reads the config only; never changes it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigStore } from '../core/config/index.js';
import { exportPostfix, postfixReadme } from '../core/export/postfix.js';
import { UsageError, type ParsedArgs } from './args.js';
import { outputPath } from './out-path.js';
import { print } from './output.js';

export const MAIN_CF_NAME = 'main.cf.gatehouse';

export async function cmdExport(dataDir: string, a: ParsedArgs): Promise<number> {
  const target = a.positionals[0];
  if (target !== 'postfix') throw new UsageError(target ? `cannot export to "${target}" (only: postfix)` : 'missing target: gatehouse export postfix [--out DIR]');
  const given = typeof a.flags.out === 'string' ? a.flags.out : null;
  if (given !== null) outputPath(given, '--out', { folder: true }); // the folder itself, before anything is read
  const store = await ConfigStore.open(dataDir);
  const cfg = store.get();
  await store.close();
  const exp = exportPostfix(cfg);
  // The longest name written inside counts against MAX_PATH too.
  const longest = Math.max(...[MAIN_CF_NAME, 'README.txt', ...Object.keys(exp.files)].map((n) => n.length + 1));
  const out = given === null ? null : outputPath(given, '--out', { folder: true, within: longest });
  if (!out) {
    process.stdout.write(`==> ${MAIN_CF_NAME} <==\n${exp.mainCf}`);
    for (const [name, text] of Object.entries(exp.files)) process.stdout.write(`\n==> ${name} <==\n${text}`);
    for (const w of exp.warnings) process.stderr.write(`note: ${w}\n`);
    return 0;
  }
  try {
    await fs.mkdir(out, { recursive: true });
    await fs.writeFile(path.join(out, MAIN_CF_NAME), exp.mainCf);
    // 0600 everywhere: the tables name accounts, and the SASL table holds a login.
    for (const [name, text] of Object.entries(exp.files)) await fs.writeFile(path.join(out, name), text, { mode: 0o600 });
    await fs.writeFile(path.join(out, 'README.txt'), postfixReadme(exp));
  } catch (err) {
    throw new UsageError(`cannot write to ${out}: ${(err as Error).message}`);
  }
  print(`wrote ${MAIN_CF_NAME}, README.txt and ${Object.keys(exp.files).length} tables to ${out}`);
  print(`next: see ${path.join(out, 'README.txt')} (copy the tables to /etc/postfix, append ${MAIN_CF_NAME} to main.cf, postmap ${exp.hashTables.length} hash tables)`);
  for (const w of exp.warnings) print(`note: ${w}`);
  return 0;
}
