// Copyright 2026 the buffered-framing authors. MIT license.
// How many bytes each TCP socket still has to deliver, from Linux's
// /proc/net/tcp and /proc/net/tcp6: the only place Deno can see a peer
// reading slowly but steadily. A write resumes only once about a third of a
// full send buffer has drained (the kernel's "writable" threshold), so write
// completions alone see no progress for seconds; the send queue shrinks with
// every window the peer opens.

const TABLES = ["/proc/net/tcp", "/proc/net/tcp6"];

/** Whether the tables may be read without a prompt: only with `--allow-read` for them. */
let readable: boolean | undefined;

function mayRead(): boolean {
  if (readable === undefined) {
    try {
      readable = TABLES.every((path) =>
        Deno.permissions.querySync({ name: "read", path }).state === "granted"
      );
    } catch {
      readable = false;
    }
  }
  return readable;
}

/** The key of a connection in {@linkcode readSendQueues}' map: its two ports. */
export function sendQueueKey(localPort: number, remotePort: number): string {
  return `${localPort}:${remotePort}`;
}

/**
 * Bytes each TCP socket has sent and not had acknowledged (`tx_queue`), by
 * {@linkcode sendQueueKey}; a key two sockets share is left out. `undefined`
 * when the tables cannot be read (not Linux, or no `--allow-read` for them).
 */
export function readSendQueues(): Map<string, number> | undefined {
  if (!mayRead()) return undefined;
  const queues = new Map<string, number>();
  const shared = new Set<string>();
  try {
    for (const path of TABLES) {
      const lines = Deno.readTextFileSync(path).split("\n");
      for (let i = 1; i < lines.length; i++) {
        // "  sl  local_address rem_address   st tx_queue:rx_queue ..."
        const fields = lines[i].trim().split(/\s+/);
        if (fields.length < 5) continue;
        const local = fields[1];
        const remote = fields[2];
        const key = sendQueueKey(
          parseInt(local.slice(local.lastIndexOf(":") + 1), 16),
          parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16),
        );
        const txQueue = parseInt(fields[4].slice(0, fields[4].indexOf(":")), 16);
        if (queues.has(key)) shared.add(key);
        queues.set(key, txQueue);
      }
    }
  } catch {
    return undefined;
  }
  for (const key of shared) queues.delete(key);
  return queues;
}
