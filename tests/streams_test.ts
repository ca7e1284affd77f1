// Copyright 2026 the buffered-framing authors. MIT license.
// Tests for streams.ts: FrameDecoderStream and FrameEncoderStream, over
// in-memory streams and one loopback TCP connection.

import assert from "node:assert/strict";
import {
  DEFAULT_BUFFER_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
  IncompleteFrameError,
  MAX_FRAME_SIZE_LIMIT,
} from "../framing.ts";
import { FrameDecoderStream, FrameEncoderStream } from "../streams.ts";
import { concat, frames, MIXED_TEXT, mulberry32, splitAt } from "./_bytes.ts";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Cuts `bytes` into chunks of random lengths from 0 to `maxLength` (empty chunks included). */
function splitRandomly(bytes: Uint8Array, random: () => number, maxLength: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    const length = Math.floor(random() * (maxLength + 1));
    chunks.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return chunks;
}

/** Every payload the decoder yields for `chunks`. */
function decodeAll(
  chunks: Uint8Array[],
  decoderStream = new FrameDecoderStream(),
): Promise<Uint8Array[]> {
  return Array.fromAsync(ReadableStream.from(chunks).pipeThrough(decoderStream));
}

/**
 * Resolves once every promise job queued so far, and every one those queue,
 * has run: a macrotask runs only when the microtask queue is empty. This is
 * not a wait for time to pass: it lets an in-memory pipe go as far as it can
 * go without the consumer, so a test can look at where it stopped.
 */
function drainPromiseJobs(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Whether `promise` has settled, once pending promise jobs have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => settled = true,
    () => settled = true,
  );
  await drainPromiseJobs();
  return settled;
}

/** A reason that is not an error built into the library, to follow it through. */
class TestReason extends Error {
  constructor() {
    super("Test reason");
    this.name = "TestReason";
  }
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

Deno.test("FrameDecoderStream decodes what FrameEncoderStream encodes, cut at random points", async () => {
  const random = mulberry32(0x5eed);
  const payloads: string[] = [];
  for (let i = 0; i < 60; i++) {
    payloads.push(MIXED_TEXT.repeat(Math.floor(random() * 8)) + `#${i}`);
  }
  const encoded = await Array.fromAsync(
    ReadableStream.from(payloads).pipeThrough(new FrameEncoderStream()),
  );
  const bytes = concat(...encoded);
  for (const [bufferSize, maxLength] of [[1, 3], [4, 9], [16, 40], [DEFAULT_BUFFER_SIZE, 700]]) {
    const chunks = splitRandomly(bytes, random, maxLength);
    const decoded = await decodeAll(chunks, new FrameDecoderStream({ bufferSize }));
    assert.deepEqual(
      decoded.map((payload) => decoder.decode(payload)),
      payloads,
      `bufferSize ${bufferSize}, chunks of up to ${maxLength} bytes`,
    );
  }
});

Deno.test("FrameDecoderStream yields text whose characters were cut between chunks intact", async () => {
  const bytes = frames(MIXED_TEXT);
  // Cut after every byte: inside the header and inside each multi-byte character.
  const chunks = splitAt(bytes, ...Array.from({ length: bytes.byteLength - 1 }, (_, i) => i + 1));
  const [payload, ...rest] = await decodeAll(chunks, new FrameDecoderStream({ bufferSize: 2 }));
  assert.equal(decoder.decode(payload), MIXED_TEXT);
  assert.deepEqual(rest, []);
});

Deno.test("FrameDecoderStream yields an empty array for each empty payload", async () => {
  const decoded = await decodeAll([frames("", "x", "", "")]);
  assert.deepEqual(decoded, [
    new Uint8Array(0),
    encoder.encode("x"),
    new Uint8Array(0),
    new Uint8Array(0),
  ]);
});

Deno.test("FrameDecoderStream yields a payload longer than bufferSize whole", async () => {
  const long = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const bytes = frames("a", long, "b");
  const chunks = splitAt(bytes, 3, 7, 100, 101, 900, 1010);
  const decoded = await decodeAll(chunks, new FrameDecoderStream({ bufferSize: 16 }));
  assert.deepEqual(decoded, [encoder.encode("a"), long, encoder.encode("b")]);
});

Deno.test("FrameDecoderStream yields payloads that later frames do not overwrite", async () => {
  // Both payloads fit the receive buffer, where the reader parses them: each must be copied out.
  const decoded = await decodeAll(
    [frames("first", "other")],
    new FrameDecoderStream({ bufferSize: 64 }),
  );
  assert.deepEqual(decoded.map((payload) => decoder.decode(payload)), ["first", "other"]);
  assert.notEqual(decoded[0].buffer, decoded[1].buffer);
});

Deno.test("FrameDecoderStream closes its readable side when the input ends between frames", async () => {
  assert.deepEqual(await decodeAll([]), []);
  assert.deepEqual(await decodeAll([frames("one")]), [encoder.encode("one")]);
});

Deno.test("FrameDecoderStream resolves writer.close() once the consumer has read to the end", async () => {
  const decoderStream = new FrameDecoderStream();
  const writer = decoderStream.writable.getWriter();
  const reader = decoderStream.readable.getReader();
  const written = writer.write(frames("last"));
  const closed = writer.close();
  assert.equal(await isSettled(closed), false);
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("last") });
  await written;
  assert.deepEqual(await reader.read(), { done: true, value: undefined });
  await closed;
});

