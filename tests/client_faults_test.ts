// Copyright 2026 the buffered-framing authors. MIT license.
// BufferedClient against hostile servers: scripted raw listeners that send
// oversized headers, garbage, bytes that are not UTF-8, cut frames, or
// nothing at all. Each must end as ["", false] (an empty array and false for
// receiveBytes), never as an exception, with `client.failure` saying why.

import assert from "node:assert/strict";
import { BufferedClient, type ByteReply } from "../client.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  FrameTooLargeError,
  IncompleteFrameError,
  InvalidUtf8Error,
} from "../framing.ts";
import {
  concat,
  frame,
  garbage,
  guard,
  header,
  HOST,
  modelStream,
  mulberry32,
  readExactly,
  readUntilClosed,
  ScriptedServer,
  testSeed,
  writeAllTo,
} from "./_faults.ts";

/** Writes `bytes`, tolerating a client that has already hung up (its test says why). */
async function send(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  try {
    await writeAllTo(conn, bytes);
  } catch (error) {
    if (
      !(error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionReset)
    ) throw error;
  }
}

/** Reads the client's request frame whole, so that the server never closes with unread data. */
async function readRequest(conn: Deno.TcpConn): Promise<void> {
  const head = await readExactly(conn, 4);
  assert.ok(head !== null, "the client sent a request");
  await readExactly(conn, new DataView(head.buffer).getUint32(0));
}

/** A script: read the request, send `bytes`, close (FIN). */
function answerWith(bytes: Uint8Array): (conn: Deno.TcpConn) => Promise<void> {
  return async (conn) => {
    await readRequest(conn);
    await send(conn, bytes);
  };
}

/** Connects, sends one request, and returns the client with its first receive. */
async function ask(
  port: number,
  options: { bufferSize?: number; maxFrameSize?: number; receiveTimeout?: number } = {},
): Promise<{ client: BufferedClient; reply: [string, boolean] }> {
  const client = await BufferedClient.connect(HOST, port, options.bufferSize ?? 1024, {
    maxFrameSize: options.maxFrameSize,
    receiveTimeout: options.receiveTimeout,
  });
  await client.sendMessage("0123456789 a request");
  const reply = await guard(client.receiveMessage(), "the client's receive");
  return { client, reply };
}

/** As {@linkcode ask}, with the reply received as bytes. */
async function askBytes(
  port: number,
  options: { bufferSize?: number; maxFrameSize?: number; receiveTimeout?: number } = {},
): Promise<{ client: BufferedClient; reply: ByteReply }> {
  const client = await BufferedClient.connect(HOST, port, options.bufferSize ?? 1024, {
    maxFrameSize: options.maxFrameSize,
    receiveTimeout: options.receiveTimeout,
  });
  await client.sendMessage(new TextEncoder().encode("0123456789 a request"));
  const reply = await guard(client.receiveBytes(), "the client's byte receive");
  return { client, reply };
}

/**
 * Asserts the connection is over for good, as the contract says: more
 * receives, text or bytes, are ["", false], and a send is not an exception
 * (only the caller's own shutdown() makes sends throw).
 */
async function assertEnded(client: BufferedClient): Promise<void> {
  assert.equal(client.isOpen, false);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.deepEqual(await client.receiveBytes(), [new Uint8Array(0), false]);
  await client.sendMessage("after the end");
  await client.sendMessage(new Uint8Array([0xff]));
  assert.deepEqual(await client.receiveMessage(), ["", false]);
}

Deno.test("a server that reads one frame and resets: send, receive, send again never throws", async () => {
  await using server = new ScriptedServer(async (conn) => {
    // Closing with the payload unread in the socket resets the connection.
    assert.ok(await readExactly(conn, 5) !== null, "the client sent a frame");
  });
  await using client = await BufferedClient.connect(HOST, server.port);
  // The seed's loop: each send is awaited, then its reply.
  for (let i = 0; i < 3; i++) {
    await client.sendMessage(`0123456789 request ${i} ${"x".repeat(64 * 1024)}`);
    assert.deepEqual(await client.receiveMessage(), ["", false], `receive ${i}`);
  }
  assert.equal(client.isOpen, false);
});

