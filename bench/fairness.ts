#!/usr/bin/env -S deno run --allow-net=127.0.0.1
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Is a server fair across many clients? Opens `--clients` loopback
 * connections, each doing request/reply with one frame in flight (send a
 * frame, wait for its reply, check it, send the next), and reports how evenly
 * the server shared itself out: exchanges completed per client, Jain's
 * fairness index over those counts, and each client's worst wait, as a
 * distribution over the clients. Fairness is a timing property, so it is
 * measured here and not asserted by a test (issue 11: at 1,000 to 10,000
 * clients some connections waited seconds while others were served in a
 * millisecond).
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:4567 server.ts --hostname 127.0.0.1 --port 4567 --buffer-size 65536 --max-connections 20000 &
 * deno run --allow-net=127.0.0.1 bench/fairness.ts --port 4567 --clients 1000 --seconds 5
 * ```
 *
 * Against an echo server (one that sends every byte back, such as the
 * benchmark harness's `raw_echo`), `--echo` expects the whole request frame
 * back instead of the demo rule's answer:
 *
 * ```sh
 * /tmp/bench/raw_echo 4568 &
 * deno run --allow-net=127.0.0.1 bench/fairness.ts --port 4568 --clients 1000 --echo
 * ```
 *
 * The clients are driven with Node's `net` module (`node:net`), push-based:
 * each `data` event is accumulated and parsed, and a complete reply sends the
 * next request from the event handler. The client side must not be the
 * unfair party, and `Deno.Conn` reads are suspected of being served unevenly
 * by the runtime at this scale; run against `raw_echo` first to see the
 * driver's own spread. `node:net` inside Deno asks for nothing beyond
 * `--allow-net` for the address it connects to.
 *
 * Every reply is checked byte for byte: its header must declare the expected
 * length and its payload must be the request minus its first 10 characters
 * (the payload is ASCII, so characters are bytes), or with `--echo` the whole
 * request frame. With `--size` 26 and up, each request carries the client's id
 * and its sequence number just after the 10 dropped characters, so a reply to
 * another request or another client is caught. A wrong reply or a connection
 * the server ends stops that client and counts an error (exit status 1).
 *
 * Measures: the worst wait of a client is the longest time from one of its
 * sends to that send's reply, over the replies of the measured seconds (a
 * send may precede them: a request sent during the warm-up and answered
 * later counts whole); its worst gap is the longest time between two of its
 * replies (from the start of measurement to the first, and from the last to
 * the end, count too). A request still unanswered when the run ends counts
 * with the time it has waited so far, so a starved client shows. The
 * longest time without any reply to any client is printed too: worst waits
 * close to it are a stall of the whole process (the driver, its garbage
 * collector, the machine), not the server passing a client over. Percentiles are nearest-rank over the clients, so with 1,000
 * clients p99.9 is the second worst.
 *
 * Each client holds a socket: with more than about 1,000 clients raise the
 * open-file limit above the client count (`ulimit -n 20000`), here and in the
 * server's shell. Connections are opened `--connect-batch` at a time, all
 * before the first request, so every client starts together.
 *
 * @module
 */

import net from "node:net";
import { integerFlag, parseCommandLine, runMain, stringFlag } from "../_cli.ts";
import { cpuSeconds, sleep, sortedPercentile as percentile } from "./_stats.ts";

const USAGE = `Usage: deno run --allow-net=127.0.0.1 bench/fairness.ts [options]

Options:
  --hostname HOST        server address (default: 127.0.0.1)
  --port PORT            server port (default: 4567)
  --clients N            concurrent clients, one connection each (default: 1000)
  --seconds T            measured seconds (default: 5)
  --warmup T             unmeasured seconds first (default: 2)
  --size BYTES           request payload size (default: 64)
  --connect-batch N      connections opened at a time (default: 256)
  --echo                 expect the whole request frame back (an echo server)
  --per-client           also print one line per client: id exchanges worstWaitMs
  --json                 print one JSON object instead of lines