Deno.test("FrameDecoderStream exposes the options it was given and FrameReader's defaults", () => {
  const defaults = new FrameDecoderStream();
  assert.equal(defaults.bufferSize, DEFAULT_BUFFER_SIZE);
  assert.equal(defaults.maxFrameSize, DEFAULT_MAX_FRAME_SIZE);
  const custom = new FrameDecoderStream({ bufferSize: 5, maxFrameSize: 0 });
  assert.equal(custom.bufferSize, 5);
  assert.equal(custom.maxFrameSize, 0);
});

Deno.test("FrameEncoderStream turns each chunk into one frame", async () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const encoded = await Array.fromAsync(
    ReadableStream.from<string | Uint8Array>(["hé", "", bytes.subarray(1)])
      .pipeThrough(new FrameEncoderStream()),
  );
  assert.deepEqual(encoded, [
    new Uint8Array([0, 0, 0, 3, 0x68, 0xc3, 0xa9]),
    new Uint8Array([0, 0, 0, 0]),
    new Uint8Array([0, 0, 0, 2, 2, 3]),
  ]);
});

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

Deno.test("FrameDecoderStream errors with FrameTooLargeError on a header over maxFrameSize, before its payload", async () => {
  let pulls = 0;
  // Declares 2^32 − 1 bytes, then would send them forever: only the header may be read.
  const source = new ReadableStream<Uint8Array>({
    pull(controller): void {
      pulls++;
      controller.enqueue(
        pulls === 1 ? new Uint8Array([0xff, 0xff, 0xff, 0xff]) : new Uint8Array(64),
      );
    },
  }, { highWaterMark: 0 });
  await assert.rejects(
    Array.fromAsync(source.pipeThrough(new FrameDecoderStream())),
    (error) =>
      error instanceof FrameTooLargeError && error.length === MAX_FRAME_SIZE_LIMIT &&
      error.maxFrameSize === DEFAULT_MAX_FRAME_SIZE,
  );
  assert.ok(pulls <= 2, `the source was pulled ${pulls} times`);
});

Deno.test("FrameDecoderStream yields the frames before one over maxFrameSize, then errors", async () => {
  const reader = ReadableStream.from([frames("ok", "12345")])
    .pipeThrough(new FrameDecoderStream({ maxFrameSize: 4 }))
    .getReader();
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("ok") });
  await assert.rejects(
    reader.read(),
    (error) =>
      error instanceof FrameTooLargeError && error.length === 5 && error.maxFrameSize === 4,
  );
});

