// Copyright 2026 the buffered-framing authors. MIT license.
/**
 * Messaging over TCP with length-prefixed frames: every message is a 4-byte
 * big-endian unsigned length, then that many bytes of UTF-8. Other
 * length fields (2-, 1- and 8-byte, little-endian, protobuf's varint, lengths
 * that count the header) are named formats: the `lengthField` option.
 *
 * - {@linkcode FrameReader}, {@linkcode FrameWriter}, {@linkcode encodeFrame}
 *   and {@linkcode writeFrame}: the framing layer, over any byte stream.
 * - {@linkcode BufferedClient}: sends messages and receives replies; a server
 *   that went away shows as `ok === false`, never as an exception.
 * - {@linkcode FrameDecoderStream} and {@linkcode FrameEncoderStream}: the same
 *   framing as web streams, for `conn.readable.pipeThrough(...)`.
 * - {@linkcode serve}: your own service on the robust server machinery (a
 *   handler from request payload to reply, binary or text with
 *   {@linkcode textHandler}), shaped like `Deno.serve`.
 * - {@linkcode BufferedServer}: a demo service on `serve` that answers each
 *   message with the message minus its first 10 characters, and survives bad
 *   clients.
 *
 * @example Echo through the demo server
 * ```ts
 * import { BufferedClient, BufferedServer } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * await using server = new BufferedServer("127.0.0.1", 0, 1024, { log: () => {} });
 * const done = server.start();
 * await using client = await BufferedClient.connect("127.0.0.1", server.addr.port, 16);
 *
 * await client.sendMessage("Four score and seven years ago");
 * assert.deepEqual(await client.receiveMessage(), [" and seven years ago", true]);
 *
 * server.keepRunning = false; // the client sees the end at once
 * assert.deepEqual(await client.receiveMessage(), ["", false]);
 * await done;
 * ```
 *
 * @module
 */

export * from "./framing.ts";
export * from "./client.ts";
export * from "./serve.ts";
export * from "./server.ts";
export * from "./streams.ts";
