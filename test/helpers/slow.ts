/*
 * Waits for child processes, stretched where starting one is slow. The Windows lane under
 * Wine sets GATEHOUSE_SLOW_SPAWN=3 (each node.exe start takes a second or more there); on a
 * real machine it is unset and every wait is as written. Only waits for a process to start,
 * answer or exit are stretched: what a test checks stays the same.
 */
export const SLOW_SPAWN = Math.max(1, Number(process.env.GATEHOUSE_SLOW_SPAWN) || 1);

/** `ms` stretched by GATEHOUSE_SLOW_SPAWN. */
export function spawnWait(ms: number): number {
  return Math.round(ms * SLOW_SPAWN);
}
