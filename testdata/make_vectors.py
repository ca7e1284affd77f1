#!/usr/bin/env python3
# Copyright 2026 the buffered-framing authors. MIT license.
"""Writes testdata/vectors.json: language-neutral test vectors for the
length-field formats of the framing library.

This is an independent implementation of the formats (struct for the fixed
widths, a hand-written unsigned LEB128 for varint); it never calls the library
under test. Python 3 standard library only. The output is deterministic: run
it twice and the file does not change.

    python3 testdata/make_vectors.py
"""

import json
import os
import struct

U32_MAX = 2**32 - 1
MIB = 1024 * 1024
DEFAULT_READER_LIMIT = 16 * MIB

# lengthField -> (struct format, header bytes, byte order); varint has none.
FIXED = {
    "u32be": (">I", 4, "big"),
    "u32le": ("<I", 4, "little"),
    "u16be": (">H", 2, "big"),
    "u16le": ("<H", 2, "little"),
    "u8": (">B", 1, "big"),
    "u64be": (">Q", 8, "big"),
    "u64le": ("<Q", 8, "little"),
}
FORMATS = ["u32be", "u32le", "u16be", "u16le", "u8", "u64be", "u64le", "varint"]

# Payloads at or below this many bytes are written as hex; longer ones as fills.
HEX_LIMIT = 300

TEXT = "Four score and seven years ago"
MULTIBYTE = "h\u00e9llo w\u00f6rld \u2713 \U0001f389"

DESCRIPTION = (
    "Test vectors for length-prefixed framing: [length field][payload]. "
    "Written by testdata/make_vectors.py (Python stdlib: struct for the fixed widths, a "
    "hand-written LEB128 for varint), never by the library under test; regenerate with "
    "`python3 testdata/make_vectors.py`. Keys are sorted; every array is sorted by name "
    "(formats by lengthField). "
    "BYTES: a byte string is either lowercase hex ('' is empty) or {\"fill\": \"<one byte as "
    "2 hex digits>\", \"count\": n} meaning that byte repeated n times. "
    "FORMATS: lengthField names the length field: u8, u16be, u16le, u32be, u32le, u64be, "
    "u64le are unsigned integers of headerBytes bytes in byteOrder ('big' or 'little'; 'big' "
    "for u8); varint (headerBytes null, byteOrder null) is unsigned LEB128 as in protobuf's "
    "delimited messages: 7 bits per byte, low group first, high bit set = more bytes follow; "
    "at most 5 bytes, value at most 2^32-1. maxPayload is the largest payload the field can "
    "declare, capped at 2^32-1 (u64, varint). lengthIncludesHeader (fixed widths only): the "
    "declared length counts the length field too (declared = headerBytes + payload bytes), so "
    "the largest payload is min(2^(8*headerBytes)-1-headerBytes, 2^32-1); a declared length "
    "below headerBytes is a CorruptFrameError. maxFrameSize always limits the payload; null "
    "means the default: for readers min(16 MiB, the largest payload), for encoders the "
    "largest payload. "
    "FRAMES: one frame each (name, lengthField, lengthIncludesHeader, payload, header, "
    "decodeOnly). An encoder given payload must produce exactly header followed by payload, "
    "unless decodeOnly is true (non-minimal varints: readers accept them, writers always write "
    "the minimal form); a reader fed header+payload, however it is split, must return payload "
    "and then a clean end. "
    "REFUSALS: an encoder given a payload of payloadLength bytes with this lengthField, "
    "lengthIncludesHeader and maxFrameSize (null = default) must refuse it with error (the "
    "name of the error class) before reading the payload's bytes. "
    "STREAMS: a byte stream fed to a reader with lengthField, lengthIncludesHeader and "
    "maxFrameSize (null = the reader's default). input is a list of byte strings; "
    "concatenated, they are the stream. reads is null (any split of the stream must give the "
    "same result; test every split point where the stream is small) or the byte counts of "
    "successive reads, summing to the stream's length. The reader must return exactly "
    "payloads, in order, then end: 'clean' (end of stream between frames), "
    "'IncompleteFrameError:header' or 'IncompleteFrameError:payload' (the stream ended inside "
    "a header or a payload), 'FrameTooLargeError' (a declared length above maxFrameSize, "
    "refused at the header without waiting for the payload; for a varint as soon as the "
    "groups read so far exceed it), or 'CorruptFrameError' (a length field that cannot be "
    "valid: includes-header length below headerBytes, a varint whose 5th byte has the high "
    "bit set or whose value exceeds 2^32-1; at a 5th byte that makes the value exceed 2^32-1 "
    "the error is CorruptFrameError, even though the value also exceeds maxFrameSize, unless "
    "the groups before it already exceeded maxFrameSize)."
)


