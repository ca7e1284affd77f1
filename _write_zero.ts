// Copyright 2026 the buffered-framing authors. MIT license.
// The error of every loop that writes until a sink has taken all its bytes.

/**
 * The error for a sink whose `write` took no bytes of a non-empty array: it
 * would take none the next time either, so writing on would loop for ever.
 */
export function writeZeroError(written: number, total: number): Deno.errors.WriteZero {
  return new Deno.errors.WriteZero(
    `Sink accepted 0 bytes of a write: ${written} of ${total} bytes written`,
  );
}
