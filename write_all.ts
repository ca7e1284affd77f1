// Copyright 2026 the buffered-framing authors. MIT license.
// Writing a whole array to a sink that may take less than it is given.

import type { ByteSink } from "./types.ts";
import { writeZeroError } from "./_write_zero.ts";

/**
 * Writes all of `bytes` to `sink`, calling `write` again for whatever a call
 * did not take.
 *
 * @param sink Where to write, such as a `Deno.Conn`.
 * @param bytes The bytes to write.
 * @returns A promise that resolves once every byte is written.
 * @throws {Deno.errors.WriteZero} When a `write` call takes none of the bytes
 * it is given, as a sink that can take no more does, instead of retrying for
 * ever.
 *
 * @example Basic usage
 * ```ts
 * import { writeAll } from "./framing.ts";
 * import assert from "node:assert/strict";
 *
 * const written: number[] = [];
 * // A sink that takes one byte a call.
 * const sink = {
 *   write(p: Uint8Array): Promise<number> {
 *     written.push(p[0]);
 *     return Promise.resolve(1);
 *   },
 * };
 * await writeAll(sink, new Uint8Array([1, 2, 3]));
 * assert.deepEqual(written, [1, 2, 3]);
 * ```
 */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const n = await sink.write(offset === 0 ? bytes : bytes.subarray(offset));
    if (n === 0) throw writeZeroError(offset, bytes.byteLength);
    offset += n;
  }
}
