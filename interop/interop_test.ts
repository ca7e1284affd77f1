// Copyright 2026 the buffered-framing authors. MIT license.
// The interop matrix: our server executable against clients written on other
// stacks (Python's socket and struct, Node.js's net, Netty 4.1's codecs), and
// our client (the library in-process and the client.ts executable) against
// their servers. Every reply is checked byte for byte, on loopback, port 0.

import assert from "node:assert/strict";
import { BufferedClient, type BufferedClientOptions } from "../client.ts";
import type { LengthFieldName } from "../framing.ts";
import {
  clientArgs,
  framesAnswered,
  HOST,
  modulePath,
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
  formatFlags,
  formatName,
  guard,
  NETTY,
  NODE,
  type Peer,
  peerFramesAnswered,
  PYTHON,
  run,
  runPeerClient,
  startPeerServer,
  writeMessagesFile,
} from "./_peers.ts";

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
  return format === DEFAULT_FORMAT ? [] : formatFlags(format);
}

/** A byte string of the vectors: hex, or one byte repeated. */
type VectorBytes = string | { fill: string; count: number };

interface FrameVector {
  name: string;
  lengthField: string;
  lengthIncludesHeader: boolean;
  payload: VectorBytes;
  decodeOnly: boolean;
}

function vectorBytes(bytes: VectorBytes): Uint8Array {
  if (typeof bytes !== "string") {
    return new Uint8Array(bytes.count).fill(parseInt(bytes.fill, 16));
  }
  return Uint8Array.from(bytes.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The messages for `format`: the payloads of the vectors' frames in that
 * format that are text (the demo answers text) and that every side accepts
 * by default (16 MiB, or what the field can declare if less).
 */
async function vectorTexts(format: Format): Promise<string[]> {
  const { formats, frames } = JSON.parse(await Deno.readTextFile(VECTORS)) as {
    formats: { lengthField: string; headerBytes: number | null; maxPayload: number }[];
    frames: FrameVector[];
  };
  const field = formats.find((entry) => entry.lengthField === format.lengthField);
  assert.ok(field, `testdata/vectors.json has no format ${format.lengthField}`);
  const header = format.lengthIncludesHeader ? field.headerBytes ?? 0 : 0;
  const limit = Math.min(16 * 1024 * 1024, field.maxPayload - header);
  const texts: string[] = [];
  for (const frame of frames) {
    if (frame.lengthField !== format.lengthField) continue;
    if (frame.lengthIncludesHeader !== format.lengthIncludesHeader || frame.decodeOnly) continue;
    const payload = vectorBytes(frame.payload);
    if (payload.length > limit) continue;
    try {
      texts.push(strictUtf8.decode(payload));
    } catch {
      // Not text: the demo server would close the connection.
    }
  }
  return texts;
}

/** Whether client.ts can send `text` as one line of its standard input. */
function isOneLine(text: string): boolean {
  return !/[\r\n]/.test(text) && !text.startsWith("\uFEFF");
}

/** The library's client, in-process: every message sent at once, while the replies are read. */
async function libraryClient(
  port: number,
  format: Format,
  { texts, replies }: Exchange,
): Promise<void> {
  const options: BufferedClientOptions = format === DEFAULT_FORMAT ? {} : {
    lengthField: format.lengthField as LengthFieldName,
    lengthIncludesHeader: format.lengthIncludesHeader,
  };
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
  const outcome = await run(
    Deno.execPath(),
    ["run", "--no-prompt", ...clientArgs(port, flagsFor(format))],
    texts.map((text) => `${text}\n`).join(""),
  );
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stderr, "");
  const expected = texts.map((text) => `${expectedReply(text)}\n`).join("");
  assertSameBytes(outcome.stdout, new TextEncoder().encode(expected), "client.ts's output");
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
    try {
      server.child.kill("SIGTERM");
    } catch {
      // It has exited already: its status and log say why.
    }
    const log = await guard(server.finish(), "our server to stop");
    assert.equal(log.code, 0, `our server (${name}) exited with ${log.code}:\n${log.stderr}`);
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

/** Every other format: each fixed width and varint, then each fixed width including its header. */
const FORMATS: Format[] = [
  ...["u32le", "u16be", "u16le", "u8", "u64be", "u64le", "varint"].map((lengthField) => ({
    lengthField,
    lengthIncludesHeader: false,
  })),
  ...["u8", "u16be", "u16le", "u32be", "u32le", "u64be", "u64le"].map((lengthField) => ({
    lengthField,
    lengthIncludesHeader: true,
  })),
];

for (const format of FORMATS) {
  Deno.test(`interop, ${formatName(format)}: Python (struct) and Netty`, async (t) => {
    const texts = await vectorTexts(format);
    assert.ok(texts.length >= 3, `only ${texts.length} text frames in the vectors`);
    await matrix(t, format, [PYTHON, NETTY], texts, texts.filter(isOneLine));
  });
}
