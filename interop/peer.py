#!/usr/bin/env python3
# Copyright 2026 the buffered-framing authors. MIT license.
"""An independent peer of the length-prefixed protocol: Python's socket and struct, stdlib only.

Usage:
  peer.py server [FORMAT] [--max-frame-size N]
      Binds 127.0.0.1, port 0, prints "listening on 127.0.0.1:PORT", and answers
      each frame with its text minus the first 10 characters (s[10:]), until its
      standard input ends (or SIGTERM). Text that is not UTF-8 ends the connection.
  peer.py client --port PORT [FORMAT] (--messages FILE | MESSAGE...)
      Sends every message pipelined (a writer thread) while reading the replies,
      checks each reply byte for byte, prints "N replies match" and exits 0;
      exits 1 naming the first difference otherwise.
  peer.py --check-vectors FILE
      Encodes each frame of the conformance vectors with struct and compares it
      with the vector's header and payload, decodes every frame, stream and
      refusal, prints a summary and exits 0; exits 1 listing each mismatch.

FORMAT: --length-field NAME (u32be, the default, u32le, u16be, u16le, u8,
u64be, u64le, varint) and --length-includes-header (fixed widths only).

A messages FILE is JSON: {"messages": [M...], "replies": [M...]} or a list of
M, where M is a string (sent as UTF-8), {"hex": "..."} or {"fill": "61",
"count": N}. Without "replies", the expected reply is this peer's own s[10:].
"""

import json
import os
import socket
import struct
import sys
import threading

FORMATS = {
    "u8": ("B", 1),
    "u16be": (">H", 2),
    "u16le": ("<H", 2),
    "u32be": (">I", 4),
    "u32le": ("<I", 4),
    "u64be": (">Q", 8),
    "u64le": ("<Q", 8),
    "varint": (None, None),
}
SKIPPED = 10
DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024
LARGEST = 2**32 - 1  # no payload is longer, whatever the field could declare
VARINT_MAX_BYTES = 5  # protobuf's varint32


