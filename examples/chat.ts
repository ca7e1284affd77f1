// Copyright 2026 the buffered-framing authors. MIT license.
// A chat-style client loop: each line typed is sent as one message and its
// reply printed, until end of input or until the server goes away.
//
//   deno run --allow-net=localhost:4567 examples/chat.ts [HOSTNAME] [PORT]

import { createInterface } from "node:readline";
import process from "node:process";
import { BufferedClient } from "../mod.ts";

const hostname = Deno.args[0] ?? "localhost";
const port = Number(Deno.args[1] ?? 4567);

await using client = await BufferedClient.connect(hostname, port);
for await (const line of createInterface({ input: process.stdin })) {
  await client.sendMessage(line);
  const [reply, ok] = await client.receiveMessage();
  if (!ok) {
    console.error(`the server has gone: ${client.failure?.message ?? "connection closed"}`);
    process.exit(1);
  }
  console.log(reply);
}