Deno.test("FrameDecoderStream errors its writable side too when a frame is too large", async () => {
  const decoderStream = new FrameDecoderStream({ maxFrameSize: 1 });
  const piped = ReadableStream.from([frames("no"), frames("more")]).pipeTo(decoderStream.writable);
  const reader = decoderStream.readable.getReader();
  await assert.rejects(reader.read(), FrameTooLargeError);
  await assert.rejects(piped, FrameTooLargeError);
});

Deno.test("FrameDecoderStream errors with IncompleteFrameError when the input ends inside a header", async () => {
  const reader = ReadableStream.from([frames("whole"), new Uint8Array([0, 0])])
    .pipeThrough(new FrameDecoderStream())
    .getReader();
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("whole") });
  await assert.rejects(
    reader.read(),
    (error) =>
      error instanceof IncompleteFrameError && error.part === "header" && error.expected === 4 &&
      error.received === 2,
  );
});

Deno.test("FrameDecoderStream errors with IncompleteFrameError when the input ends inside a payload", async () => {
  const cut = frames("seven b").subarray(0, 4 + 3);
  await assert.rejects(
    decodeAll(splitAt(cut, 2, 5), new FrameDecoderStream({ bufferSize: 4 })),
    (error) =>
      error instanceof IncompleteFrameError && error.part === "payload" && error.expected === 7 &&
      error.received === 3,
  );
});

Deno.test("FrameDecoderStream rejects writer.close() with IncompleteFrameError when the input ends inside a frame", async () => {
  const decoderStream = new FrameDecoderStream();
  const writer = decoderStream.writable.getWriter();
  const reader = decoderStream.readable.getReader();
  const written = writer.write(new Uint8Array([0, 0, 0, 9, 1]));
  const closed = writer.close();
  await assert.rejects(reader.read(), IncompleteFrameError);
  await written;
  await assert.rejects(closed, IncompleteFrameError);
});

Deno.test("FrameDecoderStream stays errored with its first error, decoding nothing after it", async (t) => {
  const cases: [string, FrameDecoderStream, Uint8Array[], (error: unknown) => boolean][] = [
    [
      // Declares 17 bytes, one over the limit; the next 4 bytes would parse as an empty frame.
      "a refused frame",
      new FrameDecoderStream({ maxFrameSize: 16 }),
      [new Uint8Array([0, 0, 0, 0x11]), new Uint8Array([0, 0, 0, 0])],
      (error) => error instanceof FrameTooLargeError && error.length === 17,
    ],
    [
      "input that ends inside a frame",
      new FrameDecoderStream(),
      [frames("whole"), new Uint8Array([0, 0])],
      (error) => error instanceof IncompleteFrameError && error.part === "header",
    ],
  ];
  for (const [name, decoderStream, chunks, isExpected] of cases) {
    await t.step(name, async () => {
      const reader = ReadableStream.from(chunks).pipeThrough(decoderStream).getReader();
      let failure: unknown;
      while (failure === undefined) {
        try {
          const { done } = await reader.read();
          assert.equal(done, false, "the readable side closed instead of erroring");
        } catch (error) {
          failure = error;
        }
      }
      assert.ok(isExpected(failure), `unexpected error: ${failure}`);
      await assert.rejects(reader.read(), (error) => error === failure);
      await assert.rejects(reader.read(), (error) => error === failure);
      await assert.rejects(reader.closed, (error) => error === failure);
      const writer = decoderStream.writable.getWriter();
      await assert.rejects(writer.write(frames("more")), (error) => error === failure);
      await assert.rejects(writer.closed, (error) => error === failure);
    });
  }
});

