// Copyright 2026 the buffered-framing authors. MIT license.
// Micro-benchmarks of the framing layer and an end-to-end client benchmark.
// Run: deno task bench   (deno bench --allow-net=127.0.0.1 bench/)

import { BufferedClient } from "../client.ts";
import { encodeFrame, FrameReader, FrameWriter } from "../framing.ts";
import { BufferedServer } from "../server.ts";

const SIZES = [
  { name: "32 B", bytes: 32 },
  { name: "4 KiB", bytes: 4 * 1024 },
  { name: "1 MiB", bytes: 1024 * 1024 },
];

function text(bytes: number): string {
  return "0123456789abcdef".repeat(Math.ceil(bytes / 16)).slice(0, bytes);
}

/** A source that replays `bytes` forever in chunks of at most `chunk`. */
class LoopingSource {
  #bytes: Uint8Array;
  #offset = 0;
  #chunk: number;
  constructor(bytes: Uint8Array, chunk: number) {
    this.#bytes = bytes;
    this.#chunk = chunk;
  }
  read(p: Uint8Array): Promise<number> {
    const n = Math.min(p.byteLength, this.#chunk, this.#bytes.byteLength - this.#offset);
    p.set(this.#bytes.subarray(this.#offset, this.#offset + n));
    this.#offset = (this.#offset + n) % this.#bytes.byteLength;
    return Promise.resolve(n);
  }
}

const discard = { write: (p: Uint8Array): Promise<number> => Promise.resolve(p.byteLength) };

for (const { name, bytes } of SIZES) {
  const message = text(bytes);
  const payload = new TextEncoder().encode(message);

  Deno.bench(`encodeFrame, text, ${name}`, { group: `encode ${name}`, baseline: true }, () => {
    encodeFrame(message);
  });
  Deno.bench(`encodeFrame, bytes, ${name}`, { group: `encode ${name}` }, () => {
    encodeFrame(payload);
  });

  const writer = new FrameWriter(discard);
  Deno.bench(`FrameWriter 64 frames then flush, text, ${name}`, {
    group: `write ${name}`,
    n: bytes > 65536 ? 50 : undefined,
  }, async () => {
    for (let i = 0; i < 64; i++) writer.enqueue(message);
    await writer.flush();
  });

  // 64 frames back to back, served in 64 KiB reads: every frame read once.
  const stream = new Uint8Array((4 + bytes) * 64);
  for (let i = 0; i < 64; i++) stream.set(encodeFrame(payload), i * (4 + bytes));
  const reader = new FrameReader(new LoopingSource(stream, 65536), {
    bufferSize: 65536,
    maxFrameSize: 2 * 1024 * 1024,
  });
  Deno.bench(`FrameReader.readView, 64 frames from 64 KiB reads, ${name}`, {
    group: `read ${name}`,
    baseline: true,
  }, async () => {
    for (let i = 0; i < 64; i++) await reader.readView();
  });
  const reader2 = new FrameReader(new LoopingSource(stream, 65536), {
    bufferSize: 65536,
    maxFrameSize: 2 * 1024 * 1024,
  });
  Deno.bench(`FrameReader.read (owned copies), 64 frames, ${name}`, {
    group: `read ${name}`,
  }, async () => {
    for (let i = 0; i < 64; i++) await reader2.read();
  });
}

// End to end: a BufferedClient pipelining 64 frames of 32 B through the demo
// server, in one process (client and server share one core's event loop).
const server = new BufferedServer("127.0.0.1", 0, 65536, { log: () => {} });
const serving = server.start();
const client = await BufferedClient.connect("127.0.0.1", server.addr.port, 65536);
const request = "0123456789" + "abcdefghijklmnopqrstuv";
Deno.bench("BufferedClient ↔ BufferedServer, 64 pipelined 32 B frames", {
  group: "end to end",
}, async () => {
  const sends = [];
  for (let i = 0; i < 64; i++) sends.push(client.sendMessage(request));
  for (let i = 0; i < 64; i++) {
    const [, ok] = await client.receiveMessage();
    if (!ok) throw new Error("The server went away");
  }
  await Promise.all(sends);
});

globalThis.addEventListener("unload", () => {
  client.shutdown();
  server.shutdown();
  void serving;
});
