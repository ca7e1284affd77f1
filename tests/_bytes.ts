// Copyright 2026 the buffered-framing authors. MIT license.
// Byte-building, byte comparison, scripted byte sources and seeded randomness
// shared by the tests.

import assert from "node:assert/strict";
import type { ByteSource } from "../framing.ts";

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** One frame built by hand, independently of the code under test: 4-byte big-endian length, then the payload. */
export function frame(payload: string | Uint8Array): Uint8Array {
  const bytes = typeof payload === "string" ? utf8(payload) : payload;
  const out = new Uint8Array(4 + bytes.byteLength);
  new DataView(out.buffer).setUint32(0, bytes.byteLength);
  out.set(bytes, 4);
  return out;
}

/** The frames of several payloads, back to back. */
export function frames(...payloads: (string | Uint8Array)[]): Uint8Array {
  return concat(...payloads.map(frame));
}

/** Mulberry32: a small, seeded, reproducible PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** Text that needs 1-, 2-, 3- and 4-byte UTF-8 sequences and a combining mark. */
export const MIXED_TEXT = "é中😀e\u0301";

/** Cuts `bytes` at the given increasing offsets. */
export function splitAt(bytes: Uint8Array, ...offsets: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.byteLength]) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/**
 * Cuts `stream` at the given offsets (sorted, duplicates and offsets at or
 * past either end ignored): no empty chunk.
 */
export function cutAt(stream: Uint8Array, offsets: Iterable<number>): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...new Set(offsets)].sort((a, b) => a - b)) {
    if (offset <= start || offset >= stream.byteLength) continue;
    chunks.push(stream.subarray(start, offset));
    start = offset;
  }
  if (start < stream.byteLength) chunks.push(stream.subarray(start));
  return chunks;
}

/** Asserts that `actual` has the bytes of `expected`; a failure names the length or the first differing byte. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, context: string): void {
  assert.equal(actual.byteLength, expected.byteLength, `${context}: length`);
  let mismatch = -1;
  for (let i = 0; i < actual.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      mismatch = i;
      break;
    }
  }
  assert.equal(mismatch, -1, `${context}: first differing byte`);
}

/**
 * Serves scripted chunks, one per `read` call, never more than `p` holds: the
 * rest of a chunk is kept for the next call. Records the requested sizes.
 */
export class ChunkedSource implements ByteSource {
  readonly #chunks: Uint8Array[];
  #index = 0;
  #offset = 0;
  /** `read` calls made. */
  reads = 0;
  /** Bytes handed out so far. */
  delivered = 0;
  /** Smallest and largest `p.byteLength` asked for. */
  smallestRequest = Infinity;
  largestRequest = 0;

  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks;
  }

  read(p: Uint8Array): Promise<number | null> {
    this.reads++;
    // A reader asking for nothing would spin forever: fail instead of hanging.
    if (p.byteLength === 0) throw new Error("read() was asked to fill 0 bytes");
    this.smallestRequest = Math.min(this.smallestRequest, p.byteLength);
    this.largestRequest = Math.max(this.largestRequest, p.byteLength);
    if (this.#index === this.#chunks.length) return Promise.resolve(null);
    const chunk = this.#chunks[this.#index];
    const n = Math.min(p.byteLength, chunk.byteLength - this.#offset);
    p.set(chunk.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    if (this.#offset === chunk.byteLength) {
      this.#index++;
      this.#offset = 0;
    }
    this.delivered += n;
    return Promise.resolve(n);
  }
}
