/*
 * `gatehouse call <command> [JSON]`: any command of the contract, by name, with its
 * arguments as JSON (or '-' to read them from standard input), through the same client as
 * every other verb (the running gateway, else in-process), checked by the same schema.
 * Prints the result as JSON. With --json a refusal is printed as the contract's ApiResult
 * (`{"ok":false,"error":{code, message, issues}}`) on standard output too, for scripts;
 * the exit code is the CLI's (2 bad input, 1 failed) either way.
 */
import { ApiError, isCommandName, type ArgsOf, type CommandName } from '../shared/contract.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { Client } from './client.js';
import { printJson } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function cmdCall(c: Client, a: ParsedArgs): Promise<number> {
  const name = a.positionals[0];
  if (!name) throw new UsageError('missing <command>; see gatehouse call --help');
  if (!isCommandName(name)) throw new UsageError(`unknown command "${name}"; see gatehouse call --help`);
  const text = a.positionals[1] === '-' ? await readStdin() : a.positionals[1];
  let args: unknown;
  try {
    args = text === undefined || text.trim() === '' ? undefined : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the arguments are not valid JSON: ${(err as Error).message}`);
  }
  try {
    const value = await c.call(name as CommandName, args as ArgsOf<CommandName>);
    printJson(value ?? null);
    return 0;
  } catch (err) {
    if (a.flags.json && err instanceof ApiError) printJson({ ok: false, error: err.toData() });
    throw err;
  }
}
