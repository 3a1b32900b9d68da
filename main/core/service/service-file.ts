/*
 * service.json in the service's data folder: which Windows users administer the service
 * (written by `gatehouse service install`, read by the service at start to share admin.json
 * with them). `readServiceFile` resolves to its content, or null when the file is missing or
 * is not one (never rejects).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { SERVICE_FILE } from './layout.js';
import type { ServiceFile } from './plan.js';

export async function readServiceFile(dataDir: string): Promise<ServiceFile | null> {
  try {
    const v = JSON.parse(await fs.readFile(path.join(dataDir, SERVICE_FILE), 'utf8')) as ServiceFile;
    if (v?.version !== 1 || !Array.isArray(v.administrators)) return null;
    return { ...v, administrators: v.administrators.filter((a) => a && typeof a.name === 'string' && (a.sid === null || /^S-1-[\d-]+$/.test(String(a.sid)))) };
  } catch {
    return null;
  }
}

/** icacls names for the administrators (their SIDs; a name when no SID is known). */
export function adminReaders(file: ServiceFile | null): string[] {
  return (file?.administrators ?? []).map((a) => (a.sid ? `*${a.sid}` : a.name));
}
