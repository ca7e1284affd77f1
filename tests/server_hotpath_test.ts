// Copyright 2026 the buffered-framing authors. MIT license.
// The server's hot path parses the frames of one read straight out of the
// receive buffer by offsets (FrameReader.readEachBuffered), checks and skips
// the first characters on those offsets (offsetAfterCodePointsIn), and copies
// each reply into the batch in one step (FrameWriter.enqueueRange). These
// tests pin each piece to the slower, view-based API it replaces, and the
// whole server to the protocol wherever a frame boundary falls.

import assert from "node:assert/strict";
import { offsetAfterCodePoints, offsetAfterCodePointsIn } from "../_utf8.ts";
import {
  BORROW_THRESHOLD,
  encodeFrame,
  FrameReader,
  FrameTooLargeError,
  FrameWriter,
} from "../framing.ts";
import {
  assertDisconnected,
  concat,
  connectRaw,
  decodeFrames,
  expectedReply,
  frame,
  header,
  LiveServer,
  mulberry32,
  peerOf,
  readUntilClosed,
  writeAllTo,
} from "./_faults.ts";

const encoder = new TextEncoder();

/** A source that hands out `bytes` in one read, then ends. */
function onceSource(bytes: Uint8Array): { read(p: Uint8Array): Promise<number | null> } {
  let offset = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (offset === bytes.byteLength) return Promise.resolve(null);
      const n = Math.min(p.byteLength, bytes.byteLength - offset);
      p.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** A sink that keeps a copy of everything written. */
function recordingSink(): { write(p: Uint8Array): Promise<number>; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    write(p: Uint8Array): Promise<number> {
      chunks.push(p.slice());
      return Promise.resolve(p.byteLength);
    },
    bytes: (): Uint8Array => concat(...chunks),
  };
}

/** Payloads that probe the 10-character cut: ASCII, multi-byte characters across it, short ones. */
const MESSAGES = [
  "0123456789hello",
  "",
  "short",
  "123456789é and more",
  "12345678€€ after",
  "123456789😀tail",
  "😀😀😀😀😀😀😀😀😀😀😀😀",
  "ééééééééééé",
  "0123456789",
  "x".repeat(300),
  "é".repeat(200),
  "0123456789" + "y".repeat(70_000),
];

Deno.test("offsetAfterCodePointsIn agrees with offsetAfterCodePoints on every range", () => {
  const rng = mulberry32(0x5eed);
  const pieces = ["a", "é", "€", "😀", "\u0000", "\u007f"].map((text) => encoder.encode(text));
  const bad = [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]];
  for (let round = 0; round < 2000; round++) {
    const parts: Uint8Array[] = [];
    const count = Math.floor(rng() * (round % 10 === 0 ? 400 : 40));
    for (let i = 0; i < count; i++) {
      parts.push(
        rng() < 0.02
          ? new Uint8Array(bad[Math.floor(rng() * bad.length)])
          : pieces[Math.floor(rng() * pieces.length)],
      );
    }
    const bytes = concat(...parts);
    const start = Math.floor(rng() * (bytes.byteLength + 1));
    const end = start + Math.floor(rng() * (bytes.byteLength - start + 1));
    const skip = Math.floor(rng() * 14);
    const expected = offsetAfterCodePoints(bytes.subarray(start, end), skip);
    assert.equal(
      offsetAfterCodePointsIn(bytes, start, end, skip),
      expected < 0 ? -1 : start + expected,
      `range [${start}, ${end}) of ${bytes.byteLength} bytes, skip ${skip}`,
    );
  }
});

Deno.test("FrameReader.readEachBuffered visits the whole buffered frames, as readBuffered returns them", async () => {
  const payloads = MESSAGES.slice(0, 10).map((text) => encoder.encode(text));
  const stream = concat(...payloads.map((payload) => frame(payload)));
  // From the end of the first frame, which readView must find whole, to every later cut.
  for (let cut = 4 + payloads[0].byteLength; cut <= stream.byteLength; cut++) {
    const bytes = stream.subarray(0, cut);
    const byViews = new FrameReader(onceSource(bytes), { bufferSize: 4096 });
    const byOffsets = new FrameReader(onceSource(bytes), { bufferSize: 4096 });
    const first = await byViews.readView();
    assert.deepEqual(await byOffsets.readView(), first);
    const expected: Uint8Array[] = [];
    for (let payload = byViews.readBuffered(); payload !== undefined;) {
      expected.push(payload.slice());
      payload = byViews.readBuffered();
    }
    const visited: Uint8Array[] = [];
    byOffsets.readEachBuffered((buffer, start, end) => visited.push(buffer.slice(start, end)));
    assert.deepEqual(visited, expected, `stream cut at ${cut}`);
    assert.equal(byOffsets.bufferedBytes, byViews.bufferedBytes);
    assert.equal(byOffsets.hasBufferedFrame, false);
  }
});

Deno.test("FrameReader.readEachBuffered stands after a frame whose visit throws", async () => {
  const bytes = concat(frame("one"), frame("two"), frame("three"));
  const reader = new FrameReader(onceSource(bytes), { bufferSize: 64 });
  assert.deepEqual(await reader.readView(), encoder.encode("one"));
  assert.throws(() =>
    reader.readEachBuffered(() => {
      throw new RangeError("refused");
    }), RangeError);
  const rest: string[] = [];
  reader.readEachBuffered((buffer, start, end) => {
    rest.push(new TextDecoder().decode(buffer.subarray(start, end)));
  });
  assert.deepEqual(rest, ["three"]);
});

