/*
 * `gatehouse` command line: reads argv (util.parseArgs), connects to the command layer (the
 * running gateway for this data folder, else in-process: client.ts), runs one command and maps
 * errors to exit codes: 0 ok, 1 failed/rejected, 2 bad input with a clear message (a usage
 * error, or a command refusing its input: 'validation', 'bad-request', 'not-found', or
 * 'not-running' for a verb that needs the running gateway). Every command has --help (help.ts).
 */
import path from 'node:path';
import { dataDirProblem, defaultDataDir } from '../core/paths.js';
import { secureDataFolder } from '../core/data-folder-access.js';
import { ConfigError } from '../core/config/index.js';
import { ApiError } from '../shared/contract.js';
import { UsageError, parseCommandLine, type ParsedArgs } from './args.js';
import { HELP } from './help.js';
import { quietOnBrokenPipe } from './output.js';
import { connect, type Client } from './client.js';
import { cmdAccounts, cmdAuth, cmdCheck, cmdConfig, cmdHistory, cmdList, cmdRestore, cmdRoutes } from './config-commands.js';
import { cmdLog, cmdQueue, cmdServe } from './runtime-commands.js';
import { cmdExport } from './export-commands.js';
import { cmdCall } from './call-command.js';
import { cmdService } from './service-command.js';
import { cmdApprovals } from './outbound-commands.js';
import { cmdDkim, cmdDoctor } from './deliverability-commands.js';
import { cmdDelivery, cmdMessage } from './message-commands.js';

/** Refusals of the input, not failures of the gateway: exit code 2. */
const BAD_INPUT = new Set(['validation', 'bad-request', 'not-found', 'not-running', 'conflict']);

async function withClient(dataDir: string, run: (c: Client) => Promise<number>): Promise<number> {
  const client = await connect(dataDir);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function commandFor(command: string, args: ParsedArgs): ((c: Client) => Promise<number>) | null {
  switch (command) {
    case 'check':
      return (c) => cmdCheck(c, args);
    case 'accounts':
      return (c) => cmdAccounts(c, args);
    case 'routes':
      return (c) => cmdRoutes(c, args);
    case 'domains':
      return (c) => cmdList(c, args, 'internalDomains');
    case 'trusted':
      return (c) => cmdList(c, args, 'trustedNetworks');
    case 'config':
      return (c) => cmdConfig(c, args);
    case 'history':
      return (c) => cmdHistory(c, args);
    case 'restore':
      return (c) => cmdRestore(c, args);
    case 'auth':
      return (c) => cmdAuth(c, args);
    case 'queue':
      return (c) => cmdQueue(c, args);
    case 'call':
      return (c) => cmdCall(c, args);
    case 'approvals':
      return (c) => cmdApprovals(c, args);
    case 'dkim':
      return (c) => cmdDkim(c, args);
    case 'doctor':
      return (c) => cmdDoctor(c, args);
    case 'message':
      return (c) => cmdMessage(c, args);
    case 'delivery':
      return (c) => cmdDelivery(c, args);
    default:
      return null;
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnBrokenPipe();
  let dataDir = '';
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
    const args = parseCommandLine(rest);
    if (args.flags.help) {
      process.stdout.write(HELP[command] + '\n');
      return 0;
    }
    dataDir = typeof args.flags.data === 'string' ? path.resolve(args.flags.data) : defaultDataDir();
    // About the machine, not a data folder.
    if (command === 'service') return await cmdService(args);
    const badData = process.platform === 'win32' ? dataDirProblem(dataDir) : null;
    if (badData) throw new UsageError(`--data ${dataDir}: ${badData}`);
    // Owner-only from the start (serve's gateway does this itself and logs it).
    if (command !== 'serve') {
      for (const line of await secureDataFolder(dataDir, { checkExisting: false })) process.stderr.write(`gatehouse: data folder access: ${line}\n`);
    }
    if (command === 'serve') return await cmdServe(dataDir, args);
    if (command === 'log') return await cmdLog(dataDir, args);
    if (command === 'export') return await cmdExport(dataDir, args);
    const run = commandFor(command, args);
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await withClient(dataDir, run);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`gatehouse: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      const message = err.code === 'not-running' ? `'gatehouse serve' is not running for ${dataDir}: this ${err.message}; start it first` : err.message;
      // Every issue on its own line, in English (`line 3: ...`, `routes[0].hosts[0].port: ...`).
      const lines = err.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).filter((l) => !message.includes(l));
      process.stderr.write(`gatehouse: ${[message, ...lines.map((l) => `  ${l}`)].join('\n')}\n`);
      return BAD_INPUT.has(err.code) ? 2 : 1;
    }
    process.stderr.write(`gatehouse: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