class FrameError(Exception):
    """A frame refused or cut; `kind` is the vectors' name for it."""

    kind = "FrameError"

    def __init__(self, message, kind=None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class FrameTooLarge(FrameError):
    kind = "FrameTooLargeError"


class CorruptFrame(FrameError):
    kind = "CorruptFrameError"


class Incomplete(FrameError):
    """The stream ended inside a frame: kind ends with ":header" or ":payload"."""

    def __init__(self, message, where):
        super().__init__(message, f"IncompleteFrameError:{where}")


class Format:
    def __init__(self, name, includes_header, max_frame_size=None):
        if name not in FORMATS:
            raise SystemExit(f"peer.py: unknown --length-field {name!r}: one of {', '.join(FORMATS)}")
        self.name = name
        self.code, self.width = FORMATS[name]
        if includes_header and self.width is None:
            raise SystemExit("peer.py: --length-includes-header is for the fixed widths only")
        self.includes_header = includes_header
        # The default limit, as the library's readers have it: 16 MiB, or less when the field is smaller.
        self.max_frame_size = (
            min(DEFAULT_MAX_FRAME_SIZE, self.largest_payload()) if max_frame_size is None else max_frame_size
        )

    def largest_payload(self):
        if self.width is None:
            return LARGEST
        return min(LARGEST, 2 ** (8 * self.width) - 1 - (self.width if self.includes_header else 0))

    def header(self, length, max_frame_size=None):
        """The length field for a payload of `length` bytes; refuses one above the limit or the field."""
        limit = self.largest_payload() if max_frame_size is None else min(max_frame_size, self.largest_payload())
        if length > limit:
            raise FrameTooLarge(f"a payload of {length} bytes is above {limit}, the most {self.describe()} takes here")
        if self.width is None:
            out = bytearray()
            while True:
                byte = length & 0x7F
                length >>= 7
                if length:
                    out.append(byte | 0x80)
                else:
                    out.append(byte)
                    return bytes(out)
        return struct.pack(self.code, length + (self.width if self.includes_header else 0))

    def encode(self, payload):
        return self.header(len(payload)) + payload

    def read_length(self, read_byte, read_exactly):
        """The payload length of the next frame, or None at a clean end of stream."""
        if self.width is None:
            value = 0
            for index in range(VARINT_MAX_BYTES):
                byte = read_byte()
                if byte is None:
                    if index == 0:
                        return None
                    raise Incomplete("the stream ended inside a varint length", "header")
                if index == VARINT_MAX_BYTES - 1:
                    if byte & 0x80:
                        raise CorruptFrame("a varint length of more than 5 bytes")
                    value |= byte << 28
                    if value > LARGEST:
                        raise CorruptFrame(f"a varint length of {value}, above 2^32 - 1")
                else:
                    value |= (byte & 0x7F) << (7 * index)
                # The groups so far are a lower bound: refused as soon as they exceed the limit.
                self.check(value)
                if byte < 0x80:
                    return value
        raw = read_exactly(self.width)
        if raw is None:
            return None
        if len(raw) < self.width:
            raise Incomplete("the stream ended inside a length field", "header")
        (declared,) = struct.unpack(self.code, raw)
        if self.includes_header:
            if declared < self.width:
                raise CorruptFrame(
                    f"a declared length of {declared} is shorter than the {self.width}-byte header it includes"
                )
            declared -= self.width
        return self.check(declared)

    def check(self, length):
        if length > self.max_frame_size:
            raise FrameTooLarge(f"a declared payload of {length} bytes is above the limit of {self.max_frame_size}")
        return length

    def describe(self):
        return self.name + (" including its header" if self.includes_header else "")


class Reader:
    """Frames out of a byte source: a socket file, or a list of chunks."""

    def __init__(self, fmt, source):
        self.fmt = fmt
        self.source = source  # read(n) -> bytes, b"" at the end

    def read_exactly(self, n):
        parts = []
        got = 0
        while got < n:
            chunk = self.source.read(n - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        data = b"".join(parts)
        return None if got == 0 and n > 0 else data

    def read_byte(self):
        data = self.read_exactly(1)
        return None if data is None else data[0]

    def next_frame(self):
        """The next payload, or None at a clean end of stream; raises FrameError on a bad frame or a cut one."""
        length = self.fmt.read_length(self.read_byte, self.read_exactly)
        if length is None:
            return None
        payload = self.read_exactly(length) if length else b""
        if length and (payload is None or len(payload) < length):
            raise Incomplete(f"the stream ended inside a payload of {length} bytes", "payload")
        return payload


def demo_reply(payload):
    """The demo rule: the text minus its first 10 characters (code points, as s[10:])."""
    return payload.decode("utf-8")[SKIPPED:].encode("utf-8")


def log(message):
    print(f"peer.py: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- server


def serve_connection(conn, peer, fmt):
    answered = 0
    try:
        with conn, conn.makefile("rb") as source:
            reader = Reader(fmt, source)
            while True:
                payload = reader.next_frame()
                if payload is None:
                    break
                try:
                    reply = demo_reply(payload)
                except UnicodeDecodeError as error:
                    log(f"{peer}: not UTF-8 ({error}); closing")
                    return
                conn.sendall(fmt.encode(reply))
                answered += 1
    except (FrameError, OSError) as error:
        log(f"{peer}: {error}; closing")
        return
    finally:
        log(f"{peer} disconnected ({answered} frames answered)")


def run_server(fmt):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(f"listening on 127.0.0.1:{listener.getsockname()[1]}", flush=True)

    def accept_loop():
        while True:
            try:
                conn, (host, port) = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=serve_connection, args=(conn, f"{host}:{port}", fmt), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    # Runs until standard input ends: the test closes it to stop the server.
    sys.stdin.buffer.read()
    os._exit(0)


# ---------------------------------------------------------------- client


def message_bytes(item):
    if isinstance(item, str):
        return item.encode("utf-8")
    if "hex" in item:
        return bytes.fromhex(item["hex"])
    if "fill" in item:
        return bytes.fromhex(item["fill"]) * item["count"]
    raise SystemExit(f"peer.py: a message is a string, {{hex}} or {{fill, count}}: {item!r}")


def load_messages(path):
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    if isinstance(data, list):
        data = {"messages": data}
    messages = [message_bytes(item) for item in data["messages"]]
    replies = [message_bytes(item) for item in data["replies"]] if "replies" in data else None
    return messages, replies


def describe_difference(index, count, expected, got):
    first = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
    return (
        f"reply {index + 1} of {count} differs at byte {first}: expected {len(expected)} bytes "
        f"({expected[first:first + 16].hex() or 'end'} there), got {len(got)} bytes "
        f"({got[first:first + 16].hex() or 'end'} there)"
    )


def run_client(fmt, port, messages, replies):
    if replies is None:
        replies = [demo_reply(message) for message in messages]
    if len(replies) != len(messages):
        raise SystemExit("peer.py: as many replies as messages, please")
    for index, (message, reply) in enumerate(zip(messages, replies)):
        try:
            own = demo_reply(message)
        except UnicodeDecodeError:
            continue
        if own != reply:
            log(f"the expected reply {index + 1} differs from this peer's s[10:]: {reply[:32]!r} vs {own[:32]!r}")
            return 3
    frames = [fmt.encode(message) for message in messages]
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    failure = []

    def send_all():
        try:
            for frame in frames:
                conn.sendall(frame)
        except OSError as error:
            failure.append(error)

    writer = threading.Thread(target=send_all, daemon=True)
    writer.start()
    try:
        with conn.makefile("rb") as source:
            reader = Reader(fmt, source)
            for index, expected in enumerate(replies):
                try:
                    got = reader.next_frame()
                except (FrameError, OSError) as error:
                    log(f"reply {index + 1} of {len(replies)}: {error}")
                    return 1
                if got is None:
                    why = f" (sending failed: {failure[0]})" if failure else ""
                    log(f"the server closed the connection after {index} of {len(replies)} replies{why}")
                    return 1
                if got != expected:
                    log(describe_difference(index, len(replies), expected, got))
                    return 1
        writer.join()
    finally:
        conn.close()
    print(f"{len(replies)} replies match", flush=True)
    return 0


# ---------------------------------------------------------------- vectors


class Chunks:
    """A byte source over a list of chunks, handing out at most the rest of one chunk a read."""

    def __init__(self, chunks):
        self.chunks = [chunk for chunk in chunks if chunk]

    def read(self, n):
        if not self.chunks:
            return b""
        head = self.chunks[0]
        if len(head) <= n:
            self.chunks.pop(0)
            return head
        self.chunks[0] = head[n:]
        return head[:n]


def vector_bytes(item):
    if isinstance(item, str):
        return bytes.fromhex(item)
    return bytes.fromhex(item["fill"]) * item["count"]


def decode_all(fmt, chunks):
    """The payloads of a byte stream read as `chunks`, and how it ended: "clean" or the error's kind."""
    reader = Reader(fmt, Chunks(chunks))
    payloads = []
    while True:
        try:
            payload = reader.next_frame()
        except FrameError as error:
            return payloads, error.kind
        if payload is None:
            return payloads, "clean"
        payloads.append(payload)


SMALL_STREAM = 300  # bytes: below this, every split point of a stream is tried


def splits(data, reads):
    """The ways to feed `data`: as the vector's reads, or whole, a byte a read and every split in two."""
    if reads is not None:
        out, offset = [], 0
        for count in reads:
            out.append(data[offset : offset + count])
            offset += count
        yield "the vector's reads", out
        return
    yield "whole", [data]
    if len(data) <= SMALL_STREAM:
        yield "a byte a read", [data[i : i + 1] for i in range(len(data))]
        for cut in range(1, len(data)):
            yield f"split at {cut}", [data[:cut], data[cut:]]


def check_vectors(path):
    with open(path, encoding="utf-8") as file:
        vectors = json.load(file)
    failures = []
    counts = {"formats": 0, "encoded": 0, "decoded": 0, "refusals": 0, "streams": 0}

    for entry in vectors["formats"]:
        name = entry["lengthField"]
        code, width = FORMATS[name]
        order = None if code is None else "little" if code[0] == "<" else "big"
        largest = Format(name, False).largest_payload()
        said = (entry["headerBytes"], entry["byteOrder"], entry["maxPayload"])
        if said != (width, order, largest):
            failures.append(f"format {name}: the vector says {said}, struct says {(width, order, largest)}")
        counts["formats"] += 1

    for vector in vectors["frames"]:
        fmt = Format(vector["lengthField"], vector["lengthIncludesHeader"], LARGEST)
        payload = vector_bytes(vector["payload"])
        header = bytes.fromhex(vector["header"])
        where = f"frame {vector['name']!r}"
        if not vector["decodeOnly"]:
            try:
                encoded = fmt.header(len(payload))
            except FrameError as error:
                failures.append(f"{where}: {error}")
                continue
            if encoded != header:
                failures.append(f"{where}: struct wrote {encoded.hex()}, the vector says {header.hex()}")
            counts["encoded"] += 1
        for how, chunks in splits(header + payload, None):
            payloads, end = decode_all(fmt, chunks)
            if end != "clean" or payloads != [payload]:
                failures.append(f"{where} fed {how}: decoded {len(payloads)} payloads, then {end}")
                break
        counts["decoded"] += 1

    for vector in vectors["refusals"]:
        fmt = Format(vector["lengthField"], vector["lengthIncludesHeader"])
        try:
            fmt.header(vector["payloadLength"], vector["maxFrameSize"])
            failures.append(f"refusal {vector['name']!r}: struct's encoder took it")
        except FrameError as error:
            if error.kind != vector["error"]:
                failures.append(f"refusal {vector['name']!r}: {error.kind}, the vector says {vector['error']}")
        counts["refusals"] += 1

    for vector in vectors["streams"]:
        fmt = Format(vector["lengthField"], vector["lengthIncludesHeader"], vector["maxFrameSize"])
        data = b"".join(vector_bytes(item) for item in vector["input"])
        expected = [vector_bytes(item) for item in vector["payloads"]]
        for how, chunks in splits(data, vector["reads"]):
            payloads, end = decode_all(fmt, chunks)
            if payloads != expected or end != vector["end"]:
                failures.append(
                    f"stream {vector['name']!r} fed {how}: {len(payloads)} payloads then {end}, "
                    f"the vector says {len(expected)} then {vector['end']}"
                    + ("" if payloads == expected[: len(payloads)] else " (payloads differ)")
                )
                break
        counts["streams"] += 1

    for failure in failures:
        log(failure)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items())
    if failures:
        log(f"{len(failures)} mismatches ({summary})")
        return 1
    print(f"vectors agree with peer.py (struct): {summary}", flush=True)
    return 0


# ---------------------------------------------------------------- command line


def main(argv):
    args = list(argv)
    length_field = "u32be"
    includes_header = False
    max_frame_size = None
    port = None
    messages_file = None
    vectors_file = None
    positionals = []
    while args:
        arg = args.pop(0)
        if arg == "--length-field":
            length_field = args.pop(0)
        elif arg == "--length-includes-header":
            includes_header = True
        elif arg == "--max-frame-size":
            max_frame_size = int(args.pop(0))
        elif arg == "--port":
            port = int(args.pop(0))
        elif arg == "--messages":
            messages_file = args.pop(0)
        elif arg == "--check-vectors":
            vectors_file = args.pop(0)
        elif arg == "--":
            positionals.extend(args)
            break
        elif arg.startswith("--"):
            raise SystemExit(f"peer.py: unknown flag {arg}\n{__doc__}")
        else:
            positionals.append(arg)
    if vectors_file is not None:
        return check_vectors(vectors_file)
    if not positionals or positionals[0] not in ("server", "client"):
        raise SystemExit(__doc__)
    fmt = Format(length_field, includes_header, max_frame_size)
    if positionals[0] == "server":
        return run_server(fmt)
    if port is None:
        raise SystemExit("peer.py: client needs --port")
    if messages_file is not None:
        messages, replies = load_messages(messages_file)
    else:
        messages, replies = [text.encode("utf-8") for text in positionals[1:]], None
    return run_client(fmt, port, messages, replies)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