Deno.test("FrameReader.readEachBuffered visits the frames before an oversized header, then throws", async () => {
  const bytes = concat(frame("a"), frame("b"), frame("c"), header(1000), frame("d"));
  const reader = new FrameReader(onceSource(bytes), { bufferSize: 64, maxFrameSize: 100 });
  assert.deepEqual(await reader.readView(), encoder.encode("a"));
  const visited: number[] = [];
  assert.throws(
    () => reader.readEachBuffered((buffer, start) => visited.push(buffer[start])),
    (error) => error instanceof FrameTooLargeError && error.length === 1000,
  );
  assert.deepEqual(visited, [0x62, 0x63]);
});

Deno.test("FrameWriter.enqueueRange writes what enqueue writes for the same bytes", async () => {
  const source = new Uint8Array(BORROW_THRESHOLD + 300).map((_, i) => i * 7);
  const ranges: [number, number][] = [
    [0, 0],
    [5, 6],
    [3, 66],
    [3, 67],
    [3, 68],
    [10, 1000],
    [1, BORROW_THRESHOLD + 1],
    [0, source.byteLength],
  ];
  for (const borrow of [false, true]) {
    const ranged = recordingSink();
    const viewed = recordingSink();
    const byRange = new FrameWriter(ranged);
    const byView = new FrameWriter(viewed);
    for (const [start, end] of ranges) {
      byRange.enqueueRange(source, start, end, borrow);
      byView.enqueue(source.subarray(start, end), borrow);
    }
    assert.equal(byRange.pendingBytes, byView.pendingBytes);
    await byRange.flush();
    await byView.flush();
    assert.deepEqual(ranged.bytes(), viewed.bytes(), `borrow: ${borrow}`);
  }
  const limited = new FrameWriter(recordingSink(), { maxFrameSize: 10 });
  assert.throws(() => limited.enqueueRange(source, 0, 11), FrameTooLargeError);
  assert.equal(limited.pendingBytes, 0);
});

/** Sends `bytes` (in the given pieces) on a new connection and reads until the server closes. */
async function exchange(
  port: number,
  pieces: Uint8Array[],
  pauseMs: number,
): Promise<{ peer: string; replies: string[]; bytes: Uint8Array }> {
  const conn = await connectRaw(port);
  const peer = peerOf(conn);
  const received = readUntilClosed(conn);
  for (const [i, piece] of pieces.entries()) {
    if (i > 0 && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await writeAllTo(conn, piece);
  }
  await conn.closeWrite();
  const { bytes } = await received;
  conn.close();
  return { peer, replies: decodeFrames(bytes), bytes };
}

Deno.test("The server answers a pipelined batch wherever the receive buffer cuts it", async () => {
  const stream = concat(...MESSAGES.map((message) => encodeFrame(message)));
  const expected = MESSAGES.map(expectedReply);
  for (const bufferSize of [1, 3, 4, 5, 16, 64, 1000, 64 * 1024, 256 * 1024]) {
    await using server = new LiveServer(bufferSize, { maxConnections: 4 });
    const { replies } = await exchange(server.port, [stream], 0);
    assert.deepEqual(replies, expected, `bufferSize ${bufferSize}`);
  }
});

Deno.test("The server answers a batch split at every offset", async () => {
  const messages = MESSAGES.slice(0, 9);
  const stream = concat(...messages.map((message) => encodeFrame(message)));
  const expected = messages.map(expectedReply);
  await using server = new LiveServer(1024, { maxConnections: 4 });
  for (let cut = 1; cut < stream.byteLength; cut++) {
    const { replies } = await exchange(
      server.port,
      [stream.subarray(0, cut), stream.subarray(cut)],
      2,
    );
    assert.deepEqual(replies, expected, `split at ${cut}`);
  }
});

Deno.test("Invalid UTF-8 in the middle of a batch: the replies before it are sent, then the connection closes", async (t) => {
  const invalid = [
    new Uint8Array([0x30, 0x31, 0xff, 0x32]),
    new Uint8Array([...encoder.encode("0123456789"), 0xe2, 0x82]),
    concat(encoder.encode("é".repeat(200)), new Uint8Array([0xed, 0xa0, 0x80])),
  ];
  for (const [index, bad] of invalid.entries()) {
    for (const position of [0, 1, 3]) {
      await t.step(`bad payload ${index} at position ${position}`, async () => {
        const before = MESSAGES.slice(0, position);
        const stream = concat(
          ...before.map((message) => encodeFrame(message)),
          frame(bad),
          encodeFrame("0123456789never answered"),
        );
        await using server = new LiveServer(4096, { maxConnections: 4 });
        const { peer, replies } = await exchange(server.port, [stream], 0);
        assert.deepEqual(replies, before.map(expectedReply));
        await assertDisconnected(server.log, peer, /not valid UTF-8/);
        const frames = position === 1 ? "1 frame" : `${position} frames`;
        assert.ok(
          server.log.disconnects(peer)[0].endsWith(`(${frames} answered)`),
          server.log.disconnects(peer)[0],
        );
      });
    }
  }
});

Deno.test("An oversized header in the middle of a batch: the replies before it are sent, then the connection closes", async () => {
  const before = MESSAGES.slice(0, 3);
  const stream = concat(
    ...before.map((message) => encodeFrame(message)),
    header(5000),
    encodeFrame("0123456789never answered"),
  );
  await using server = new LiveServer(4096, { maxConnections: 4, maxFrameSize: 4096 });
  const { peer, replies } = await exchange(server.port, [stream], 0);
  assert.deepEqual(replies, before.map(expectedReply));
  await assertDisconnected(server.log, peer, /exceeds the limit/);
});
