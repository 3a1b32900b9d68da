/*
 * Queue ids: `<time>-<counter>-<random>`, e.g. `m3kx9z3a-0004-7f3k`, all lower-case base36.
 * newId() returns ids that sort (as strings) in the order they were made within a process and
 * roughly by time across restarts; isValidId() is the gate every id crosses before it becomes
 * part of a path, so an id from the UI or CLI can never name a file outside the spool.
 * Nothing here fails: a clock that steps back is absorbed by never letting time go backwards.
 */
import { randomInt } from 'node:crypto';

const TIME_LEN = 8; // base36 ms since epoch is 8 chars until the year 2059
const COUNTER_LEN = 4;
const RANDOM_LEN = 4;
const COUNTER_MAX = 36 ** COUNTER_LEN;
const RANDOM_MAX = 36 ** RANDOM_LEN;

const ID_RE = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}$/;

let lastMs = 0;
let counter = 0;

function pad36(n: number, len: number): string {
  return n.toString(36).padStart(len, '0');
}

/** A new id; strictly greater (as a string) than every id this process made before. */
export function newId(now: number = Date.now()): string {
  // Never go back in time: a stepped clock would otherwise break the sort order and make a
  // collision with an id this process already issued possible.
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else {
    counter++;
    if (counter >= COUNTER_MAX) {
      lastMs++;
      counter = 0;
    }
  }
  // The random part keeps ids from two processes (or a restart within the same ms) apart.
  return `${pad36(lastMs, TIME_LEN)}-${pad36(counter, COUNTER_LEN)}-${pad36(randomInt(RANDOM_MAX), RANDOM_LEN)}`;
}

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}
