// Copyright 2026 the buffered-framing authors. MIT license.
// Minimal Deno.Conn server of the harness protocol (length-prefixed frames;
// reply = the frame minus its first 10 code points), one read loop per
// connection: read into the connection's buffer, answer every complete frame,
// write the replies, read again. Read disciplines (--mode):
//   plain      read(bufferSize) -> replies -> write -> read   (the library's shape)
//   small      idle connections read into a --small-size buffer; a bufferSize
//              buffer only while a frame does not fit (memory design)
//   readable   conn.readable with a BYOB reader (web streams)
//   yield      plain + `await setTimeout(0)` after each write (issue 11's experiment)
//   gate       plain, but at most --gate N replies are written a turn; the rest wait for the
//              next turn (--turn timeout: setTimeout(0), channel: MessageChannel, immediate:
//              node:timers setImmediate): does bounding fresh readiness per turn let parked
//              reads have theirs?
//   sync       try the read synchronously first? (not available: Deno has no
//              non-blocking read on Deno.Conn) -- see README
// usage: deno run --allow-net=127.0.0.1:PORT [--allow-env --allow-write=/tmp] \
//          bench/scale/deno_conn_echo.ts --port PORT [--mode plain] [--buffer-size 65536] [--small-size 1024]
// SCALE_STATS=/tmp/file.json writes per-connection service statistics on SIGTERM.

import { complete, enabled, flag, issue, opWait, skip10 } from "./_stats.ts";
import { setImmediate } from "node:timers";

const port = Number(flag("port", "4567"));
const mode = flag("mode", "plain");
const bufferSize = Number(flag("buffer-size", "65536"));
const smallSize = Number(flag("small-size", "1024"));
const GATE = Number(flag("gate", "64"));
const TURN = flag("turn", "channel");
const channel = new MessageChannel();
channel.port1.onmessage = () => reset();

let granted = 0;
let resetScheduled = false;
let waiting: (() => void)[] = [];
function scheduleReset(): void {
  if (resetScheduled) return;
  resetScheduled = true;
  if (TURN === "timeout") setTimeout(reset, 0);
  else if (TURN === "immediate") setImmediate(reset);
  else channel.port2.postMessage(0);
}
function reset(): void {
  resetScheduled = false;
  granted = 0;
  const now = waiting;
  let i = 0;
  while (granted < GATE && i < now.length) {
    granted++;
    now[i++]();
  }
  waiting = now.slice(i);
  if (waiting.length > 0 || granted > 0) scheduleReset();
}
function writeGate(): Promise<void> | undefined {
  scheduleReset();
  if (granted < GATE && waiting.length === 0) {
    granted++;
    return undefined;
  }
  return new Promise((r) => waiting.push(r));
}

/** Answers the complete frames in buf[start, end); returns [new start, reply bytes or null, frames]. */
function answer(buf: Uint8Array, start: number, end: number): [number, Uint8Array | null, number] {
  let off = start;
  let first: Uint8Array | null = null;
  let parts: Uint8Array[] | null = null;
  let frames = 0;
  while (end - off >= 4) {
    const len = ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>>
      0;
    if (end - off - 4 < len) break;
    const p = off + 4;
    const s = skip10(buf, p, p + len);
    const n = p + len - s;
    // The new header goes over the 4 bytes before the reply's body (dropped bytes or the old header).
    const h = s - 4;
    buf[h] = n >>> 24;
    buf[h + 1] = n >>> 16;
    buf[h + 2] = n >>> 8;
    buf[h + 3] = n;
    const reply = buf.subarray(h, p + len);
    if (first === null) first = reply;
    else (parts ??= [first]).push(reply);
    frames++;
    off = p + len;
  }
  if (parts !== null) {
    let total = 0;
    for (const x of parts) total += x.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const x of parts) {
      out.set(x, o);
      o += x.length;
    }
    first = out;
  }
  return [off, first, frames];
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let o = 0;
  while (o < bytes.length) {
    const t = enabled ? performance.now() : 0;
    o += await conn.write(o === 0 ? bytes : bytes.subarray(o));
    if (enabled) opWait("write", performance.now() - t);
  }
}

/** Frame size of the (incomplete) frame at buf[start, end), or -1 if the header is incomplete. */
function frameSize(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 4) return -1;
  return 4 +
    (((buf[start] << 24) | (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3]) >>> 0);
}

async function serve(conn: Deno.TcpConn, id: number): Promise<void> {
  conn.setNoDelay(true);
  let buf = new Uint8Array(mode === "small" ? smallSize : bufferSize);
  let start = 0, end = 0;
  const reader = mode === "readable" ? conn.readable.getReader({ mode: "byob" }) : undefined;
  try {
    while (true) {
      // A frame larger than the buffer gets a buffer of its own size; "small"
      // also reads idle connections into a smallSize buffer and grows to
      // bufferSize only while a frame is incomplete.
      const need = frameSize(buf, start, end);
      const base = mode === "small" ? smallSize : bufferSize;
      if (start === end && buf.length !== base) {
        buf = new Uint8Array(base);
        start = end = 0;
      } else if (need > buf.length - start) {
        const size = Math.max(need, mode === "small" ? bufferSize : 0);
        if (size > buf.length) {
          const big = new Uint8Array(size);
          big.set(buf.subarray(start, end));
          buf = big;
          end -= start;
          start = 0;
        }
      }
      if (start === end) start = end = 0;
      else if (end === buf.length || need > buf.length - start) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      issue(id);
      const t0 = enabled ? performance.now() : 0;
      let n: number | null;
      if (reader !== undefined) {
        const r = await reader.read(new Uint8Array(buf.buffer, end, buf.length - end));
        if (r.done) break;
        // BYOB transfers the buffer: take it back.
        buf = new Uint8Array(r.value.buffer);
        n = r.value.length;
      } else {
        n = await conn.read(buf.subarray(end));
      }
      if (n === null) break;
      if (enabled) opWait("read", performance.now() - t0);
      end += n;
      const [s, reply, frames] = answer(buf, start, end);
      start = s;
      complete(id, frames);
      if (reply !== null) {
        if (mode === "gate") {
          const g = writeGate();
          if (g !== undefined) await g;
        }
        await writeAll(conn, reply);
      }
      if (mode === "yield") await new Promise((r) => setTimeout(r, 0));
    }
  } catch {
    // reset
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(`listening on 127.0.0.1:${port} mode=${mode}`);
let ids = 0;
for await (const conn of listener) serve(conn, ids++);