Deno.test("FrameDecoderStream rejects bad options with a RangeError naming the option", () => {
  const cases: [string, ConstructorParameters<typeof FrameDecoderStream>[0]][] = [
    ["bufferSize", { bufferSize: 0 }],
    ["bufferSize", { bufferSize: 1.5 }],
    ["bufferSize", { bufferSize: NaN }],
    ["maxFrameSize", { maxFrameSize: -1 }],
    ["maxFrameSize", { maxFrameSize: MAX_FRAME_SIZE_LIMIT + 1 }],
  ];
  for (const [name, options] of cases) {
    assert.throws(
      () => new FrameDecoderStream(options),
      (error) => error instanceof RangeError && error.message.startsWith(`Invalid ${name}:`),
      JSON.stringify(options),
    );
  }
});

Deno.test("FrameEncoderStream rejects a bad maxFrameSize with a RangeError naming the option", () => {
  for (const maxFrameSize of [-1, 0.5, MAX_FRAME_SIZE_LIMIT + 1]) {
    assert.throws(
      () => new FrameEncoderStream({ maxFrameSize }),
      (error) => error instanceof RangeError && error.message.startsWith("Invalid maxFrameSize:"),
      String(maxFrameSize),
    );
  }
});

Deno.test("FrameEncoderStream errors with FrameTooLargeError on a chunk over maxFrameSize", async () => {
  const reader = ReadableStream.from(["1234", "12345"])
    .pipeThrough(new FrameEncoderStream({ maxFrameSize: 4 }))
    .getReader();
  assert.deepEqual(await reader.read(), { done: false, value: frames("1234") });
  await assert.rejects(
    reader.read(),
    (error) =>
      error instanceof FrameTooLargeError && error.length === 5 && error.maxFrameSize === 4,
  );
});

Deno.test("FrameEncoderStream measures the limit in UTF-8 bytes, not characters", async () => {
  // "é" is one character, two bytes.
  await assert.rejects(
    Array.fromAsync(
      ReadableStream.from(["é"]).pipeThrough(new FrameEncoderStream({ maxFrameSize: 1 })),
    ),
    (error) => error instanceof FrameTooLargeError && error.length === 2,
  );
});

Deno.test("FrameDecoderStream errors both sides with a TypeError on a chunk that is not a Uint8Array", async () => {
  const decoderStream = new FrameDecoderStream();
  const writer = decoderStream.writable.getWriter() as WritableStreamDefaultWriter<unknown>;
  const reader = decoderStream.readable.getReader();
  await assert.rejects(writer.write("0001"), TypeError);
  await assert.rejects(reader.read(), TypeError);
});

Deno.test("FrameEncoderStream errors with a TypeError on a chunk that is neither text nor a Uint8Array", async () => {
  const encoderStream = new FrameEncoderStream();
  const writer = encoderStream.writable.getWriter() as WritableStreamDefaultWriter<unknown>;
  const reader = encoderStream.readable.getReader();
  const written = writer.write(42);
  await assert.rejects(reader.read(), TypeError);
  await assert.rejects(written, TypeError);
});

// ---------------------------------------------------------------------------
// Backpressure
// ---------------------------------------------------------------------------

Deno.test("FrameDecoderStream keeps a fast producer within a few chunks of a slow consumer", async () => {
  const total = 100;
  // One chunk in flight, whose write waits for the reader, and one more the pipe may hold.
  const bound = 2;
  const frame = frames("payload");
  let pulled = 0;
  let consumed = 0;
  let mostAhead = 0;
  // Gives one chunk a pull, only when the pipe asks: `pulled` counts what the decoder accepted.
  const source = new ReadableStream<Uint8Array>({
    pull(controller): void {
      if (pulled === total) {
        controller.close();
        return;
      }
      pulled++;
      mostAhead = Math.max(mostAhead, pulled - consumed);
      controller.enqueue(frame.slice());
    },
  }, { highWaterMark: 0 });
  const reader = source.pipeThrough(new FrameDecoderStream()).getReader();
  while (consumed < total) {
    // The consumer takes one frame a step, after letting the producer go as far as it can.
    await drainPromiseJobs();
    assert.ok(pulled - consumed <= bound, `${pulled} chunks pulled, ${consumed} frames read`);
    const { value } = await reader.read();
    assert.deepEqual(value, encoder.encode("payload"));
    consumed++;
  }
  assert.deepEqual(await reader.read(), { done: true, value: undefined });
  assert.equal(pulled, total);
  assert.ok(mostAhead <= bound, `the producer ran ${mostAhead} chunks ahead`);
});