With more than about 1,000 clients, raise the open-file limit (ulimit -n).`;

/** Characters the demo server drops from the front of each message. */
const DROPPED = 10;
/** Where the stamp (client id, sequence number: 8 hex digits each) goes in a payload. */
const STAMP_AT = DROPPED;
const STAMP_LENGTH = 16;
const HEX = new TextEncoder().encode("0123456789abcdef");

/** One connection's state and figures. */
interface Client {
  id: number;
  socket: net.Socket;
  /** The request frame, header included; its stamp is rewritten for every send. */
  request: Uint8Array;
  /** The expected reply is `request[replyFrom...]` after a header declaring `replyLength`. */
  replyFrom: number;
  replyLength: number;
  /** The reply being received, header included, and how much of it has arrived. */
  reply: Uint8Array;
  received: number;
  sequence: number;
  /** Time of the last send, and whether its reply is still awaited. */
  sentAt: number;
  waiting: boolean;
  lastReplyAt: number;
  exchanges: number;
  worstWait: number;
  worstGap: number;
  failed: boolean;
}

/** Run-wide state the event handlers share. */
interface Run {
  measuring: boolean;
  stopping: boolean;
  errors: number;
  firstError: string | undefined;
  /** When any client last got a reply, and the longest time without one (the driver's stalls). */
  lastReplyAt: number;
  longestSilence: number;
}

/** Writes `value` as 8 lowercase hex digits at `bytes[at]`. */
function writeHex(bytes: Uint8Array, at: number, value: number): void {
  for (let i = 7; i >= 0; i--) {
    bytes[at + i] = HEX[value & 0xf];
    value >>>= 4;
  }
}

/** The request frame of client `id`: a 4-byte big-endian length, then `size` ASCII bytes. */
function requestFrame(id: number, size: number): Uint8Array {
  const frame = new Uint8Array(4 + size);
  new DataView(frame.buffer).setUint32(0, size);
  const filler = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (let i = 0; i < size; i++) frame[4 + i] = filler.charCodeAt((i + id) % filler.length);
  if (size >= STAMP_AT + STAMP_LENGTH) writeHex(frame, 4 + STAMP_AT, id);
  return frame;
}

function fail(run: Run, client: Client, reason: string): void {
  if (client.failed) return;
  client.failed = true;
  client.waiting = false;
  run.errors++;
  run.firstError ??= `client ${client.id}: ${reason}`;
  client.socket.destroy();
}

function send(client: Client, now: number): void {
  if (client.request.length >= 4 + STAMP_AT + STAMP_LENGTH) {
    writeHex(client.request, 4 + STAMP_AT + 8, client.sequence);
  }
  client.sequence = (client.sequence + 1) >>> 0;
  client.sentAt = now;
  client.waiting = true;
  client.socket.write(client.request);
}

/** Checks the payload of the complete reply in `client.reply` against the request. */
function check(client: Client): string | undefined {
  const { reply, request, replyFrom } = client;
  for (let i = 4; i < reply.length; i++) {
    if (reply[i] !== request[replyFrom + i - 4]) {
      return `reply byte ${i - 4} is ${reply[i]}, expected ${request[replyFrom + i - 4]}`;
    }
  }
  return undefined;
}

function onData(run: Run, client: Client, chunk: Uint8Array): void {
  if (client.failed) return;
  if (!client.waiting || client.received + chunk.length > client.reply.length) {
    const header = new Uint8Array(4);
    header.set(client.reply.subarray(0, Math.min(4, client.received)));
    if (client.waiting && client.received < 4 && client.received + chunk.length >= 4) {
      header.set(chunk.subarray(0, 4 - client.received), client.received);
      const declared = new DataView(header.buffer).getUint32(0);
      if (declared !== client.replyLength) {
        fail(run, client, `reply declares ${declared} bytes, expected ${client.replyLength}`);
        return;
      }
    }
    fail(run, client, "more bytes than the reply to one request");
    return;
  }
  const before = client.received;
  client.reply.set(chunk, before);
  client.received += chunk.length;
  if (client.received < 4) return;
  if (before < 4) {
    // The header is complete: check it now, so a wrong length is reported as such.
    const declared = new DataView(client.reply.buffer, client.reply.byteOffset, 4).getUint32(0);
    if (declared !== client.replyLength) {
      fail(run, client, `reply declares ${declared} bytes, expected ${client.replyLength}`);
      return;
    }
  }
  if (client.received < client.reply.length) return;
  const wrong = check(client);
  if (wrong !== undefined) {
    fail(run, client, wrong);
    return;
  }
  client.received = 0;
  client.waiting = false;
  const now = performance.now();
  if (run.measuring) {
    if (now - run.lastReplyAt > run.longestSilence) run.longestSilence = now - run.lastReplyAt;
    run.lastReplyAt = now;
    client.exchanges++;
    const wait = now - client.sentAt;
    if (wait > client.worstWait) client.worstWait = wait;
    const gap = now - client.lastReplyAt;
    if (gap > client.worstGap) client.worstGap = gap;
  }
  client.lastReplyAt = now;
  if (!run.stopping) send(client, now);
}

function connectOne(
  run: Run,
  id: number,
  hostname: string,
  port: number,
  size: number,
  echo: boolean,
): Promise<Client> {
  const request = requestFrame(id, size);
  // An echo server sends the whole request frame back; the demo server drops 10 characters.
  const dropped = echo ? 0 : Math.min(DROPPED, size);
  const replyFrom = 4 + dropped;
  const replyLength = size - dropped;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port });
    const client: Client = {
      id,
      socket,
      request,
      replyFrom,
      replyLength,
      reply: new Uint8Array(4 + replyLength),
      received: 0,
      sequence: 0,
      sentAt: 0,
      waiting: false,
      lastReplyAt: 0,
      exchanges: 0,
      worstWait: 0,
      worstGap: 0,
      failed: false,
    };
    const refused = (error: Error): void => reject(error);
    socket.once("error", refused);
    socket.once("connect", () => {
      socket.off("error", refused);
      socket.setNoDelay(true);
      socket.on("data", (chunk: Uint8Array) => onData(run, client, chunk));
      socket.on("error", (error: Error) => {
        if (!run.stopping) fail(run, client, `connection error: ${error.message}`);
      });
      socket.on("close", () => {
        if (!run.stopping) fail(run, client, "the server closed the connection");
      });
      resolve(client);
    });
  });
}

/** Jain's fairness index: 1 when all equal, 1/n when one client got everything. */
function jain(values: number[]): number {
  let sum = 0;
  let squares = 0;
  for (const v of values) {
    sum += v;
    squares += v * v;
  }
  return squares === 0 ? NaN : (sum * sum) / (values.length * squares);
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    hostname: { type: "string" },
    port: { type: "string" },
    clients: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    size: { type: "string" },
    "connect-batch": { type: "string" },
    echo: { type: "boolean" },
    "per-client": { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const hostname = stringFlag(values, "hostname", "127.0.0.1");
  const port = integerFlag(values, "port", 4567, 1, 65535);
  const count = integerFlag(values, "clients", 1000, 1);
  const seconds = integerFlag(values, "seconds", 5, 1);
  const warmup = integerFlag(values, "warmup", 2, 0);
  const size = integerFlag(values, "size", 64, 0, 16 * 1024 * 1024);
  const batch = integerFlag(values, "connect-batch", 256, 1);
  const echo = values.echo === true;

  const run: Run = {
    measuring: false,
    stopping: false,
    errors: 0,
    firstError: undefined,
    lastReplyAt: 0,
    longestSilence: 0,
  };
  const clients: Client[] = [];
  try {
    const connectStart = performance.now();
    try {
      for (let first = 0; first < count; first += batch) {
        const ids = Array.from({ length: Math.min(batch, count - first) }, (_, i) => first + i);
        clients.push(
          ...await Promise.all(ids.map((id) => connectOne(run, id, hostname, port, size, echo))),
        );
      }
    } catch (error) {
      console.error(
        `error: ${clients.length} of ${count} clients connected to ${hostname}:${port}, then: ` +
          `${(error as Error).message}`,
      );
      return 1;
    }
    const connectSeconds = (performance.now() - connectStart) / 1000;

    const start = performance.now();
    for (const client of clients) send(client, start);
    await sleep(warmup * 1000);
    const measureFrom = performance.now();
    for (const client of clients) client.lastReplyAt = measureFrom;
    run.lastReplyAt = measureFrom;
    run.measuring = true;
    const cpuBefore = cpuSeconds();
    await sleep(seconds * 1000);
    run.measuring = false;
    run.stopping = true;
    const measureTo = performance.now();
    const cpu = cpuSeconds() - cpuBefore;
    // A request still unanswered has waited this long so far, and so has the gap.
    for (const client of clients) {
      if (client.failed) continue;
      if (client.waiting) client.worstWait = Math.max(client.worstWait, measureTo - client.sentAt);
      client.worstGap = Math.max(client.worstGap, measureTo - client.lastReplyAt);
    }
    const elapsed = (measureTo - measureFrom) / 1000;
    report(clients, run, {
      values,
      count,
      size,
      echo,
      warmup,
      elapsed,
      cpu,
      connectSeconds,
    });
  } finally {
    run.stopping = true;
    for (const client of clients) client.socket.destroy();
  }
  return run.errors === 0 ? 0 : 1;
}

interface Settings {
  values: Record<string, string | boolean | undefined>;
  count: number;
  size: number;
  echo: boolean;
  warmup: number;
  elapsed: number;
  cpu: number;
  connectSeconds: number;
}

function report(clients: Client[], run: Run, settings: Settings): void {
  const { values, count, size, echo, warmup, elapsed, cpu, connectSeconds } = settings;
  const exchanges = clients.map((c) => c.exchanges);
  const total = exchanges.reduce((sum, n) => sum + n, 0);
  const counts = Float64Array.from(exchanges).sort();
  const waits = Float64Array.from(clients, (c) => c.worstWait).sort();
  const gaps = Float64Array.from(clients, (c) => c.worstGap).sort();
  const ms = (value: number): number => round(value, 2);
  const result = {
    clients: count,
    size,
    mode: echo ? "echo" : "demo",
    warmup_s: warmup,
    seconds: round(elapsed, 2),
    connect_s: round(connectSeconds, 2),
    frames: total,
    frames_per_s: Math.round(total / elapsed),
    exchanges: {
      min: percentile(counts, 0),
      p1: percentile(counts, 0.01),
      p10: percentile(counts, 0.1),
      median: percentile(counts, 0.5),
      p90: percentile(counts, 0.9),
      max: percentile(counts, 1),
    },
    jain: round(jain(exchanges), 4),
    worst_wait_ms: {
      median: ms(percentile(waits, 0.5)),
      p99: ms(percentile(waits, 0.99)),
      p999: ms(percentile(waits, 0.999)),
      max: ms(percentile(waits, 1)),
    },
    worst_gap_ms: {
      median: ms(percentile(gaps, 0.5)),
      p99: ms(percentile(gaps, 0.99)),
      p999: ms(percentile(gaps, 0.999)),
      max: ms(percentile(gaps, 1)),
    },
    longest_silence_ms: ms(run.longestSilence),
    client_cpu: round(cpu / elapsed, 2),
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { first_error: run.firstError }),
    ...(values["per-client"] === true
      ? {
        per_client: clients.map((c) => ({
          id: c.id,
          exchanges: c.exchanges,
          worst_wait_ms: ms(c.worstWait),
          worst_gap_ms: ms(c.worstGap),
        })),
      }
      : {}),
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const e = result.exchanges;
  const w = result.worst_wait_ms;
  const g = result.worst_gap_ms;
  const lines = [
    `${count} clients × window 1, ${size} B, ${result.mode} replies checked, ` +
    `${result.seconds} s measured after ${warmup} s warm-up (connected in ${result.connect_s} s)`,
    `exchanges per client: min ${e.min}, p1 ${e.p1}, p10 ${e.p10}, median ${e.median}, ` +
    `p90 ${e.p90}, max ${e.max}; Jain's index ${result.jain}`,
    `worst wait per client (send to reply), ms: median ${w.median}, p99 ${w.p99}, ` +
    `p99.9 ${w.p999}, max ${w.max}`,
    `worst gap per client (reply to reply), ms: median ${g.median}, p99 ${g.p99}, ` +
    `p99.9 ${g.p999}, max ${g.max}`,
    `${result.frames_per_s} frames/s, longest time without any reply ${result.longest_silence_ms} ms, ` +
    `client CPU ${result.client_cpu} core, ${run.errors} errors` +
    (run.firstError === undefined ? "" : ` (first: ${run.firstError})`),
  ];
  if (values["per-client"] === true) {
    lines.push("id exchanges worstWaitMs");
    for (const c of clients) lines.push(`${c.id} ${c.exchanges} ${ms(c.worstWait)}`);
  }
  console.log(lines.join("\n"));
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
