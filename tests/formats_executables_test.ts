// Copyright 2026 the buffered-framing authors. MIT license.
// --length-field and --length-includes-header on server.ts and client.ts, run
// as real subprocesses with --no-prompt and exactly the network permission
// each needs: usage errors, the limits a field implies, and both executables
// agreeing on a format end to end.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import type { ServerStats } from "../serve.ts";
import { closeQuietly, connectRaw, guard, readExactly, writeAllTo } from "./_faults.ts";
import {
  answeredPerConnection,
  clientArgs,
  concat,
  HOST,
  modulePath,
  spawnDeno,
  startServerProcess,
  type Subprocess,
  utf8,
} from "./_helpers.ts";
import { serveOn, Watch } from "./_serve.ts";

/** Runs client.ts against 127.0.0.1:`port`, with permission for that address only. */
function runClient(port: number, args: string[]): Subprocess {
  return spawnDeno(clientArgs(port, args));
}

/** Starts server.ts on 127.0.0.1, port 0, with exactly `--allow-net=127.0.0.1:0`. */
function startServer(...flags: string[]): Promise<[Subprocess, number]> {
  return startServerProcess({ flags });
}

/** Stops a server process with SIGTERM; returns its log, after checking it exited 0. */
async function stopServer(server: Subprocess): Promise<string> {
  server.child.kill("SIGTERM");
  const outcome = await guard(server.finish(), "the server process to exit");
  assert.equal(outcome.code, 0, outcome.stderr);
  return outcome.stderr;
}

// ---------------------------------------------------------------------------
// Usage errors
// ---------------------------------------------------------------------------

/** Flags that are usage errors, and what the message must name. */
const FORMAT_USAGE_ERRORS: [string[], string[]][] = [
  [["--length-field", "nope"], ["--length-field", "'nope'", "u32be", "varint"]],
  [["--length-field", "varint", "--length-includes-header"], [
    "--length-includes-header",
    "varint",
  ]],
  [["--length-field", "u8", "--max-frame-size", "300"], ["--max-frame-size", "300", "255"]],
  [["--length-field", "u16le", "--length-includes-header", "--max-frame-size", "65534"], [
    "--max-frame-size",
    "65534",
    "65533",
  ]],
];

for (const name of ["server", "client"]) {
  for (const [flags, names] of FORMAT_USAGE_ERRORS) {
    Deno.test(`${name}.ts ${flags.join(" ")} is a usage error: exit 2, naming ${names.join(", ")}`, async () => {
      // No permission at all: the format is checked before any is needed.
      const args = name === "client" ? [...flags, "0123456789message"] : flags;
      await using child = spawnDeno([modulePath(`${name}.ts`), ...args]);
      const outcome = await guard(child.finish(), `${name}.ts to exit`);
      assert.equal(outcome.code, 2, outcome.stderr);
      assert.equal(outcome.stdout, "");
      assert.match(outcome.stderr, /^error: /);
      for (const part of names) {
        assert.ok(outcome.stderr.includes(part), `names ${part}: ${outcome.stderr}`);
      }
      assert.ok(!outcome.stderr.includes("NotCapable"), outcome.stderr);
    });
  }
}

// ---------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------

Deno.test("server.ts --length-field u8 with no --max-frame-size starts and answers a u8 client, up to 255 bytes", async () => {
  const [server, port] = await startServer("--length-field", "u8");
  await using _ = server;
  {
    await using client = await BufferedClient.connect(HOST, port, 64, { lengthField: "u8" });
    const longest = "0123456789" + "é".repeat(122) + "z"; // 255 bytes
    await client.sendMessage("0123456789short");
    await client.sendMessage(longest);
    assert.deepEqual(await client.receiveMessage(), ["short", true]);
    assert.deepEqual(await client.receiveMessage(), ["é".repeat(122) + "z", true]);
  }
  const log = await stopServer(server);
  assert.deepEqual(answeredPerConnection(log), [2], log);
});

Deno.test("client.ts --length-field u16be against server.ts --length-field u16be prints the demo replies", async () => {
  const [server, port] = await startServer("--length-field", "u16be");
  await using _ = server;
  const long = "0123456789" + "w".repeat(1000); // a length only 2 bytes can declare
  {
    await using client = runClient(port, [
      "--length-field",
      "u16be",
      "Four score and seven years ago",
      "0123456789é中😀 multi-byte",
      long,
      "short",
    ]);
    const outcome = await guard(client.finish(), "client.ts to exit");
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, ` and seven years ago\né中😀 multi-byte\n${"w".repeat(1000)}\n\n`);
    assert.equal(outcome.stderr, "");
  }
  const log = await stopServer(server);
  assert.deepEqual(answeredPerConnection(log), [4], log);
});

