// Copyright 2026 the buffered-framing authors. MIT license.
// Byte-building and seeded randomness shared by the tests.

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
