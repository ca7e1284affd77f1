// Copyright 2026 the buffered-framing authors. MIT license.
// Load, churn and shutdown-under-load tests: many concurrent BufferedClients
// against one BufferedServer in this process, every reply checked against
// s[10:]. Each test prints its figures (clients, messages, bytes, duration).

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import {
  expectedReply,
  guard,
  GUARD_MS,
  HOST,
  LiveServer,
  mulberry32,
  openFileDescriptors,
  randomText,
  testSeed,
  TextCorpus,
} from "./_faults.ts";
import { reasonOf } from "./_helpers.ts";

/** Independent PRNG stream for client `index`. */
function clientRng(seed: number, index: number): () => number {
  return mulberry32((seed ^ Math.imul(index + 1, 0x9e37_79b1)) >>> 0);
}

/** Rejections of `results`, described, for an assertion message. */
function rejections(results: PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((result, i) =>
    result.status === "rejected" ? [`client ${i}: ${String(result.reason)}`] : []
  );
}

function report(line: string): void {
  console.log(`  [figures] ${line}`);
}

const CLIENTS = 200;
const MESSAGES = 500;
const WINDOW = 16;
const MAX_MESSAGE_BYTES = 2048;

/**
 * One client's conversation: MESSAGES random messages, pipelined WINDOW at a
 * time or one at a time, each reply checked. Resolves with the bytes sent.
 */
async function converse(
  port: number,
  corpus: TextCorpus,
  seed: number,
  index: number,
): Promise<number> {
  const rng = clientRng(seed, index);
  const pipelined = index % 2 === 0;
  const client = await BufferedClient.connect(HOST, port, 1024, { receiveTimeout: GUARD_MS });
  let bytes = 0;
  try {
    for (let sent = 0; sent < MESSAGES;) {
      const batch = Array.from(
        { length: pipelined ? Math.min(WINDOW, MESSAGES - sent) : 1 },
        () => corpus.next(rng, MAX_MESSAGE_BYTES),
      );
      await Promise.all(batch.map(({ text }) => client.sendMessage(text)));
      for (const [k, { text: message, bytes: size }] of batch.entries()) {
        const [reply, ok] = await client.receiveMessage();
        if (!ok || reply !== expectedReply(message)) {
          const mode = pipelined ? "pipelined" : "in series";
          throw new Error(
            `message ${sent + k} (${mode}, FAULTS_SEED=${seed}): got ` +
              `${JSON.stringify([reply.slice(0, 40), ok])}, failure ${client.failure}`,
          );
        }
        bytes += size;
      }
      sent += batch.length;
    }
  } finally {
    client.shutdown();
  }
  return bytes;
}

Deno.test("200 concurrent clients each exchange 500 random messages, half pipelined, and every reply is right", async () => {
  const seed = testSeed();
  const corpus = new TextCorpus(mulberry32(seed));
  await using live = new LiveServer(1024, { maxConnections: CLIENTS });
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: CLIENTS }, (_, i) => converse(live.port, corpus, seed, i)),
  );
  const elapsed = performance.now() - started;
  assert.deepEqual(rejections(results).slice(0, 5), [], `FAULTS_SEED=${seed}`);
  await live.stop();

  const bytes = results.reduce((sum, r) => sum + (r.status === "fulfilled" ? r.value : 0), 0);
  report(
    `${CLIENTS} clients x ${MESSAGES} messages = ${CLIENTS * MESSAGES} round trips ` +
      `(${(bytes / 2 ** 20).toFixed(1)} MiB sent) in ${(elapsed / 1000).toFixed(1)} s, ` +
      `${Math.round((CLIENTS * MESSAGES) / (elapsed / 1000))} messages/s, ` +
      `${live.log.peakConnections()} connections open at the peak, FAULTS_SEED=${seed}`,
  );
  const connects = live.log.lines.filter((l) => l.endsWith(" connected"));
  const reasons = new Set(
    live.log.lines.flatMap((l) => l.split(" disconnected: ").slice(1).map(reasonOf)),
  );
  assert.equal(connects.length, CLIENTS);
  for (const reason of reasons) {
    assert.ok(
      reason === "closed by client" || reason === "server stopping",
      `no connection ended in error: ${reason}`,
    );
  }
});

const CYCLES = 2000;
const PARALLEL = 4;

Deno.test("2,000 connect/send/receive/disconnect cycles leave no file descriptor open once the server stops", async () => {
  await openFileDescriptors(); // the first call may set up what later calls reuse
  const fdsBefore = await openFileDescriptors();
  const seed = testSeed();
  const started = performance.now();
  {
    await using live = new LiveServer(1024, { maxConnections: 2 * PARALLEL });
    const results = await Promise.allSettled(
      Array.from({ length: PARALLEL }, async (_, worker) => {
        const rng = clientRng(seed, worker);
        for (let cycle = 0; cycle < CYCLES / PARALLEL; cycle++) {
          const client = await BufferedClient.connect(HOST, live.port, 256, {
            receiveTimeout: GUARD_MS,
          });
          try {
            const message = randomText(rng, 512);
            await client.sendMessage(message);
            const reply = await client.receiveMessage();
            if (reply[0] !== expectedReply(message) || !reply[1]) {
              throw new Error(`cycle ${cycle}: wrong reply (FAULTS_SEED=${seed})`);
            }
          } finally {
            client.shutdown();
          }
        }
      }),
    );
    assert.deepEqual(rejections(results), []);
    await live.stop();
    const lines = live.log.lines;
    assert.equal(lines.filter((l) => l.endsWith(" connected")).length, CYCLES);
    assert.equal(lines.filter((l) => l.includes(" disconnected: ")).length, CYCLES);
  }
  const elapsed = performance.now() - started;
  const fdsAfter = await openFileDescriptors();
  report(
    `${CYCLES} connect/send/receive/disconnect cycles, ${PARALLEL} at a time, in ` +
      `${
        (elapsed / 1000).toFixed(1)
      } s; open file descriptors before ${fdsBefore}, after ${fdsAfter}`,
  );
  assert.equal(fdsAfter, fdsBefore, "open file descriptors are back to the starting count");
});

