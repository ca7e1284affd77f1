#!/usr/bin/env -S deno run --allow-net
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * A load generator built on {@linkcode BufferedClient}, to measure a server of
 * the protocol (ours or any other) where it is deployed. Every reply is
 * checked against the expected text (the request minus its first 10
 * characters).
 *
 * ```sh
 * deno run --allow-net=127.0.0.1:4567 bench/load.ts --port 4567 --connections 1 --window 64 --size 32 --seconds 5
 * ```
 *
 * Prints one line of figures, and with `--json` one JSON object.
 *
 * @module
 */

import { BufferedClient } from "../client.ts";
import { integerFlag, parseCommandLine, runMain, stringFlag } from "../_cli.ts";
import { cpuSeconds, histogramPercentile as percentile } from "./_stats.ts";

const USAGE = `Usage: deno run --allow-net=HOST:PORT bench/load.ts [options]

Options:
  --hostname HOST      server address (default: 127.0.0.1)
  --port PORT          server port (default: 4567)
  --connections N      concurrent connections (default: 1)
  --window N           frames in flight per connection (default: 64)
  --size BYTES         payload size in bytes (default: 32)
  --seconds T          measured seconds (default: 5)
  --warmup T           unmeasured seconds first (default: 1)
  --buffer-size N      client receive buffer (default: 65536)
  --utf8               start each payload with multi-byte characters
  --json               print one JSON object instead of a line`;

/** Latency histogram: 1 µs buckets up to 100 ms, so recording allocates nothing. */
const HISTOGRAM_BUCKETS = 100_000;
const LATENCY_SAMPLE = 16;

interface Tally {
  frames: number;
  bytes: number;
  latencies: Uint32Array;
  samples: number;
  errors: number;
}

function newTally(): Tally {
  return {
    frames: 0,
    bytes: 0,
    latencies: new Uint32Array(HISTOGRAM_BUCKETS),
    samples: 0,
    errors: 0,
  };
}

function makeMessage(size: number, utf8: boolean, seed: number): string {
  const prefix = utf8 ? "é中😀" : "";
  let text = prefix + `#${seed}:`;
  const filler = "abcdefghijklmnopqrstuvwxyz0123456789";
  while (new TextEncoder().encode(text).length < size) text += filler[text.length % filler.length];
  // Trim to exactly `size` bytes on an ASCII tail.
  while (new TextEncoder().encode(text).length > size && text.length > prefix.length) {
    text = text.slice(0, -1);
  }
  return text;
}

function codePointsAfter(text: string, count: number): string {
  return Array.from(text).slice(count).join("");
}

async function drive(
  hostname: string,
  port: number,
  bufferSize: number,
  window: number,
  messages: string[],
  deadline: () => boolean,
  tally: () => Tally,
): Promise<void> {
  await using client = await BufferedClient.connect(hostname, port, bufferSize);
  const expected = messages.map((m) => codePointsAfter(m, 10));
  const sizes = messages.map((m) => new TextEncoder().encode(m).length);
  // Send times of the frames in flight, a ring of `window` slots.
  const sentAt = new Float64Array(window);
  let sent = 0;
  let received = 0;
  const sendOne = (): void => {
    const index = sent % messages.length;
    // Latency is sampled on one frame in LATENCY_SAMPLE: reading the clock is an op call.
    if (sent % LATENCY_SAMPLE === 0) sentAt[sent % window] = performance.now();
    void client.sendMessage(messages[index]);
    sent++;
  };
  while (sent < window) sendOne();
  while (true) {
    const [reply, ok] = await client.receiveMessage();
    const t = tally();
    if (!ok) {
      t.errors++;
      return;
    }
    const index = received % messages.length;
    if (reply !== expected[index]) t.errors++;
    t.frames++;
    t.bytes += sizes[index];
    if (received % LATENCY_SAMPLE === 0) {
      const micros = Math.floor((performance.now() - sentAt[received % window]) * 1000);
      t.latencies[Math.min(micros, HISTOGRAM_BUCKETS - 1)]++;
      t.samples++;
    }
    received++;
    if (deadline()) {
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
    connections: { type: "string" },
    window: { type: "string" },
    size: { type: "string" },
    seconds: { type: "string" },
    warmup: { type: "string" },
    "buffer-size": { type: "string" },
    utf8: { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, false);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const hostname = stringFlag(values, "hostname", "127.0.0.1");
  const port = integerFlag(values, "port", 4567, 1, 65535);
  const connections = integerFlag(values, "connections", 1, 1);
  const window = integerFlag(values, "window", 64, 1);
  const size = integerFlag(values, "size", 32, 0);
  const seconds = integerFlag(values, "seconds", 5, 1);
  const warmup = integerFlag(values, "warmup", 1, 0);
  const bufferSize = integerFlag(values, "buffer-size", 65536, 1);
  const utf8 = values.utf8 === true;

  const messages = Array.from({ length: 16 }, (_, i) => makeMessage(size, utf8, i));
  const warm = newTally();
  const measured = newTally();
  let current = warm;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  // A timer ends the run: reading the clock for every frame would be an op call each.
  let stopping = false;
  const stopper = setTimeout(() => stopping = true, (warmup + seconds) * 1000);
  const switcher = setTimeout(() => current = measured, warmup * 1000);
  let cpuBefore = 0;
  const cpuTimer = setTimeout(() => cpuBefore = cpuSeconds(), warmup * 1000);
  try {
    await Promise.all(
      Array.from(
        { length: connections },
        () =>
          drive(
            hostname,
            port,
            bufferSize,
            window,
            messages,
            () => stopping,
            () => current,
          ),
      ),
    );
  } finally {
    clearTimeout(switcher);
    clearTimeout(stopper);
    clearTimeout(cpuTimer);
  }
  const elapsed = (performance.now() - measureFrom) / 1000;
  const cpu = cpuSeconds() - cpuBefore;
  const result = {
    connections,
    window,
    size,
    seconds: Number(elapsed.toFixed(2)),
    frames_per_s: Math.round(measured.frames / elapsed),
    mb_per_s: Number((measured.bytes / elapsed / 1e6).toFixed(2)),
    p50_us: percentile(measured.latencies, measured.samples, 0.5),
    p99_us: percentile(measured.latencies, measured.samples, 0.99),
    p999_us: percentile(measured.latencies, measured.samples, 0.999),
    client_cpu_us_per_frame: Number((cpu * 1e6 / Math.max(1, measured.frames)).toFixed(2)),
    errors: measured.errors + warm.errors,
  };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `${result.frames_per_s} frames/s, ${result.mb_per_s} MB/s, p50 ${result.p50_us} µs, ` +
        `p99 ${result.p99_us} µs, p99.9 ${result.p999_us} µs, client CPU ` +
        `${result.client_cpu_us_per_frame} µs/frame, ${result.errors} errors ` +
        `(${connections} conn × window ${window}, ${size} B, ${result.seconds} s)`,
    );
  }
  return result.errors === 0 ? 0 : 1;
}

if (import.meta.main) {
  await runMain(() => main(Deno.args), USAGE);
}