# ---------------------------------------------------------------------------
# The formats, independently of the library
# ---------------------------------------------------------------------------


def header_bytes(field):
    return FIXED[field][1] if field in FIXED else None


def max_payload(field, includes=False):
    if field == "varint":
        return U32_MAX
    size = FIXED[field][1]
    return min(2 ** (8 * size) - 1 - (size if includes else 0), U32_MAX)


def leb128(value):
    """Minimal unsigned LEB128."""
    assert value >= 0
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def fixed(field, declared):
    fmt, _, _ = FIXED[field]
    return struct.pack(fmt, declared)


def header(field, includes, length):
    """The header an encoder writes for a payload of `length` bytes."""
    if field == "varint":
        assert not includes
        return leb128(length)
    return fixed(field, length + (FIXED[field][1] if includes else 0))


# ---------------------------------------------------------------------------
# Byte strings: bytes objects here, hex or fills in the JSON
# ---------------------------------------------------------------------------


class Fill:
    def __init__(self, byte, count):
        self.byte = byte
        self.count = count

    def __len__(self):
        return self.count

    def json(self):
        return {"count": self.count, "fill": "%02x" % self.byte}


def pattern(n, start=0):
    """n distinct-looking bytes, so a shifted read shows."""
    return bytes((start + i * 7) % 256 for i in range(n))


def payload_of(n, fill_byte=0x61):
    return pattern(n) if n <= HEX_LIMIT else Fill(fill_byte, n)


def enc(b):
    if isinstance(b, Fill):
        return b.json()
    return bytes(b).hex()


def chunks_concat(parts):
    """Merges adjacent hex parts, keeping fills apart."""
    out = []
    for part in parts:
        if isinstance(part, Fill):
            if part.count:
                out.append(part)
        elif part:
            if out and not isinstance(out[-1], Fill):
                out[-1] = out[-1] + bytes(part)
            else:
                out.append(bytes(part))
    return out


def total_len(parts):
    return sum(len(p) for p in parts)


def prefix(parts, n):
    """The first n bytes of a list of parts."""
    out = []
    for part in parts:
        if n <= 0:
            break
        if isinstance(part, Fill):
            out.append(Fill(part.byte, min(part.count, n)))
        else:
            out.append(part[:n])
        n -= len(part)
    return chunks_concat(out)


# ---------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------

frames = []
refusals = []
streams = []


def combos():
    """Every (lengthField, lengthIncludesHeader) a library accepts."""
    for field in FORMATS:
        yield field, False
        if field in FIXED:
            yield field, True


def label(field, includes):
    return field + (" includes-header" if includes else "")


def add_frame(name, field, includes, payload, hdr=None, decode_only=False):
    if hdr is None:
        hdr = header(field, includes, len(payload))
    frames.append(
        {
            "decodeOnly": decode_only,
            "header": hdr.hex(),
            "lengthField": field,
            "lengthIncludesHeader": includes,
            "name": name,
            "payload": enc(payload),
        }
    )


def add_refusal(name, field, includes, max_frame_size, payload_length):
    refusals.append(
        {
            "error": "FrameTooLargeError",
            "lengthField": field,
            "lengthIncludesHeader": includes,
            "maxFrameSize": max_frame_size,
            "name": name,
            "payloadLength": payload_length,
        }
    )


