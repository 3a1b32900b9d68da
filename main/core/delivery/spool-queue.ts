/*
 * The queue as the spool on disk holds it, for when no gateway runs (the CLI on a stopped
 * gateway's data folder): the same rows and states as the running runner shows (queue-view.ts
 * decides both), only never 'active', since nothing delivers. list() and show() read the
 * spool; the actions that change a message need the running gateway's delivery, so they
 * reject with ApiError 'not-running'. A missing message rejects with 'not-found'.
 */
import { ApiError, type QueueDetail } from '../../shared/contract.js';
import { problem } from '../../shared/issues.js';
import type { QueueItem } from '../../shared/types.js';
import { Spool } from '../spool/index.js';
import { headerBlock } from './dsn.js';
import { matches, queueItem, type QueueFilter } from './queue-view.js';
import type { QueueShow } from './runner.js';

export class SpoolQueue {
  readonly #spool: Spool;

  constructor(spoolDir: string) {
    this.#spool = new Spool(spoolDir);
  }

  async list(filter?: QueueFilter): Promise<QueueItem[]> {
    const items: QueueItem[] = [];
    for (const header of await this.#spool.list()) {
      const item = queueItem(header, await this.#spool.getState(header.id), false);
      if (matches(item, filter)) items.push(item);
    }
    return items;
  }

  async show(id: string): Promise<QueueShow & QueueDetail> {
    let header, state, body;
    try {
      header = await this.#spool.readHeader(id);
      state = await this.#spool.getState(id);
      body = await this.#spool.readBody(id);
    } catch (err) {
      throw new ApiError(`no message ${id} in the queue: ${(err as Error).message}`, 'not-found');
    }
    return {
      item: queueItem(header, state, false),
      headers: headerBlock(body).toString('utf8'),
      failed: state.failed.map((f) => ({ ...f })),
      header,
      state,
    };
  }

  #needsGateway(): Promise<never> {
    return Promise.reject(new ApiError(problem('not_running').message, 'not-running'));
  }

  retryNow(_id?: string): Promise<void> {
    return this.#needsGateway();
  }
  hold(_id: string): Promise<void> {
    return this.#needsGateway();
  }
  release(_id: string): Promise<void> {
    return this.#needsGateway();
  }
  remove(_id: string): Promise<void> {
    return this.#needsGateway();
  }
  bounceNow(_id: string): Promise<void> {
    return this.#needsGateway();
  }
}