const SHUTDOWN_CLIENTS = 50;
/** The server is stopped once this many replies have arrived, in all: mid-conversation. */
const STOP_AFTER_REPLIES = 50 * 40 + 7;

interface Outcome {
  good: number;
  afterStop: number;
  ended: boolean;
  failure: Error | undefined;
}

Deno.test("stopping the server under load: 50 pipelining clients each get a correct in-order prefix of replies, then ['', false]", async () => {
  const seed = testSeed();
  const corpus = new TextCorpus(mulberry32(seed));
  // A small receive buffer makes the server take many reads a frame, so that
  // when it is stopped, connections are in every state: mid-frame, with whole
  // frames buffered, writing replies, waiting.
  await using live = new LiveServer(256, { maxConnections: SHUTDOWN_CLIENTS });
  let replies = 0;

  const conversation = async (index: number): Promise<Outcome> => {
    const rng = clientRng(seed, index);
    const client = await BufferedClient.connect(HOST, live.port, 1024, {
      receiveTimeout: GUARD_MS,
    });
    // A sliding window: WINDOW requests always in flight, a new one sent as
    // each reply arrives, so the server is stopped in the middle of a stream.
    const expected: string[] = [];
    const sends: Promise<void>[] = [];
    const send = (): void => {
      // One message in 16 is large (up to 128 KiB), so that some replies
      // cannot be written at once and the server is stopped mid-write.
      const text = rng() < 1 / 16
        ? corpus.next(rng, MAX_MESSAGE_BYTES).text.repeat(64)
        : corpus.next(rng, MAX_MESSAGE_BYTES).text;
      expected.push(expectedReply(text));
      sends.push(client.sendMessage(text));
    };
    let good = 0;
    let afterStop = 0;
    try {
      for (let i = 0; i < WINDOW; i++) send();
      // Bounded: the server is stopped long before this many replies.
      while (good < 100_000) {
        const [reply, ok] = await client.receiveMessage();
        if (!ok) {
          assert.equal(reply, "");
          break;
        }
        assert.equal(reply, expected.shift(), `client ${index}, reply ${good}`);
        good++;
        if (!live.server.keepRunning) afterStop++;
        // Stop the server at an arbitrary point, in the middle of a receive loop.
        if (++replies === STOP_AFTER_REPLIES) live.server.keepRunning = false;
        send();
      }
      // Once ended, every later receive is ["", false] too.
      assert.deepEqual(
        await client.receiveMessage(),
        ["", false],
        `client ${index}, after the end`,
      );
      await Promise.all(sends);
      return { good, afterStop, ended: good < 100_000, failure: client.failure };
    } finally {
      client.shutdown();
    }
  };

  const started = performance.now();
  const results = await guard(
    Promise.allSettled(Array.from({ length: SHUTDOWN_CLIENTS }, (_, i) => conversation(i))),
    "every client to finish",
  );
  await guard(live.done, "the server to stop");
  const elapsed = performance.now() - started;

  assert.deepEqual(rejections(results), [], `FAULTS_SEED=${seed}`);
  assert.equal(live.server.keepRunning, false, "the server was stopped mid-conversation");
  const outcomes = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  for (const [i, { good, ended, failure }] of outcomes.entries()) {
    assert.ok(ended, `client ${i} ended with ["", false]`);
    assert.ok(good > 0, `client ${i} was mid-conversation`);
    // The server closed the connection; a truncated or corrupt reply would
    // show as an IncompleteFrameError, FrameTooLargeError or TypeError.
    assert.ok(
      failure === undefined || failure instanceof Deno.errors.ConnectionReset ||
        failure instanceof Deno.errors.BrokenPipe,
      `client ${i}: the connection ended cleanly, not with ${failure}`,
    );
  }
  const unsent = live.log.lines.filter((l) => l.includes("replies unsent"));
  assert.deepEqual(unsent, [], "every owed reply was sent within the shutdown timeout");
  const total = outcomes.reduce((sum, o) => sum + o.good, 0);
  const afterStop = outcomes.reduce((sum, o) => sum + o.afterStop, 0);
  const failures = [...new Set(outcomes.map((o) => o.failure?.name ?? "none"))].join(", ");
  const goods = outcomes.map((o) => o.good);
  report(
    `shutdown under load: ${SHUTDOWN_CLIENTS} pipelining clients, ${total} correct replies ` +
      `(${Math.min(...goods)} to ${Math.max(...goods)} a client; ${afterStop} after ` +
      `keepRunning = false), each then ["", false] (failure: ${failures}); ` +
      `${(elapsed / 1000).toFixed(1)} s`,
  );
});