def add_stream(name, field, includes, parts, payloads, end, max_frame_size=None, reads=None):
    parts = chunks_concat(parts)
    if reads is not None:
        assert sum(reads) == total_len(parts), name
        assert all(r > 0 for r in reads), name
    assert end in (
        "clean",
        "IncompleteFrameError:header",
        "IncompleteFrameError:payload",
        "FrameTooLargeError",
        "CorruptFrameError",
    )
    streams.append(
        {
            "end": end,
            "input": [enc(p) for p in parts],
            "lengthField": field,
            "lengthIncludesHeader": includes,
            "maxFrameSize": max_frame_size,
            "name": name,
            "payloads": [enc(p) for p in payloads],
            "reads": reads,
        }
    )


def frame_parts(field, includes, payload):
    return [header(field, includes, len(payload)), payload]


def frames_parts(field, includes, *payloads):
    parts = []
    for payload in payloads:
        parts += frame_parts(field, includes, payload)
    return parts


# --- frames -----------------------------------------------------------------

for field, includes in combos():
    lab = label(field, includes)
    top = max_payload(field, includes)
    add_frame(lab + " empty", field, includes, b"")
    add_frame(lab + " one byte", field, includes, b"\x00")
    add_frame(lab + " text", field, includes, TEXT.encode("utf-8"))
    add_frame(lab + " multi-byte text", field, includes, MULTIBYTE.encode("utf-8"))
    for n in (127, 128, 16383, 16384):
        if n <= top:
            add_frame("%s %d bytes" % (lab, n), field, includes, payload_of(n))
    if top <= 65535:
        add_frame("%s largest payload (%d bytes)" % (lab, top), field, includes, payload_of(top, 0x62))
    if field in ("u32be", "u32le", "u64be", "u64le", "varint"):
        add_frame(lab + " 2 MiB", field, includes, Fill(0x61, 2 * MIB))

# The varint boundary the 2 MiB frame crosses, and the first 5-byte varint's header.
assert leb128(2 * MIB) == bytes([0x80, 0x80, 0x80, 0x01])
assert leb128(2 * MIB - 1) == bytes([0xFF, 0xFF, 0x7F])
add_frame("varint 2 MiB - 1", "varint", False, Fill(0x61, 2 * MIB - 1))
assert leb128(U32_MAX) == bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])

# Non-minimal varints: readers accept them, writers never write them.
for hdr, payload, what in (
    (bytes([0x80, 0x00]), b"", "0 in 2 bytes"),
    (bytes([0x80, 0x80, 0x00]), b"", "0 in 3 bytes"),
    (bytes([0x80, 0x80, 0x80, 0x80, 0x00]), b"", "0 in 5 bytes"),
    (bytes([0x81, 0x00]), b"\x2a", "1 in 2 bytes"),
    (bytes([0x81, 0x80, 0x00]), b"\x2a", "1 in 3 bytes"),
    (bytes([0x81, 0x80, 0x80, 0x80, 0x00]), b"\x2a", "1 in 5 bytes"),
    (bytes([0x9E, 0x80, 0x00]), TEXT.encode("utf-8"), "30 in 3 bytes"),
    (bytes([0xFF, 0x80, 0x00]), pattern(127), "127 in 3 bytes"),
    (bytes([0x80, 0x81, 0x00]), pattern(128), "128 in 3 bytes"),
    (bytes([0x80, 0x81, 0x80, 0x80, 0x00]), pattern(128), "128 in 5 bytes"),
):
    # Check the hand-built header against the independent decoder below.
    assert len(hdr) <= 5 and hdr[-1] < 0x80
    value = sum((b & 0x7F) << (7 * i) for i, b in enumerate(hdr))
    assert value == len(payload) and leb128(value) != hdr
    add_frame("varint non-minimal " + what, "varint", False, payload, hdr, decode_only=True)

# --- refusals ---------------------------------------------------------------

