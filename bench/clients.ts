#!/usr/bin/env -S deno run --allow-net=127.0.0.1
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * What one process can drive with {@linkcode BufferedClient}: `--clients`
 * clients in this one Deno process, each keeping `--window` messages
 * outstanding (pipelined: sends first, then receives), every reply checked
 * against the request minus its first 10 characters. Prints the frames per
 * second, the latency (p50, p99, p99.9 and max of a sample), and this
 * process's own cost: CPU time per frame and resident memory per client.
 *
 * The server runs in a separate process, so that only the clients are
 * measured here; start it first, e.g. the demo server:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:4567 server.ts --hostname 127.0.0.1 --port 4567 --buffer-size 65536 --max-connections 20000 &
 * deno run --allow-net=127.0.0.1:4567 bench/clients.ts --port 4567 --clients 1000 --window 1 --size 64 --seconds 5
 * ```
 *
 * Each client holds a socket: with more than about 1,000 clients raise the
 * open-file limit above the client count (`ulimit -n`), here and in the
 * server's shell.
 *
 * Messages are ASCII (characters are bytes), taken in turn from a ring of 256
 * distinct messages shared by all clients (so that preparing them costs the
 * measured process nothing per frame), each client starting at its own place
 * in it: a reply out of order is caught, and so is one from another
 * connection unless that connection is 256 clients away and in step. Latency is from a message's send to its reply (with a window above 1
 * this includes queueing behind the earlier messages), sampled on one frame in
 * 16, in a log-linear histogram (under 1.6% error); max is the largest
 * sample. CPU is this process's user + system time over the measured seconds
 * (`process.cpuUsage()`), divided by the frames. Memory is
 * `Deno.memoryUsage().rss` less the RSS before the first connection, divided
 * by the clients: once all are connected and before any message (the cost of
 * a connected client), and at the end of the measured seconds (under load,
 * where garbage not yet collected and the heap's growth count too: with few
 * clients that figure is mostly the heap, indicative only).
 *
 * @module
 */

import { BufferedClient } from "../mod.ts";
import { integerFlag, parseCommandLine, runMain, stringFlag, UsageError } from "../_cli.ts";
import { cpuSeconds, histogramPercentile, sleep } from "./_stats.ts";

const USAGE = `Usage: deno run --allow-net=HOST:PORT bench/clients.ts --port PORT [options]

Options:
  --hostname HOST      server address (default: 127.0.0.1)
  --port PORT          server port (required: start the server in its own process)
  --clients N          BufferedClients in this process (default: 1000)
  --window N           messages outstanding per client (default: 1)
  --size BYTES         message size in bytes, at least 10 (default: 64)
  --seconds T          measured seconds (default: 5)
  --warmup T           unmeasured seconds first (default: 1)
  --buffer-size N      each client's receive buffer (default: 65536)
  --connect-batch N    connections opened at a time (default: 100)
  --json               print one JSON object instead of lines`;

const DROPPED = 10;
/** Distinct messages in the shared ring. */
const RING = 256;
const LATENCY_SAMPLE = 16;

// Log-linear latency histogram in µs: exact below 128, then 64 buckets per power of two.
const LINEAR = 128;
const SUB_BITS = 6;
const BUCKETS = LINEAR + (31 - 7) * (1 << SUB_BITS);

function bucketOf(micros: number): number {
  const us = Math.min(Math.floor(micros), 2 ** 31 - 1);
  if (us < LINEAR) return us;
  const exponent = 31 - Math.clz32(us);
  return LINEAR + (exponent - 7) * (1 << SUB_BITS) +
    ((us >>> (exponent - SUB_BITS)) & ((1 << SUB_BITS) - 1));
}

/** The lowest latency in µs that falls in `bucket`. */
function bucketValue(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const exponent = 7 + Math.floor((bucket - LINEAR) / (1 << SUB_BITS));
  const sub = (bucket - LINEAR) % (1 << SUB_BITS);
  return ((1 << SUB_BITS) + sub) * 2 ** (exponent - SUB_BITS);
}

/** The latency in µs below which a fraction `p` of the samples fall. */
function percentile(histogram: Uint32Array, total: number, p: number): number {
  return histogramPercentile(histogram, total, p, bucketValue);
}

interface Tally {
  measuring: boolean;
  stopping: boolean;
  frames: number;
  latencies: Uint32Array;
  samples: number;
  maxMicros: number;
  errors: number;
  firstError: string | undefined;
}

/** Message `index` of the ring: 10 characters to drop, a stamp, then filler up to `size` bytes. */
function makeMessage(index: number, size: number): string {
  const filler = "abcdefghijklmnopqrstuvwxyz0123456789";
  let text = `${"0123456789"}#${index.toString(16).padStart(4, "0")}:`;
  while (text.length < size) text += filler[(text.length + index) % filler.length];
  return text.slice(0, size);
}

function error(tally: Tally, message: string): void {
  tally.errors++;
  tally.firstError ??= message;
}

