#!/usr/bin/env -S deno run --allow-read
// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * The demo server's per-frame JavaScript without the network: a
 * `Connection` (the server's per-connection loop) over a fake connection
 * that hands it a continuous stream of frames of 28-byte payloads, up to
 * `FRAMES` frames a read, and takes every write at once. Prints the time per
 * frame. Point it at another checkout to compare (the checkout's own
 * `_connection.ts`, `_header.ts` and `_utf8.ts` are used, with the demo's
 * 10-character rule):
 *
 * ```sh
 * deno run --allow-read bench/demo_path.ts . 20000 1024      # this checkout, S5's window
 * mkdir /tmp/old && git archive 9ebfcd0 | tar -x -C /tmp/old
 * deno run --allow-read bench/demo_path.ts /tmp/old 20000 1024
 * ```
 *
 * Arguments: the checkout (default `.`), the number of reads (default
 * 20,000), and the frames a read at most (default 1,024). The machine is
 * noisy: run each side several times and compare medians.
 *
 * @module
 */

const root = new URL(`${Deno.args[0] ?? "."}/`, `file://${Deno.cwd()}/`);
const READS = Number(Deno.args[1] ?? 20_000);
const FRAMES = Number(Deno.args[2] ?? 1024);

const { Connection } = await import(new URL("_connection.ts", root).href);
const { encodeFrame } = await import(new URL("framing.ts", root).href);
const { offsetAfterCodePointsIn } = await import(new URL("_utf8.ts", root).href);
const header = await import(new URL("_header.ts", root).href);

const one: Uint8Array = encodeFrame("0123456789abcdefghijklmnopqr");
const chunk = new Uint8Array(one.length * FRAMES);
for (let i = 0; i < FRAMES; i++) chunk.set(one, i * one.length);

let reads = 0;
let offset = 0;
const conn = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  /** A continuous stream of frames: each read takes what fits, at most `chunk`'s worth. */
  read(p: Uint8Array): Promise<number | null> {
    if (reads++ >= READS) return Promise.resolve(null);
    const take = Math.min(p.length, chunk.length);
    for (let i = 0; i < take; i++) p[i] = chunk[(offset + i) % chunk.length];
    offset = (offset + take) % chunk.length;
    return Promise.resolve(take);
  },
  write(p: Uint8Array): Promise<number> {
    return Promise.resolve(p.length);
  },
  closeWrite(): Promise<void> {
    return Promise.resolve();
  },
  close(): void {},
};

// The fields of a server's context, as both the current and the earlier `Connection` read them.
const format = header.frameFormat?.({}, true);
const context = {
  handler: {
    suffix(buffer: Uint8Array, start: number, end: number): number {
      const cut = offsetAfterCodePointsIn(buffer, start, end, 10);
      if (cut < 0) throw new TypeError("not UTF-8");
      return cut;
    },
  },
  bufferSize: 65536,
  maxFrameSize: 16 << 20,
  readerOptions: { bufferSize: 65536 },
  writerOptions: {},
  lengthField: format?.lengthField,
  maxInFlight: 16,
  idleTimeout: 0,
  frameTimeout: 0,
  writeTimeout: 0,
  lingerTimeout: 1,
  lingerTime: 1,
  log: (): void => {},
  keepRunning: true,
};
const connection = new Connection(
  conn,
  { remoteAddr: conn.remoteAddr, peer: "bench", id: 1 },
  context,
);
const started = performance.now();
await connection.run();
const elapsed = performance.now() - started;
const frames: number = connection.framesReceived;
console.log(`${(elapsed / frames * 1e6).toFixed(1)} ns a frame, ${frames} frames`);