for field, includes in combos():
    lab = label(field, includes)
    top = max_payload(field, includes)
    add_refusal("%s one over the largest payload (%d bytes)" % (lab, top + 1), field, includes, None, top + 1)
    add_refusal(lab + " over maxFrameSize 10", field, includes, 10, 11)
    add_refusal(lab + " over maxFrameSize 0", field, includes, 0, 1)
    if top > 1000:
        add_refusal(lab + " over maxFrameSize 1000", field, includes, 1000, 1001)
    if top > 70000:
        add_refusal(lab + " over maxFrameSize 65536", field, includes, 65536, 65537)

# --- streams ----------------------------------------------------------------

A = pattern(200, 1)  # 2-byte varint header
B = pattern(150, 3)  # 2-byte varint header
T = TEXT.encode("utf-8")
M = MULTIBYTE.encode("utf-8")
TAIL = b"abc"  # bytes after a refused header: a reader must not wait for more

for field, includes in combos():
    lab = label(field, includes)
    h = header_bytes(field)
    default_limit = min(DEFAULT_READER_LIMIT, max_payload(field, includes))

    add_stream(lab + " empty stream", field, includes, [], [], "clean")
    add_stream(lab + " one frame then a clean end", field, includes, frame_parts(field, includes, T), [T], "clean")
    add_stream(
        lab + " four frames",
        field,
        includes,
        frames_parts(field, includes, b"", b"\x00", T, M),
        [b"", b"\x00", T, M],
        "clean",
    )
    parts = frames_parts(field, includes, b"", b"\x00", T, M, A, b"")
    add_stream(
        lab + " six frames in one read",
        field,
        includes,
        parts,
        [b"", b"\x00", T, M, A, b""],
        "clean",
        reads=[total_len(parts)],
    )

    # Every header byte in its own read, then the second header cut after its first byte.
    ha = len(header(field, includes, len(A)))
    hb = len(header(field, includes, len(B)))
    reads = [1] * ha + [len(A) + 1] + ([hb - 1 + len(B)] if hb > 1 else [len(B)])
    add_stream(
        lab + " headers split across reads",
        field,
        includes,
        frames_parts(field, includes, A, B),
        [A, B],
        "clean",
        reads=reads,
    )
    # Each read ends one byte into the next frame's header.
    parts = frames_parts(field, includes, T, M, A)
    sizes = [total_len(frame_parts(field, includes, p)) for p in (T, M, A)]
    reads = [sizes[0] + 1, sizes[1], sizes[2] - 1]
    add_stream(lab + " reads ending one byte into a header", field, includes, parts, [T, M, A], "clean", reads=reads)

    # The end inside a header (a 1-byte header cannot be cut).
    if field == "varint":
        add_stream(lab + " end inside the header", field, includes, frame_parts(field, includes, T) + [b"\xc8"], [T], "IncompleteFrameError:header")
        add_stream(lab + " end inside the first header", field, includes, [b"\x80"], [], "IncompleteFrameError:header")
        add_stream(lab + " end after 4 continuation bytes", field, includes, [b"\xff\xff\xff\x87"], [], "IncompleteFrameError:header")
    elif h > 1:
        next_header = header(field, includes, len(M))
        add_stream(lab + " end inside the header", field, includes, frame_parts(field, includes, T) + [next_header[: h - 1]], [T], "IncompleteFrameError:header")
        add_stream(lab + " end after the first header byte", field, includes, [next_header[:1]], [], "IncompleteFrameError:header")

    # The end inside a payload.
    add_stream(
        lab + " end inside the payload",
        field,
        includes,
        frame_parts(field, includes, T) + [header(field, includes, len(M)), M[:10]],
        [T],
        "IncompleteFrameError:payload",
    )
    add_stream(lab + " end right after a header", field, includes, [header(field, includes, len(T))], [], "IncompleteFrameError:payload")
    add_stream(lab + " end one byte short", field, includes, [header(field, includes, len(T)), T[:-1]], [], "IncompleteFrameError:payload")

    # maxFrameSize: a payload at the limit is read, one over it is refused at the header.
    for limit in (0, 10, 100):
        if limit >= default_limit:
            continue
        at = pattern(limit, 5)
        add_stream(
            "%s payload at maxFrameSize %d" % (lab, limit),
            field,
            includes,
            frame_parts(field, includes, at) + frame_parts(field, includes, b""),
            [at, b""],
            "clean",
            max_frame_size=limit,
        )
        add_stream(
            "%s declared length over maxFrameSize %d" % (lab, limit),
            field,
            includes,
            frame_parts(field, includes, T[:limit]) + [header(field, includes, limit + 1), TAIL],
            [T[:limit]],
            "FrameTooLargeError",
            max_frame_size=limit,
        )
    if default_limit < max_payload(field, includes):
        add_stream(
            "%s declared length over the default maxFrameSize (%d)" % (lab, default_limit),
            field,
            includes,
            frame_parts(field, includes, T) + [header(field, includes, default_limit + 1), TAIL],
            [T],
            "FrameTooLargeError",
        )

    # An includes-header length below the header's size.
    if includes:
        for declared in sorted({0, h - 1}):
            add_stream(
                "%s corrupt declared length %d" % (lab, declared),
                field,
                includes,
                [fixed(field, declared), TAIL],
                [],
                "CorruptFrameError",
            )
            add_stream(
                "%s corrupt declared length %d after a frame" % (lab, declared),
                field,
                includes,
                frame_parts(field, includes, T) + [fixed(field, declared), TAIL],
                [T],
                "CorruptFrameError",
            )
        # Declared exactly the header's size: an empty payload, fine.
        add_stream(lab + " declared length equal to the header size", field, includes, [fixed(field, h), fixed(field, h)], [b"", b""], "clean")

    # Big frames: a few explicit splits (the test also tries a few of its own).
    if field in ("u32be", "u32le", "u64be", "u64le", "varint"):
        big = Fill(0x61, 2 * MIB)
        hdr = header(field, includes, 2 * MIB)
        parts = frame_parts(field, includes, big) + frame_parts(field, includes, T)
        n = total_len(parts)
        add_stream(lab + " 2 MiB frame then a short one", field, includes, parts, [big, T], "clean")
        add_stream(
            lab + " 2 MiB frame in uneven reads",
            field,
            includes,
            parts,
            [big, T],
            "clean",
            reads=[1, len(hdr) - 1 + 65535, MIB, n - 1 - (len(hdr) - 1 + 65535) - MIB],
        )
        add_stream(lab + " 2 MiB frame cut in the middle", field, includes, [hdr, Fill(0x61, MIB)], [], "IncompleteFrameError:payload")
        add_stream(lab + " 2 MiB frame one byte short", field, includes, [hdr, Fill(0x61, 2 * MIB - 1)], [], "IncompleteFrameError:payload")