async function drive(
  client: BufferedClient,
  id: number,
  window: number,
  messages: string[],
  expected: string[],
  tally: Tally,
): Promise<void> {
  // Send times of sampled frames, a ring of `window` slots.
  const sentAt = new Float64Array(window);
  let sent = 0;
  let received = 0;
  const sendOne = (): void => {
    if (sent % LATENCY_SAMPLE === 0) sentAt[sent % window] = performance.now();
    void client.sendMessage(messages[(id + sent) % RING]);
    sent++;
  };
  while (sent < window) sendOne();
  while (true) {
    const [reply, ok] = await client.receiveMessage();
    if (!ok) {
      error(tally, `client ${id}: connection ended (${client.failure?.message ?? "closed"})`);
      return;
    }
    if (reply !== expected[(id + received) % RING]) {
      error(tally, `client ${id}: reply ${received} is ${JSON.stringify(reply)}`);
    }
    if (tally.measuring) {
      tally.frames++;
      if (received % LATENCY_SAMPLE === 0) {
        const micros = (performance.now() - sentAt[received % window]) * 1000;
        tally.latencies[bucketOf(micros)]++;
        tally.samples++;
        if (micros > tally.maxMicros) tally.maxMicros = micros;
      }
    }
    received++;
    if (tally.stopping) {
      // Drain what is in flight, then stop.
      if (received === sent) return;
      continue;
    }
    sendOne();
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCommandLine(args, {
    hostname: { type: "string" },
    port: { type: "string" },
    clients: { type: "string" },
    window: { type: "string" },
    size: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    "buffer-size": { type: "string" },
    "connect-batch": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.port === undefined) {
    throw new UsageError(
      "--port is required: start the server in its own process (see bench/clients.ts)",
    );
  }
  const hostname = stringFlag(values, "hostname", "127.0.0.1");
  const port = integerFlag(values, "port", 4567, 1, 65535);
  const count = integerFlag(values, "clients", 1000, 1);
  const window = integerFlag(values, "window", 1, 1);
  const size = integerFlag(values, "size", 64, DROPPED);
  const seconds = integerFlag(values, "seconds", 5, 1);
  const warmup = integerFlag(values, "warmup", 1, 0);
  const bufferSize = integerFlag(values, "buffer-size", 65536, 1);
  const batch = integerFlag(values, "connect-batch", 100, 1);

  const messages = Array.from({ length: RING }, (_, i) => makeMessage(i, size));
  const expected = messages.map((m) => m.slice(DROPPED));
  const tally: Tally = {
    measuring: false,
    stopping: false,
    frames: 0,
    latencies: new Uint32Array(BUCKETS),
    samples: 0,
    maxMicros: 0,
    errors: 0,
    firstError: undefined,
  };

  const rssBefore = Deno.memoryUsage().rss;
  const clients: BufferedClient[] = [];
  try {
    try {
      for (let first = 0; first < count; first += batch) {
        const n = Math.min(batch, count - first);
        clients.push(
          ...await Promise.all(
            Array.from({ length: n }, () => BufferedClient.connect(hostname, port, bufferSize)),
          ),
        );
      }
    } catch (error) {
      console.error(
        `error: ${clients.length} of ${count} clients connected, then: ${
          (error as Error).message
        }` +
          " (is the server running? See bench/clients.ts)",
      );
      return 1;
    }
    const rssConnected = Deno.memoryUsage().rss;

    const running = Promise.all(
      clients.map((client, id) => drive(client, id, window, messages, expected, tally)),
    );
    await sleep(warmup * 1000);
    const measureFrom = performance.now();
    const cpuBefore = cpuSeconds();
    tally.measuring = true;
    await sleep(seconds * 1000);
    tally.measuring = false;
    const elapsed = (performance.now() - measureFrom) / 1000;
    const cpu = cpuSeconds() - cpuBefore;
    const rssLoaded = Deno.memoryUsage().rss;
    tally.stopping = true;
    await running;

    const mib = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
    const result = {
      clients: count,
      window,
      size,
      seconds: Number(elapsed.toFixed(2)),
      frames_per_s: Math.round(tally.frames / elapsed),
      p50_us: percentile(tally.latencies, tally.samples, 0.5),
      p99_us: percentile(tally.latencies, tally.samples, 0.99),
      p999_us: percentile(tally.latencies, tally.samples, 0.999),
      max_us: Math.round(tally.maxMicros),
      latency_samples: tally.samples,
      client_cpu: Number((cpu / elapsed).toFixed(2)),
      client_cpu_us_per_frame: Number((cpu * 1e6 / Math.max(1, tally.frames)).toFixed(2)),
      rss_before_mib: mib(rssBefore),
      rss_connected_mib: mib(rssConnected),
      rss_loaded_mib: mib(rssLoaded),
      rss_idle_per_client_kib: Number(((rssConnected - rssBefore) / 1024 / count).toFixed(1)),
      rss_per_client_kib: Number(((rssLoaded - rssBefore) / 1024 / count).toFixed(1)),
      errors: tally.errors,
      ...(tally.firstError === undefined ? {} : { first_error: tally.firstError }),
    };
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(
        [
          `${count} BufferedClients × window ${window}, ${size} B, ${result.seconds} s measured ` +
          `after ${warmup} s warm-up`,
          `${result.frames_per_s} frames/s; latency (1 frame in ${LATENCY_SAMPLE}) ` +
          `p50 ${result.p50_us} µs, p99 ${result.p99_us} µs, p99.9 ${result.p999_us} µs, ` +
          `max ${result.max_us} µs`,
          `client CPU ${result.client_cpu} core, ${result.client_cpu_us_per_frame} µs/frame; ` +
          `RSS ${result.rss_before_mib} MiB before, ${result.rss_connected_mib} MiB connected, ` +
          `${result.rss_loaded_mib} MiB under load: ${result.rss_idle_per_client_kib} KiB per ` +
          `client connected, ${result.rss_per_client_kib} KiB per client under load`,
          `${result.errors} errors` +
          (tally.firstError === undefined ? "" : ` (first: ${tally.firstError})`),
        ].join("\n"),
      );
    }
  } finally {
    for (const client of clients) client.shutdown();
  }
  return tally.errors === 0 ? 0 : 1;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