Deno.test("client.ts --length-field varint against server.ts --length-field varint prints replies on either side of 127/128 bytes", async () => {
  const [server, port] = await startServer("--length-field", "varint");
  await using _ = server;
  const replies = ["a".repeat(127), "b".repeat(128), "中".repeat(43), "c".repeat(16_384)];
  {
    await using client = runClient(port, [
      "--length-field",
      "varint",
      ...replies.map((reply) => "0123456789" + reply),
    ]);
    const outcome = await guard(client.finish(), "client.ts to exit");
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, replies.map((reply) => `${reply}\n`).join(""));
  }
  await stopServer(server);
});

/** What the in-process server saw, after the one connection it served had ended. */
async function statsAfterDisconnect(
  server: ReturnType<typeof serveOn>,
  watch: Watch,
): Promise<ServerStats> {
  await watch.until(
    () => watch.lines.some((line) => line.includes(" disconnected: ")),
    "the client's disconnect line",
  );
  await guard(server.shutdown(), "the server to stop");
  return server.stats();
}

Deno.test("client.ts --length-field u8 refuses a 300-byte message with a clear error and exit 1, sending nothing of it", async () => {
  const watch = new Watch();
  await using server = serveOn(watch, (payload) => {
    watch.note(payload);
    return payload;
  }, { lengthField: "u8" });
  {
    await using client = runClient(server.addr.port, [
      "--length-field",
      "u8",
      "0123456789before",
      "x".repeat(300),
      "0123456789after",
    ]);
    const outcome = await guard(client.finish(), "client.ts to exit");
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.equal(outcome.stdout, "0123456789before\n", "the reply to the message before it");
    assert.match(
      outcome.stderr,
      /^error: message not sent: its 300 bytes exceed 255, what --length-field u8 allows\n$/,
    );
  }
  const stats = await statsAfterDisconnect(server, watch);
  assert.deepEqual(watch.seen, ["0123456789before"], "the requests the server handled");
  assert.equal(stats.bytesReceived, 1 + 16, "only the first frame's bytes");
  assert.equal(stats.closed.closedByClient, 1, `a clean close between frames: ${watch.lines}`);
});

Deno.test("client.ts and server.ts with --length-includes-header alone agree on u32be lengths that count the header", async () => {
  const [server, port] = await startServer("--length-includes-header");
  await using _ = server;
  {
    await using client = runClient(port, [
      "--length-includes-header",
      "0123456789counted",
      "0123456789",
      "0123456789é中😀",
    ]);
    const outcome = await guard(client.finish(), "client.ts to exit");
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, "counted\n\né中😀\n");
  }
  const log = await stopServer(server);
  assert.deepEqual(answeredPerConnection(log), [3], log);
});

Deno.test("server.ts --length-includes-header reads and writes u32be lengths that count their 4 bytes, on the wire", async () => {
  const [server, port] = await startServer("--length-includes-header");
  await using _ = server;
  const conn = await connectRaw(port);
  try {
    // 4 + 15 = 19 declared, written here by hand; the reply declares 4 + 5 = 9.
    await writeAllTo(conn, concat(new Uint8Array([0, 0, 0, 19]), utf8("0123456789hello")));
    assert.deepEqual(
      await guard(readExactly(conn, 4), "the reply's header"),
      new Uint8Array([0, 0, 0, 9]),
    );
    assert.deepEqual(await guard(readExactly(conn, 5), "the reply's payload"), utf8("hello"));
  } finally {
    closeQuietly(conn);
  }
  await stopServer(server);
});

Deno.test("server.ts --length-field u8 --max-frame-size 40 answers a 16-byte frame and closes a client whose 1-byte header declares 41", async () => {
  const [server, port] = await startServer("--length-field", "u8", "--max-frame-size", "40");
  await using _ = server;
  const conn = await connectRaw(port);
  try {
    await writeAllTo(
      conn,
      concat(new Uint8Array([16]), utf8("0123456789sixtee"), new Uint8Array([41])),
    );
    assert.deepEqual(await guard(readExactly(conn, 1), "the reply's header"), new Uint8Array([6]));
    assert.deepEqual(await guard(readExactly(conn, 6), "the reply's payload"), utf8("sixtee"));
    // Then the server hangs up: the 41-byte frame is over --max-frame-size 40.
    assert.equal(await guard(conn.read(new Uint8Array(1)), "the end of the stream"), null);
  } finally {
    closeQuietly(conn);
  }
  const log = await stopServer(server);
  assert.match(
    log,
    /disconnected: FrameTooLargeError: Frame of 41 bytes exceeds the limit: 40 \(1 frame answered\)/,
  );
});