# u64: a high word set is refused at the header, whatever the limit.
for field in ("u64be", "u64le"):
    for includes in (False, True):
        lab = label(field, includes)
        for declared, what in ((2**32, "2^32"), (2**32 + 8, "2^32 + 8"), (2**64 - 1, "2^64 - 1"), (2**63, "2^63")):
            if declared - (8 if includes else 0) <= U32_MAX:
                continue  # a payload the limit allows: not a refusal
            for limit in (None, U32_MAX):
                add_stream(
                    "%s declared %s with maxFrameSize %s" % (lab, what, "default" if limit is None else limit),
                    field,
                    includes,
                    frame_parts(field, includes, T) + [fixed(field, declared), TAIL],
                    [T],
                    "FrameTooLargeError",
                    max_frame_size=limit,
                )

# varint: over the limit, refused as soon as the groups read so far exceed it.
V = "varint"
add_stream("varint 16 MiB + 1 over the default maxFrameSize", V, False, [leb128(DEFAULT_READER_LIMIT + 1), TAIL], [], "FrameTooLargeError")
assert leb128(DEFAULT_READER_LIMIT) == bytes([0x80, 0x80, 0x80, 0x08])
add_stream("varint 16 MiB exactly, cut in the payload", V, False, [leb128(DEFAULT_READER_LIMIT), TAIL], [], "IncompleteFrameError:payload")
add_stream("varint partial value over maxFrameSize 100, then the end", V, False, [b"\xff"], [], "FrameTooLargeError", max_frame_size=100)
add_stream("varint partial value over maxFrameSize 100, more to come", V, False, [b"\xe5\x80\x80\x00", TAIL], [], "FrameTooLargeError", max_frame_size=100)
add_stream("varint partial value at maxFrameSize 127, then the end", V, False, [b"\xff"], [], "IncompleteFrameError:header", max_frame_size=127)
add_stream("varint partial value over the default maxFrameSize, then the end", V, False, [b"\x80\x80\x80\x90"], [], "FrameTooLargeError")
add_stream("varint 2^32 - 1 over the default maxFrameSize", V, False, [leb128(U32_MAX), TAIL], [], "FrameTooLargeError")
add_stream("varint 128 non-minimal over maxFrameSize 127", V, False, [b"\x80\x81\x80\x00", TAIL], [], "FrameTooLargeError", max_frame_size=127)
add_stream(
    "varint non-minimal headers",
    V,
    False,
    [b"\x80\x00", b"\x81\x80\x00\x2a", b"\x80\x80\x80\x80\x00", b"\x9e\x80\x00", T],
    [b"", b"\x2a", b"", T],
    "clean",
)