Deno.test("FrameDecoderStream's writer.write() resolves only once the consumer has taken the chunk", async () => {
  const decoderStream = new FrameDecoderStream({ bufferSize: 8 });
  const writer = decoderStream.writable.getWriter();
  const reader = decoderStream.readable.getReader();
  const written = writer.write(frames("abc", "defghijk"));
  assert.equal(writer.desiredSize, 0);
  assert.equal(await isSettled(written), false, "resolved with no one reading");
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("abc") });
  // The second frame does not fit the 8-byte buffer: it has not all been taken yet.
  assert.equal(await isSettled(written), false, "resolved before the last bytes were taken");
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("defghijk") });
  await written;
  assert.equal(writer.desiredSize, 1);
  const closed = writer.close();
  assert.deepEqual(await reader.read(), { done: true, value: undefined });
  await closed;
});

// ---------------------------------------------------------------------------
// Cancel and abort
// ---------------------------------------------------------------------------

Deno.test("Cancelling FrameDecoderStream's readable side errors its writable side with the reason", async () => {
  // With a 4-byte buffer, reading the first frame leaves bytes of the chunk untaken.
  const decoderStream = new FrameDecoderStream({ bufferSize: 4 });
  const writer = decoderStream.writable.getWriter();
  const reader = decoderStream.readable.getReader();
  const reason = new TestReason();
  // The write waits for a consumer that goes away.
  const written = assert.rejects(
    writer.write(frames("one", "two")),
    (error) => error === reason,
  );
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("one") });
  await reader.cancel(reason);
  await written;
  await assert.rejects(writer.closed, (error) => error === reason);
  await assert.rejects(writer.write(frames("three")), (error) => error === reason);
});

Deno.test("Cancelling FrameDecoderStream's readable side while it waits for bytes cancels the producer", async () => {
  let cancelledWith: unknown;
  let resolveCancelled = (): void => {};
  const cancelled = new Promise<void>((resolve) => resolveCancelled = resolve);
  const source = new ReadableStream<Uint8Array>({
    start(controller): void {
      controller.enqueue(new Uint8Array([0, 0]));
      // Then sends nothing more, and never ends.
    },
    cancel(reason): void {
      cancelledWith = reason;
      resolveCancelled();
    },
  });
  const reader = source.pipeThrough(new FrameDecoderStream()).getReader();
  const read = reader.read();
  await drainPromiseJobs();
  const reason = new TestReason();
  await reader.cancel(reason);
  assert.deepEqual(await read, { done: true, value: undefined });
  await cancelled;
  assert.equal(cancelledWith, reason);
});

Deno.test("Aborting FrameDecoderStream's writable side errors its readable side with the reason", async () => {
  const decoderStream = new FrameDecoderStream();
  const writer = decoderStream.writable.getWriter();
  const reader = decoderStream.readable.getReader();
  await writer.write(new Uint8Array(0));
  const read = reader.read();
  const reason = new TestReason();
  await writer.abort(reason);
  await assert.rejects(read, (error) => error === reason);
  await assert.rejects(reader.closed, (error) => error === reason);
});

Deno.test("Aborting FrameDecoderStream's writable side does not wait for a write no one reads", async () => {
  const decoderStream = new FrameDecoderStream();
  const writer = decoderStream.writable.getWriter();
  const reason = new TestReason();
  const written = assert.rejects(writer.write(frames("never read")), (error) => error === reason);
  await writer.abort(reason);
  await written;
  await assert.rejects(decoderStream.readable.getReader().read(), (error) => error === reason);
});

