/*
 * The config module: the settings schema (defaults and validation), the store with its audit
 * trail and file watch, discovered accounts, the accounts list and its edits, and the CSV and
 * Gateway.dat import/export. Re-exports only; nothing here runs or fails on import.
 */
export {
  ConfigError,
  MiB,
  deepFreeze,
  defaultConfig,
  demoConfig,
  formatIssues,
  sameConfig,
  validateConfig,
  type ConfigIssue,
  type ValidateResult,
} from './schema.js';
export {
  AUDIT_FILE,
  CONFIG_FILE,
  ConfigStore,
  LAST_GOOD_FILE,
  REJECTED_FILE,
  type ConfigStoreEvents,
  type ConfigStoreOptions,
} from './store.js';
export { SEEN_FILE, SeenAccounts, type SeenAccountsOptions } from './seen.js';
export {
  addAccount,
  listAccounts,
  removeAccount,
  setAllow,
  setBcc,
  setBlock,
  setMode,
  upsertAccount,
  type SeenSource,
} from './accounts-view.js';
export {
  accountsToCsv,
  decodeCsvBytes,
  parseAccountsCsv,
  type AccountsCsvResult,
} from './csv.js';
export {
  fromRoutes,
  gatewayDatText,
  parseGatewayDat,
  parseGatewayDatLines,
  routesToGatewayDat,
  toRoutes,
  type GatewayDatLines,
  type GatewayDatResult,
} from './gateway-dat.js';
export { isSealed, onSealFallback, openSecret, registerSecretProvider, sealedWith, sealSecret, sealWith, useFileKey, type SecretProvider } from './secrets.js';
export { DPAPI_PROVIDER, dpapiCommand, dpapiProvider, dpapiScript, resealFor, useDpapi, type DpapiScope, type RunSync } from './dpapi.js';
export { mapSecrets, sealSecrets } from './secret-fields.js';
