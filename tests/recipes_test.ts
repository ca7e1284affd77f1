// Copyright 2026 the buffered-framing authors. MIT license.
// The README's recipes and command-line reference, checked against what the
// code really does, so that the documentation cannot drift.

import assert from "node:assert/strict";
import { BufferedClient } from "../client.ts";
import { BufferedServer } from "../server.ts";
import { HOST, modulePath, spawnDeno, startServer } from "./_helpers.ts";

const README = await Deno.readTextFile(modulePath("README.md"));

Deno.test("examples/chat.ts sends each line of input and prints each reply", async () => {
  await using s = startServer(64);
  await using chat = spawnDeno(
    [`--allow-net=${HOST}:${s.port}`, modulePath("examples/chat.ts"), HOST, `${s.port}`],
    "0123456789hello\nFour score and seven years ago\n0123456789é中😀\n",
  );
  const outcome = await chat.finish();
  assert.equal(outcome.code, 0, outcome.stderr);
  assert.equal(outcome.stdout, "hello\n and seven years ago\né中😀\n");
});

Deno.test("the README's self-signed certificate serves TLS to a client that trusts it", async () => {
  // Made by the README's openssl command (tests/fixtures/generate.sh).
  const cert = await Deno.readTextFile(modulePath("tests/fixtures/self-signed.crt"));
  const key = await Deno.readTextFile(modulePath("tests/fixtures/self-signed.key"));
  await using server = new BufferedServer(HOST, 0, 1024, { tls: { cert, key }, log: () => {} });
  server.start();
  await using client = await BufferedClient.connect("localhost", server.addr.port, 1024, {
    tls: { caCerts: [cert] },
  });
  await client.sendMessage("Four score and seven years ago");
  assert.deepEqual(await client.receiveMessage(), [" and seven years ago", true]);
});

for (const executable of ["server.ts", "client.ts"]) {
  Deno.test(`the README shows exactly what ${executable} --help prints`, async () => {
    await using help = spawnDeno([modulePath(executable), "--help"]);
    const outcome = await help.finish();
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.ok(
      README.includes(`\`${executable} --help\`:\n\n\`\`\`\n${outcome.stdout}\`\`\`\n`),
      `README.md's ${executable} --help block differs from:\n${outcome.stdout}`,
    );
  });
}
