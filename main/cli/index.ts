/*
 * `gatehouse` command line: parses argv, dispatches to one command, maps errors to exit
 * codes (0 ok, 1 failed/rejected, 2 bad input with a clear message). Every command has
 * --help text (help.ts).
 */
import path from 'node:path';
import { defaultDataDir } from '../core/paths.js';
import { secureDataFolder } from '../core/data-folder-access.js';
import { ConfigError } from '../core/config/index.js';
import { UsageError, parseArgs, type FlagSpec } from './args.js';
import { HELP } from './help.js';
import { quietOnBrokenPipe } from './output.js';
import { cmdAccounts, cmdAuth, cmdCheck, cmdConfig, cmdHistory, cmdList, cmdRestore, cmdRoutes } from './config-commands.js';
import { cmdLog, cmdQueue, cmdRoutesStatus, cmdServe } from './runtime-commands.js';
import { cmdExport } from './export-commands.js';

const SPEC: FlagSpec = {
  values: ['addresses', 'data', 'listen', 'admin', 'client', 'note', 'state', 'sender', 'recipient', 'lines', 'day', 'search', 'out'],
  booleans: ['help', 'json', 'follow', 'remove', 'replace', 'senderlog', 'no-admin'],
  aliases: { h: 'help', f: 'follow', n: 'lines' },
};

export async function main(argv: string[]): Promise<number> {
  quietOnBrokenPipe();
  try {
    const [command, ...rest] = argv;
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      const topic = rest[0];
      process.stdout.write((topic && HELP[topic] ? HELP[topic] : HELP.main) + '\n');
      return 0;
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write('gatehouse 0.1.0\n');
      return 0;
    }
    if (!HELP[command] || command === 'main') throw new UsageError(`unknown command "${command}"; see gatehouse --help`);
    const args = parseArgs(rest, SPEC);
    if (args.flags.help) {
      process.stdout.write(HELP[command] + '\n');
      return 0;
    }
    const dataDir = typeof args.flags.data === 'string' ? path.resolve(args.flags.data) : defaultDataDir();
    // Owner-only from the start (serve's gateway does this itself and logs it).
    if (command !== 'serve') {
      for (const line of await secureDataFolder(dataDir, { checkExisting: false })) process.stderr.write(`gatehouse: data folder access: ${line}\n`);
    }
    switch (command) {
      case 'serve':
        return await cmdServe(dataDir, args);
      case 'check':
        return await cmdCheck(dataDir, args);
      case 'accounts':
        return await cmdAccounts(dataDir, args);
      case 'routes':
        return args.positionals[0] === 'status' ? await cmdRoutesStatus(dataDir, args) : await cmdRoutes(dataDir, args);
      case 'domains':
        return await cmdList(dataDir, args, 'internalDomains');
      case 'trusted':
        return await cmdList(dataDir, args, 'trustedNetworks');
      case 'config':
        return await cmdConfig(dataDir, args);
      case 'history':
        return await cmdHistory(dataDir, args);
      case 'restore':
        return await cmdRestore(dataDir, args);
      case 'auth':
        return await cmdAuth(dataDir, args);
      case 'queue':
        return await cmdQueue(dataDir, args);
      case 'log':
        return await cmdLog(dataDir, args);
      case 'export':
        return await cmdExport(dataDir, args);
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`gatehouse: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
