/*
 * lowdb's JSONFile with the written file left owner-only (0600 on Linux and macOS). steno,
 * under lowdb, writes a temp file and renames it over the target, so the target takes the temp
 * file's mode: whatever the process umask allows (0644 as a rule). After each write the file is
 * set to 0600; the moment in between is inside the data folder, which is 0700
 * (data-folder-access.ts). Rejects with the file system's error, like JSONFile.
 */
import type { PathLike } from 'node:fs';
import { JSONFile } from 'lowdb/node';
import { chmodPrivate } from '../private-files.js';

export class PrivateJSONFile<T> extends JSONFile<T> {
  readonly #file: string;

  constructor(filename: PathLike) {
    super(filename);
    this.#file = filename.toString();
  }

  override async write(obj: T): Promise<void> {
    await super.write(obj);
    await chmodPrivate(this.#file);
  }
}
