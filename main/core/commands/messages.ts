/*
 * Messages, the unit an admin thinks in: `messages.timeline` gathers one mail's lines from
 * the retained receivelog and senderlog (received, each recipient's decision and rule,
 * queued, every attempt, delivered, bounced or expired, and the bounces it caused), with its
 * state in the queue and its attachment names while it is still queued; `messages.search`
 * finds mails by address, subject, queue id or Message-ID over the retained days. Both read
 * the files, so they work with or without a running gateway. A ref no line names (and no
 * queued message has) rejects with ApiError 'not-found'.
 */
import { ApiError, type CommandHandlers } from '../../shared/contract.js';
import { dayOf, type MessageSummary, type MessageTimeline } from '../../shared/messages.js';
import type { QueueItem } from '../../shared/types.js';
import { messageTimeline, searchMessages, type LogFolder } from '../messages/find.js';
import { attachmentNames } from '../messages/attachments.js';
import { dataPaths } from '../paths.js';
import { Spool } from '../spool/index.js';
import type { CommandPorts } from './context.js';

type Names = 'messages.timeline' | 'messages.search';

const DAY_S = 86400;

function logsOf(p: CommandPorts): LogFolder {
  const gw = p.gateway;
  if (!gw) return { dir: dataPaths(p.store.dataDir).logs };
  return {
    dir: gw.paths.logs,
    flush: async () => {
      await Promise.all([gw.receivelog.flush(), gw.senderlog.flush()]);
    },
  };
}

async function queued(p: CommandPorts, id: string | undefined): Promise<{ item: QueueItem; body: Buffer | null } | null> {
  if (!id) return null;
  try {
    const shown = await p.queue.show(id);
    const spool = p.gateway ? p.gateway.spool : new Spool(dataPaths(p.store.dataDir).spool);
    const body = await spool.readBody(id).catch(() => null);
    return { item: shown.item, body };
  } catch {
    return null;
  }
}

/** A queued message whose lines are gone (logs pruned or unwritable): what the queue knows. */
function fromQueue(item: QueueItem): MessageSummary {
  return {
    ref: item.id,
    queueId: item.id,
    day: dayOf(item.receivedAt),
    ts: item.receivedAt,
    lastTs: item.receivedAt,
    sender: item.sender,
    subject: item.subject,
    size: item.size,
    recipients: item.recipients.map((address) => ({ address, state: item.pending.includes(address) ? (item.attempts > 0 ? 'deferred' : 'accepted') : 'delivered' })),
    outcome: item.attempts > 0 ? 'deferred' : 'queued',
    rejected: 0,
    attempts: item.attempts,
    dsn: [],
  };
}

export function messageCommands(p: CommandPorts): Pick<CommandHandlers, Names> {
  const lifetimeDays = () => Math.ceil(p.store.get().delivery.maxLifetimeSeconds / DAY_S);
  return {
    'messages.timeline': async ({ ref, day }) => {
      let lines: Awaited<ReturnType<typeof messageTimeline>> | null = null;
      try {
        lines = await messageTimeline(logsOf(p), ref, { day, lifetimeDays: lifetimeDays() });
      } catch (err) {
        if (!/^no message /.test((err as Error).message)) throw err;
      }
      const inQueue = await queued(p, lines?.summary.queueId ?? ref);
      if (!lines && !inQueue) throw new ApiError(`no message ${ref} in the logs or the queue`, 'not-found', [], { ref });
      const summary = lines?.summary ?? fromQueue(inQueue!.item);
      if (!summary.subject && inQueue?.item.subject) summary.subject = inQueue.item.subject;
      const out: MessageTimeline = {
        summary,
        steps: lines?.steps ?? [],
        attachments: inQueue?.body ? await attachmentNames(inQueue.body) : [],
        bounces: lines?.bounces ?? [],
      };
      if (inQueue) out.queue = inQueue.item;
      const c = lines?.connect;
      if (c) {
        out.client = { ip: c.clientIp, tls: c.tls };
        if (c.clientHost) out.client.host = c.clientHost;
        // The connect line comes before EHLO: the name the client gave is on its later lines.
        const helo = c.helo ?? lines?.steps.map((x) => x.entry).find((e) => 'helo' in e && e.helo && 'session' in e && e.session === c.session)?.['helo' as never];
        if (helo) out.client.helo = helo;
        if (c.trusted !== undefined) out.client.trusted = c.trusted;
        if (c.auth) out.client.auth = c.auth;
      }
      return out;
    },
    'messages.search': async ({ text, days, limit }) => searchMessages(logsOf(p), { text: text.trim(), days, limit: limit ?? 100, lifetimeDays: lifetimeDays() }),
  };
}