Deno.test("a reply header declaring 0xFFFFFFFF bytes is refused before anything is allocated", async () => {
  await using server = new ScriptedServer(
    answerWith(concat(header(0xffff_ffff), new Uint8Array(64).fill(0x41))),
  );
  const { client, reply } = await ask(server.port); // default maxFrameSize
  assert.deepEqual(reply, ["", false]);
  const failure = client.failure;
  assert.ok(failure instanceof FrameTooLargeError, `failure: ${failure}`);
  // Refused from the 4-byte header: the limit was checked before any allocation.
  assert.equal(failure.length, 0xffff_ffff);
  assert.equal(failure.maxFrameSize, DEFAULT_MAX_FRAME_SIZE);
  await assertEnded(client);
});

Deno.test("a reply header declaring one byte more than maxFrameSize is refused", async () => {
  await using server = new ScriptedServer(answerWith(concat(header(1001), new Uint8Array(1001))));
  const { client, reply } = await ask(server.port, { maxFrameSize: 1000 });
  assert.deepEqual(reply, ["", false]);
  assert.ok(client.failure instanceof FrameTooLargeError, `failure: ${client.failure}`);
  assert.equal(client.failure.length, 1001);
  await assertEnded(client);
});

Deno.test("a reply that is not valid UTF-8 ends the connection with an InvalidUtf8Error, the server's class for the same fault", async () => {
  await using server = new ScriptedServer(answerWith(frame(new Uint8Array([0x68, 0xc3, 0x28]))));
  const { client, reply } = await ask(server.port);
  assert.deepEqual(reply, ["", false]);
  assert.ok(client.failure instanceof InvalidUtf8Error, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("good replies before a bad frame are delivered in order, then the connection ends", async () => {
  await using server = new ScriptedServer(
    answerWith(concat(frame("first ✓"), frame("second 😀"), frame(new Uint8Array([0xff])))),
  );
  const { client, reply } = await ask(server.port, { bufferSize: 3 });
  assert.deepEqual(reply, ["first ✓", true]);
  assert.deepEqual(await client.receiveMessage(), ["second 😀", true]);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.ok(client.failure instanceof InvalidUtf8Error, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("a server that closes in the middle of a reply payload is reported as an incomplete frame", async () => {
  await using server = new ScriptedServer(answerWith(concat(header(100), new Uint8Array(30))));
  const { client, reply } = await ask(server.port);
  assert.deepEqual(reply, ["", false]);
  const failure = client.failure;
  assert.ok(failure instanceof IncompleteFrameError, `failure: ${failure}`);
  assert.deepEqual([failure.part, failure.expected, failure.received], ["payload", 100, 30]);
  await assertEnded(client);
});

Deno.test("a server that closes in the middle of a reply header is reported as an incomplete frame", async () => {
  await using server = new ScriptedServer(answerWith(new Uint8Array([0, 0, 1])));
  const { client, reply } = await ask(server.port);
  assert.deepEqual(reply, ["", false]);
  const failure = client.failure;
  assert.ok(failure instanceof IncompleteFrameError, `failure: ${failure}`);
  assert.deepEqual([failure.part, failure.expected, failure.received], ["header", 4, 3]);
  await assertEnded(client);
});

Deno.test("a server that accepts and closes without a word ends the connection cleanly", async () => {
  await using server = new ScriptedServer(readRequest);
  const { client, reply } = await ask(server.port);
  assert.deepEqual(reply, ["", false]);
  assert.equal(client.failure, undefined, "a clean close is not a failure");
  await assertEnded(client);
});

Deno.test("a server that never answers is given up after receiveTimeout", async () => {
  await using server = new ScriptedServer(async (conn) => {
    await readRequest(conn);
    await readUntilClosed(conn); // silent until the client gives up and closes
  });
  const { client, reply } = await ask(server.port, { receiveTimeout: 200 });
  assert.deepEqual(reply, ["", false]);
  assert.ok(client.failure instanceof Deno.errors.TimedOut, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("a server that stalls halfway through a reply is given up after receiveTimeout", async () => {
  await using server = new ScriptedServer(async (conn) => {
    await readRequest(conn);
    await writeAllTo(conn, concat(header(100), new Uint8Array(50).fill(0x61)));
    await readUntilClosed(conn);
  });
  const { client, reply } = await ask(server.port, { receiveTimeout: 200 });
  assert.deepEqual(reply, ["", false]);
  assert.ok(client.failure instanceof Deno.errors.TimedOut, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("a server that dribbles a reply slower than receiveTimeout is given up although bytes keep coming", async () => {
  await using server = new ScriptedServer(async (conn) => {
    await readRequest(conn);
    // 1,004 bytes at one per 50 ms would take 50 s: receiveTimeout bounds the
    // whole reply, not the gap between two bytes.
    const bytes = frame("d".repeat(1000));
    let sent = 0;
    let failed = false;
    let writes = Promise.resolve();
    const closed = readUntilClosed(conn);
    const timer = setInterval(() => {
      if (failed || sent === bytes.byteLength) {
        clearInterval(timer);
        return;
      }
      writes = writes.then(async () => {
        try {
          sent += await conn.write(bytes.subarray(sent, sent + 1));
        } catch {
          failed = true;
        }
      });
    }, 50);
    try {
      await closed;
    } finally {
      clearInterval(timer);
      await writes;
    }
    assert.ok(sent < bytes.byteLength, "the client gave up before the reply was complete");
  });
  const { client, reply } = await ask(server.port, { receiveTimeout: 300 });
  assert.deepEqual(reply, ["", false]);
  assert.ok(client.failure instanceof Deno.errors.TimedOut, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("replies a server splits into one-byte writes are reassembled", async () => {
  const replies = ["", "a", "é😀 split into bytes", "x".repeat(300)];
  await using server = new ScriptedServer(async (conn) => {
    await readRequest(conn);
    const bytes = concat(...replies.map((r) => frame(r)));
    for (let i = 0; i < bytes.byteLength; i++) await writeAllTo(conn, bytes.subarray(i, i + 1));
  });
  const client = await BufferedClient.connect(HOST, server.port, 7, { receiveTimeout: 20_000 });
  await client.sendMessage("0123456789 a request");
  for (const expected of replies) assert.deepEqual(await client.receiveMessage(), [expected, true]);
  assert.deepEqual(await client.receiveMessage(), ["", false]);
  assert.equal(client.failure, undefined);
});

Deno.test("seeded random garbage from a server yields exactly the frames before the fault, then ['', false]", async () => {
  const seed = testSeed();
  const rng = mulberry32(seed);
  const maxFrameSize = 1000;
  const bufferSizes = [1, 3, 64, 1024];
  for (let round = 0; round < 200; round++) {
    const context = `FAULTS_SEED=${seed}, round ${round}`;
    const bytes = garbage(rng, maxFrameSize);
    const { payloads, end } = modelStream(bytes, maxFrameSize);
    await using server = new ScriptedServer(async (conn) => {
      await send(conn, bytes);
      await conn.closeWrite().catch(() => {});
      await readUntilClosed(conn);
    });
    const client = await BufferedClient.connect(HOST, server.port, bufferSizes[round % 4], {
      maxFrameSize,
      receiveTimeout: 20_000,
    });
    const received: string[] = [];
    try {
      for (let i = 0; i <= payloads.length; i++) {
        const [payload, ok] = await client.receiveMessage();
        if (!ok) {
          assert.equal(payload, "", context);
          break;
        }
        received.push(payload);
      }
      assert.deepEqual(received, payloads, `frames before the fault (${context})`);
      assert.equal(client.isOpen, false, `the connection ended (${context})`);
      const failure = client.failure;
      switch (end.kind) {
        case "clean":
          assert.equal(failure, undefined, context);
          break;
        case "too large":
          assert.ok(failure instanceof FrameTooLargeError, `${failure} (${context})`);
          assert.equal(failure.length, end.length, context);
          break;
        case "incomplete":
          assert.ok(failure instanceof IncompleteFrameError, `${failure} (${context})`);
          assert.deepEqual(
            [failure.part, failure.expected, failure.received],
            [end.part, end.expected, end.received],
            context,
          );
          break;
        case "not UTF-8":
          assert.ok(failure instanceof InvalidUtf8Error, `${failure} (${context})`);
          break;
      }
    } finally {
      client.shutdown();
    }
  }
});

Deno.test("a server that never reads: the receive timeout also ends a send blocked on a full socket", async () => {
  const stop = Promise.withResolvers<void>();
  await using server = new ScriptedServer(async () => {
    await stop.promise; // never reads a byte, so the client's send cannot finish
  });
  const client = await BufferedClient.connect(HOST, server.port, 1024, { receiveTimeout: 300 });
  try {
    // 16 MiB cannot fit in the socket buffers of a peer that does not read.
    const sending = client.sendMessage("x".repeat(DEFAULT_MAX_FRAME_SIZE));
    assert.deepEqual(await client.receiveMessage(), ["", false]);
    assert.ok(client.failure instanceof Deno.errors.TimedOut, `failure: ${client.failure}`);
    await guard(sending, "the blocked send to settle once the client shut down");
    await assertEnded(client);
  } finally {
    client.shutdown();
    stop.resolve();
  }
});

// --- receiveBytes: the same faults, the same contract ------------------------

Deno.test("receiveBytes from a server that accepts and closes without a word is an empty array and false", async () => {
  await using server = new ScriptedServer(readRequest);
  const { client, reply } = await askBytes(server.port);
  assert.deepEqual(reply, [new Uint8Array(0), false]);
  assert.equal(client.failure, undefined, "a clean close is not a failure");
  await assertEnded(client);
});

Deno.test("receiveBytes from a server that resets the connection is an empty array and false", async () => {
  await using server = new ScriptedServer(async (conn) => {
    // Closing with the payload unread in the socket resets the connection.
    assert.ok(await readExactly(conn, 5) !== null, "the client sent a frame");
  });
  await using client = await BufferedClient.connect(HOST, server.port);
  for (let i = 0; i < 3; i++) {
    await client.sendMessage(new Uint8Array(64 * 1024 + i).fill(0xff));
    assert.deepEqual(await client.receiveBytes(), [new Uint8Array(0), false], `receive ${i}`);
  }
  assert.equal(client.isOpen, false);
});

Deno.test("receiveBytes of a reply declaring one byte more than maxFrameSize is an empty array and false", async () => {
  await using server = new ScriptedServer(answerWith(concat(header(1001), new Uint8Array(1001))));
  const { client, reply } = await askBytes(server.port, { maxFrameSize: 1000 });
  assert.deepEqual(reply, [new Uint8Array(0), false]);
  assert.ok(client.failure instanceof FrameTooLargeError, `failure: ${client.failure}`);
  assert.equal(client.failure.length, 1001);
  await assertEnded(client);
});

Deno.test("receiveBytes of a header declaring 0xFFFFFFFF bytes is refused before anything is allocated", async () => {
  await using server = new ScriptedServer(
    answerWith(concat(header(0xffff_ffff), new Uint8Array(64).fill(0x41))),
  );
  const { client, reply } = await askBytes(server.port);
  assert.deepEqual(reply, [new Uint8Array(0), false]);
  assert.ok(client.failure instanceof FrameTooLargeError, `failure: ${client.failure}`);
  assert.equal(client.failure.length, 0xffff_ffff);
  await assertEnded(client);
});

Deno.test("receiveBytes of a server that closes in the middle of a reply payload is an empty array and false", async () => {
  await using server = new ScriptedServer(answerWith(concat(header(100), new Uint8Array(30))));
  const { client, reply } = await askBytes(server.port);
  assert.deepEqual(reply, [new Uint8Array(0), false]);
  assert.ok(client.failure instanceof IncompleteFrameError, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("receiveBytes from a server that never answers is given up after receiveTimeout", async () => {
  await using server = new ScriptedServer(async (conn) => {
    await readRequest(conn);
    await readUntilClosed(conn); // silent until the client gives up and closes
  });
  const { client, reply } = await askBytes(server.port, { receiveTimeout: 200 });
  assert.deepEqual(reply, [new Uint8Array(0), false]);
  assert.ok(client.failure instanceof Deno.errors.TimedOut, `failure: ${client.failure}`);
  await assertEnded(client);
});

Deno.test("receiveBytes takes a reply that is not UTF-8 whole, where receiveMessage would end the connection", async () => {
  const bad = new Uint8Array([0x68, 0xc3, 0x28, 0xff]);
  await using server = new ScriptedServer(
    answerWith(concat(frame(bad), frame("then text ✓"), frame(bad))),
  );
  const { client, reply } = await askBytes(server.port, { bufferSize: 3 });
  assert.deepEqual(reply, [bad, true]);
  assert.deepEqual(await client.receiveMessage(), ["then text ✓", true]);
  assert.deepEqual(await client.receiveBytes(), [bad, true]);
  assert.equal(client.failure, undefined);
  // The server closed after its replies: a clean end, reported the same way.
  assert.deepEqual(await client.receiveBytes(), [new Uint8Array(0), false]);
  assert.equal(client.failure, undefined);
  await assertEnded(client);
});