# varint: longer than 5 bytes, or above 2^32 - 1, is corrupt.
add_stream("varint 6 bytes: 5 continuation bytes then 00", V, False, [b"\x80\x80\x80\x80\x80\x00", TAIL], [], "CorruptFrameError")
add_stream("varint 6 bytes of 80", V, False, [b"\x80" * 6, TAIL], [], "CorruptFrameError")
add_stream("varint 5th byte with continuation, then the end", V, False, [b"\x80\x80\x80\x80\x80"], [], "CorruptFrameError")
add_stream("varint 5th byte with continuation after a frame", V, False, frame_parts(V, False, T) + [b"\x80\x80\x80\x80\x81\x00", TAIL], [T], "CorruptFrameError")
for limit in (None, U32_MAX):
    what = "default" if limit is None else str(limit)
    add_stream("varint 2^32 in 5 bytes with maxFrameSize " + what, V, False, [b"\x80\x80\x80\x80\x10", TAIL], [], "CorruptFrameError", max_frame_size=limit)
    add_stream("varint 5th byte 7f with maxFrameSize " + what, V, False, [b"\x80\x80\x80\x80\x7f", TAIL], [], "CorruptFrameError", max_frame_size=limit)
add_stream("varint 5 bytes ff ff ff ff 1f with maxFrameSize 4294967295", V, False, [b"\xff\xff\xff\xff\x1f", TAIL], [], "CorruptFrameError", max_frame_size=U32_MAX)
add_stream("varint 5 bytes ff ff ff ff 8f with maxFrameSize 4294967295", V, False, [b"\xff\xff\xff\xff\x8f\x00", TAIL], [], "CorruptFrameError", max_frame_size=U32_MAX)

# The 2 MiB varint frame cut after each of its 4 header bytes.
hdr = leb128(2 * MIB)
for k in range(1, 5):
    add_stream(
        "varint 2 MiB frame cut after %d header byte%s" % (k, "" if k == 1 else "s"),
        V,
        False,
        [hdr[:k]],
        [],
        "IncompleteFrameError:header" if k < 4 else "IncompleteFrameError:payload",
    )

# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def check_unique(items, key):
    names = [item[key] for item in items]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    return sorted(items, key=lambda item: item[key])


formats = [
    {
        "byteOrder": FIXED[f][2] if f in FIXED else None,
        "headerBytes": header_bytes(f),
        "lengthField": f,
        "maxPayload": max_payload(f),
    }
    for f in FORMATS
]

document = {
    "description": DESCRIPTION,
    "formats": check_unique(formats, "lengthField"),
    "frames": check_unique(frames, "name"),
    "refusals": check_unique(refusals, "name"),
    "streams": check_unique(streams, "name"),
    "version": 1,
}

text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
with open(path, "w", encoding="utf-8", newline="\n") as out:
    out.write(text)
print(
    "wrote %s: %d formats, %d frames, %d refusals, %d streams, %d bytes"
    % (path, len(formats), len(frames), len(refusals), len(streams), len(text))
)