Deno.test("An erroring producer errors FrameDecoderStream's readable side through pipeThrough", async () => {
  const reason = new TestReason();
  let pulls = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller): void {
      pulls++;
      if (pulls === 1) controller.enqueue(frames("first"));
      else controller.error(reason);
    },
  }, { highWaterMark: 0 });
  const reader = source.pipeThrough(new FrameDecoderStream()).getReader();
  assert.deepEqual(await reader.read(), { done: false, value: encoder.encode("first") });
  await assert.rejects(reader.read(), (error) => error === reason);
});

// ---------------------------------------------------------------------------
// Over a real connection
// ---------------------------------------------------------------------------

Deno.test("FrameEncoderStream and FrameDecoderStream carry messages over a loopback TCP connection", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;

  const random = mulberry32(42);
  const messages: (string | Uint8Array)[] = ["", MIXED_TEXT, "x".repeat(100_000)];
  for (let i = 0; i < 200; i++) {
    messages.push(
      i % 2 === 0 ? MIXED_TEXT.repeat(Math.floor(random() * 20)) : Uint8Array.from(
        { length: Math.floor(random() * 3000) },
        () => Math.floor(random() * 256),
      ),
    );
  }
  const expected = messages.map((message) =>
    typeof message === "string" ? encoder.encode(message) : message
  );

  // The client's pipe closes client.writable when the messages run out, which
  // closes the whole client connection: fine here, as no reply is expected.
  const sent = ReadableStream.from(messages)
    .pipeThrough(new FrameEncoderStream())
    .pipeTo(client.writable);
  const received = await Array.fromAsync(
    server.readable.pipeThrough(new FrameDecoderStream({ bufferSize: 512 })),
  );
  await sent;
  assert.equal(received.length, expected.length);
  received.forEach((payload, i) => assert.deepEqual(payload, expected[i], `message ${i}`));
});

Deno.test("Piping requests into conn.writable without preventClose closes the connection before the replies come", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // An echo server that expects to lose its client: its reads or writes may fail.
  const serving = (async () => {
    using conn = await listener.accept();
    const writer = new FrameWriter(conn);
    try {
      for await (const payload of new FrameReader(conn)) await writer.write(payload);
    } catch {
      // BrokenPipe or ConnectionReset: the client closed the whole connection.
    }
  })();

  const requests = ["one", "two", "three"];
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const replies = Array.fromAsync(
    conn.readable.pipeThrough(new FrameDecoderStream()),
    (payload) => decoder.decode(payload),
  ).then((received) => `${received.length} replies`, (error) => `${error.name}`);
  // The pipe closes conn.writable when the requests run out, and with it the connection.
  await ReadableStream.from(requests)
    .pipeThrough(new FrameEncoderStream())
    .pipeTo(conn.writable);
  // The reply to the last request cannot have come before the close: the
  // read in flight fails (Interrupted or BadResource), or the replies stop short.
  assert.notEqual(await replies, `${requests.length} replies`);
  await serving;
});

Deno.test("A web-streams client gets every reply when it pipes with preventClose, then calls closeWrite", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // An echo server: answers each frame with its payload until the requests end, then closes.
  const serving = (async () => {
    using conn = await listener.accept();
    const writer = new FrameWriter(conn);
    for await (const payload of new FrameReader(conn, { bufferSize: 512 })) {
      await writer.write(payload);
    }
  })();

  const requests = ["", MIXED_TEXT, "x".repeat(100_000)];
  for (let i = 0; i < 100; i++) requests.push(`request ${i}`);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  // The replies are read while the requests go out, so neither side waits on the other.
  const replies = Array.fromAsync(
    conn.readable.pipeThrough(new FrameDecoderStream()),
    (payload) => decoder.decode(payload),
  );
  await ReadableStream.from(requests)
    .pipeThrough(new FrameEncoderStream())
    .pipeTo(conn.writable, { preventClose: true });
  await conn.closeWrite();
  // Deno closes conn once its readable side has ended, as the resource sanitizer checks.
  assert.deepEqual(await replies, requests);
  await serving;
});
