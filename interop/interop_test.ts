// Copyright 2026 the buffered-framing authors. MIT license.
// The interop matrix: our server executable against clients written on other
// stacks (Python's socket and struct, Node.js's net, Netty 4.1's codecs), and
// our client (the library in-process and the client.ts executable) against
// their servers. Every reply is checked byte for byte, on loopback, port 0.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import {
  framesAnswered,
  HOST,
  modulePath,
  spawnDeno,
  startServerProcess,
} from "../tests/_helpers.ts";
import {
  assertSameBytes,
  checkVectors,
  DEFAULT_FORMAT,
  type Exchange,
  exchange,
  expectedReply,
  type Format,
  formatName,
  guard,
  NETTY,
  NODE,
  type Peer,
  peerFramesAnswered,
  PYTHON,
  runPeerClient,
  startPeerServer,
  writeMessagesFile,
} from "./_peers.ts";

const CLIENT = modulePath("client.ts");
const VECTORS = modulePath("testdata/vectors.json");

/** A message of exactly 1 MiB: 65,536 times 10 code points in 16 bytes (1, 2, 3 and 4-byte forms). */
const MEGABYTE = "abcdefgé中😀".repeat(65_536);

/** The default format's messages: the spec's example, edge lengths, multi-byte text, 1 MiB, 100 more. */
function defaultMessages(): string[] {
  const texts = [
    "Four score and seven years ago",
    "",
    "a",
    "short",
    "123456789",
    "0123456789",
    "0123456789x",
    "0123456789é中😀 multi-byte",
    "Ünïcödé ✓ — résumé, naïve, façade, Ærøskøbing",
    "東京都の天気は晴れです、明日も晴れでしょう",
    "😀😁😂🤣😃😄😅😆😉😊😋😎",
    "éééééééééé",
    "ééééééééééé",
    "e\u0301e\u0301e\u0301e\u0301e\u0301 combining accents count twice",
    "\u{1D11E}\u{10FFFF}\u{1F600} astral and the last code point, 10+",
    "\uFEFF0123456789 a byte order mark is a character too",
    "tab\tand\u0000nul are text",
    MEGABYTE,
  ];
  for (let i = 0; i < 100; i++) {
    texts.push(
      `${String(i).padStart(10, "0")} pipelined ${i} ${"é".repeat(i % 4)}${"😀".repeat(i % 3)}`,
    );
  }
  return texts;
}

/** The flags that select `format` on our executables and the peers; none for the default. */
function flagsFor(format: Format): string[] {
  if (format === DEFAULT_FORMAT) return [];
  return [
    "--length-field",
    format.lengthField,
    ...(format.lengthIncludesHeader ? ["--length-includes-header"] : []),
  ];
}

/** The library's client, in-process: every message sent at once, while the replies are read. */
async function libraryClient(
  port: number,
  format: Format,
  { texts, replies }: Exchange,
): Promise<void> {
  const options = format === DEFAULT_FORMAT ? {} : {
    lengthField: format.lengthField,
    lengthIncludesHeader: format.lengthIncludesHeader,
  } as Record<string, unknown>;
  await using client = await BufferedClient.connect(HOST, port, undefined, options);
  const sent = Promise.all(texts.map((text) => client.sendMessage(text)));
  for (const [index, expected] of replies.entries()) {
    const [reply, ok] = await guard(client.receiveBytes(), `reply ${index + 1}`);
    assert.ok(
      ok,
      `reply ${index + 1} of ${replies.length}: ${client.failure?.message ?? "closed"}`,
    );
    assertSameBytes(reply, expected, `reply ${index + 1} of ${replies.length}`);
  }
  await sent;
}

/** The client executable: one message a line on standard input, one reply a line out. */
async function executableClient(port: number, format: Format, { texts }: Exchange): Promise<void> {
  const input = texts.map((text) => `${text}\n`).join("");
  await using client = spawnDeno([
    `--allow-net=${HOST}:${port}`,
    CLIENT,
    "--hostname",
    HOST,
    "--port",
    `${port}`,
    ...flagsFor(format),
  ], input);
  const outcome = await guard(client.finish(), "client.ts to finish");
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stderr, "");
  const expected = texts.map((text) => `${expectedReply(text)}\n`).join("");
  assertSameBytes(
    new TextEncoder().encode(outcome.stdout),
    new TextEncoder().encode(expected),
    "client.ts's output",
  );
}

/**
 * One format's cells: our server executable against each peer's client, then
 * each peer's server (started once) against our two clients.
 */
async function matrix(
  t: Deno.TestContext,
  format: Format,
  peers: Peer[],
  texts: string[],
  clientTexts: string[] = texts,
): Promise<void> {
  const name = formatName(format);
  const all = exchange(texts);
  const dir = await Deno.makeTempDir({ prefix: "framing-interop-" });
  try {
    const file = `${dir}/messages.json`;
    await writeMessagesFile(file, all);
    const peerFlags = [...flagsFor(format), "--messages", file];

    const [server, port] = await guard(
      startServerProcess({ flags: flagsFor(format) }),
      "our server's first line",
    );
    let answered = 0;
    let everyClientPassed = true;
    await using _ = server;
    for (const peer of peers) {
      everyClientPassed = await t.step(`${name}: ${peer.name} client → our server`, async () => {
        const outcome = await runPeerClient(peer, port, peerFlags);
        assert.equal(outcome.code, 0, `${peer.name} client: ${outcome.stderr}`);
        assert.equal(outcome.stdout, `${texts.length} replies match\n`);
        answered += texts.length;
      }) && everyClientPassed;
    }
    server.child.kill("SIGTERM");
    const log = await guard(server.finish(), "our server to stop");
    assert.equal(log.code, 0, log.stderr);
    if (everyClientPassed) assert.equal(framesAnswered(log.stderr), answered, log.stderr);

    for (const peer of peers) {
      const [peerServer, peerPort] = await startPeerServer(peer, flagsFor(format));
      await using _ = peerServer;
      let expected = 0;
      let passed = true;
      passed = await t.step(`${name}: our BufferedClient → ${peer.name} server`, async () => {
        await libraryClient(peerPort, format, all);
        expected += texts.length;
      }) && passed;
      passed = await t.step(`${name}: our client.ts → ${peer.name} server`, async () => {
        await executableClient(peerPort, format, exchange(clientTexts));
        expected += clientTexts.length;
      }) && passed;
      const outcome = await guard(peerServer.finish(), `the ${peer.name} server to stop`);
      assert.equal(outcome.code, 0, outcome.stderr);
      if (passed) assert.equal(peerFramesAnswered(outcome.stderr), expected, outcome.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("interop, the default format (u32be): Python, Node and Netty", async (t) => {
  await matrix(t, DEFAULT_FORMAT, [PYTHON, NODE, NETTY], defaultMessages());
});

for (const [peer, agrees] of [[PYTHON, "peer.py (struct)"], [NETTY, "Netty"]] as const) {
  Deno.test(`testdata/vectors.json agrees with ${peer.name}'s own encoder and decoder`, async () => {
    const outcome = await checkVectors(peer, VECTORS);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(outcome.stdout.startsWith(`vectors agree with ${agrees}: `), outcome.stdout);
    // What was checked, and what the peer's stack cannot check (Netty's own limits).
    console.log(`${outcome.stdout}${outcome.stderr}`.trimEnd());
  });
}
