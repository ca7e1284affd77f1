// Copyright 2026 the buffered-framing authors. MIT license.
//
// An independent peer of the length-prefixed protocol on Netty 4.1's own codecs:
// LengthFieldPrepender + LengthFieldBasedFrameDecoder for the fixed widths,
// ProtobufVarint32LengthFieldPrepender + ProtobufVarint32FrameDecoder for varint.
// Compiled at test time against Debian's libnetty-java (4.1.48); nothing but the JDK
// and Netty.
//
//   java NettyPeer server [FORMAT] [--max-frame-size N]
//       Binds 127.0.0.1, port 0, prints "listening on 127.0.0.1:PORT", answers each
//       frame with its text minus the first 10 characters (code points), until its
//       standard input ends (or SIGTERM). Text that is not UTF-8 ends the connection.
//   java NettyPeer client --port PORT [FORMAT] (--messages FILE | MESSAGE...)
//       Writes every message, flushes once (pipelined), checks each reply byte for
//       byte, prints "N replies match" and exits 0; exits 1 naming the first
//       difference otherwise.
//   java NettyPeer --check-vectors FILE
//       Encodes each frame of the conformance vectors with Netty's prepender and
//       compares it with the vector's header and payload; decodes every frame,
//       refusal and stream with Netty's decoder (EmbeddedChannel), one chunk a read.
//
// FORMAT: --length-field NAME (u32be, the default, u32le, u16be, u16le, u8, u64be,
// u64le, varint) and --length-includes-header (fixed widths only). A messages FILE
// is JSON as for peer.py: {"messages": [M...], "replies": [M...]} or a list of M;
// M is a string (sent as UTF-8), {"hex": "..."} or {"fill": "61", "count": N}.

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public final class NettyPeer {
  static final int SKIPPED = 10;
  static final long DEFAULT_MAX_FRAME_SIZE = 16L * 1024 * 1024;
  static final long LARGEST = (1L << 32) - 1;

  /** A length field: its width in bytes (0 for varint), byte order, and whether it counts itself. */
  static final class Format {
    final String name;
    final int width;
    final ByteOrder order;
    final boolean includesHeader;

    Format(String name, boolean includesHeader) {
      this.name = name;
      switch (name) {
        case "u8": width = 1; order = ByteOrder.BIG_ENDIAN; break;
        case "u16be": width = 2; order = ByteOrder.BIG_ENDIAN; break;
        case "u16le": width = 2; order = ByteOrder.LITTLE_ENDIAN; break;
        case "u32be": width = 4; order = ByteOrder.BIG_ENDIAN; break;
        case "u32le": width = 4; order = ByteOrder.LITTLE_ENDIAN; break;
        case "u64be": width = 8; order = ByteOrder.BIG_ENDIAN; break;
        case "u64le": width = 8; order = ByteOrder.LITTLE_ENDIAN; break;
        case "varint": width = 0; order = null; break;
        default: throw new Usage("unknown --length-field " + name);
      }
      if (includesHeader && width == 0) {
        throw new Usage("--length-includes-header is for the fixed widths only");
      }
      this.includesHeader = includesHeader;
    }

    /** The largest payload the field can declare, capped at 2^32 - 1 as the library's are. */
    long largestPayload() {
      if (width == 0 || width == 8) return LARGEST;
      return Math.min(LARGEST, (1L << (8 * width)) - 1 - (includesHeader ? width : 0));
    }

    /** The readers' default limit: 16 MiB, or less for a smaller field. */
    long defaultMaxFrameSize() {
      return Math.min(DEFAULT_MAX_FRAME_SIZE, largestPayload());
    }

    ChannelHandler prepender() {
      if (width == 0) return new ProtobufVarint32LengthFieldPrepender();
      return new LengthFieldPrepender(order, width, 0, includesHeader);
    }

    /** Netty's decoder, refusing payloads above `maxPayload` (varint: no limit in Netty). */
    Decoder decoder(long maxPayload) {
      if (width == 0) return new VarintDecoder();
      int maxFrameLength = (int) Math.min(Integer.MAX_VALUE, maxPayload + width);
      return new FixedDecoder(order, maxFrameLength, width, includesHeader ? -width : 0);
    }

    String describe() {
      return name + (includesHeader ? " including its header" : "");
    }
  }

  /** A decoder whose buffered, not yet decoded bytes can be counted. */
  interface Decoder extends ChannelHandler {
    int pending();
  }

  static final class FixedDecoder extends LengthFieldBasedFrameDecoder implements Decoder {
    FixedDecoder(ByteOrder order, int maxFrameLength, int width, int adjustment) {
      super(order, maxFrameLength, 0, width, adjustment, width, true);
    }

    public int pending() {
      return actualReadableBytes();
    }
  }

  static final class VarintDecoder extends ProtobufVarint32FrameDecoder implements Decoder {
    public int pending() {
      return actualReadableBytes();
    }
  }

  static final class Usage extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Usage(String message) {
      super(message);
    }
  }

  static void log(String message) {
    System.err.println("NettyPeer: " + message);
    System.err.flush();
  }

  /** The demo rule: the text minus its first 10 code points; throws when not UTF-8. */
  static byte[] demoReply(ByteBuf payload) throws CharacterCodingException {
    String text = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(payload.nioBuffer())
        .toString();
    int points = text.codePointCount(0, text.length());
    int cut = points <= SKIPPED ? text.length() : text.offsetByCodePoints(0, SKIPPED);
    return text.substring(cut).getBytes(StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------ server

  static final class DemoHandler extends SimpleChannelInboundHandler<ByteBuf> {
    int answered;

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf payload) {
      byte[] reply;
      try {
        reply = demoReply(payload);
      } catch (CharacterCodingException error) {
        log(ctx.channel().remoteAddress() + ": not UTF-8 (" + error + "); closing");
        ctx.close();
        return;
      }
      ctx.write(Unpooled.wrappedBuffer(reply));
      answered++;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      log(ctx.channel().remoteAddress() + " disconnected (" + answered + " frames answered)");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log(ctx.channel().remoteAddress() + ": " + cause + "; closing");
      ctx.close();
    }
  }

  static int server(Format format, long maxFrameSize) throws Exception {
    EventLoopGroup boss = new NioEventLoopGroup(1);
    EventLoopGroup workers = new NioEventLoopGroup(1);
    try {
      Channel listener = new ServerBootstrap()
          .group(boss, workers)
          .channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(format.decoder(maxFrameSize), format.prepender(), new DemoHandler());
            }
          })
          .bind("127.0.0.1", 0).sync().channel();
      int port = ((InetSocketAddress) listener.localAddress()).getPort();
      System.out.println("listening on 127.0.0.1:" + port);
      System.out.flush();
      // Runs until standard input ends: the test closes it to stop the server.
      byte[] sink = new byte[256];
      while (System.in.read(sink) != -1) {
        // Nothing is expected on standard input.
      }
      listener.close().sync();
      return 0;
    } finally {
      boss.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
      workers.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }
  }

  // ------------------------------------------------------------------ client

  static final class Checker extends SimpleChannelInboundHandler<ByteBuf> {
    final List<byte[]> replies;
    final CompletableFuture<String> outcome = new CompletableFuture<>();
    int received;

    Checker(List<byte[]> replies) {
      this.replies = replies;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf payload) {
      if (outcome.isDone()) return;
      if (received >= replies.size()) {
        fail(ctx, "an extra reply: " + replies.size() + " expected");
        return;
      }
      byte[] got = ByteBufUtil.getBytes(payload);
      byte[] expected = replies.get(received);
      if (!Arrays.equals(expected, got)) {
        fail(ctx, difference(received, replies.size(), expected, got));
        return;
      }
      if (++received == replies.size()) {
        outcome.complete(null);
        ctx.close();
      }
    }

    void fail(ChannelHandlerContext ctx, String why) {
      outcome.complete(why);
      ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      outcome.complete("the server closed the connection after " + received + " of "
          + replies.size() + " replies");
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      fail(ctx, "reply " + (received + 1) + " of " + replies.size() + ": " + cause);
    }
  }

  static String difference(int index, int count, byte[] expected, byte[] got) {
    int at = 0;
    while (at < expected.length && at < got.length && expected[at] == got[at]) at++;
    return "reply " + (index + 1) + " of " + count + " differs at byte " + at + ": expected "
        + expected.length + " bytes (" + around(expected, at) + " there), got " + got.length
        + " bytes (" + around(got, at) + " there)";
  }

  static String around(byte[] bytes, int at) {
    if (at >= bytes.length) return "end";
    return ByteBufUtil.hexDump(bytes, at, Math.min(16, bytes.length - at));
  }

  static int client(Format format, long maxFrameSize, int port, List<byte[]> messages,
      List<byte[]> replies) throws Exception {
    if (replies == null) {
      replies = new ArrayList<>();
      for (byte[] message : messages) replies.add(demoReply(Unpooled.wrappedBuffer(message)));
    }
    if (replies.size() != messages.size()) throw new Usage("as many replies as messages, please");
    for (int i = 0; i < messages.size(); i++) {
      byte[] own;
      try {
        own = demoReply(Unpooled.wrappedBuffer(messages.get(i)));
      } catch (CharacterCodingException notText) {
        continue;
      }
      if (!Arrays.equals(own, replies.get(i))) {
        log("the expected reply " + (i + 1) + " differs from this peer's rule");
        return 3;
      }
    }
    Checker checker = new Checker(replies);
    EventLoopGroup group = new NioEventLoopGroup(1);
    try {
      Channel channel = new Bootstrap()
          .group(group)
          .channel(NioSocketChannel.class)
          .option(ChannelOption.TCP_NODELAY, true)
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(format.decoder(maxFrameSize), format.prepender(), checker);
            }
          })
          .connect("127.0.0.1", port).sync().channel();
      if (messages.isEmpty()) checker.outcome.complete(null);
      for (byte[] message : messages) {
        channel.write(Unpooled.wrappedBuffer(message)).addListener(done -> {
          if (!done.isSuccess()) checker.outcome.complete("a write failed: " + done.cause());
        });
      }
      channel.flush();
      String failure = checker.outcome.get(60, TimeUnit.SECONDS);
      channel.close().sync();
      if (failure != null) {
        log(failure);
        return 1;
      }
      System.out.println(replies.size() + " replies match");
      return 0;
    } finally {
      group.shutdownGracefully(0, 100, TimeUnit.MILLISECONDS);
    }
  }

  // ------------------------------------------------------------------ vectors

  /** What a decoder made of a stream: the payloads, then "clean" or the vectors' name for its error. */
  static final class Decoded {
    final List<byte[]> payloads = new ArrayList<>();
    String end;
    String error;
  }

  /** Feeds `chunks` to Netty's decoder, one a read (EmbeddedChannel), and names how it ended. */
  static Decoded decode(Format format, long maxPayload, List<byte[]> chunks) {
    Decoder decoder = format.decoder(maxPayload);
    EmbeddedChannel channel = new EmbeddedChannel(decoder);
    Decoded decoded = new Decoded();
    try {
      for (byte[] chunk : chunks) {
        channel.writeInbound(Unpooled.wrappedBuffer(chunk));
        drain(channel, decoded);
      }
      // Netty leaves a cut frame in its buffer, whether the cut is in the header or the payload.
      decoded.end = decoder.pending() > 0 ? "IncompleteFrameError" : "clean";
    } catch (TooLongFrameException error) {
      drain(channel, decoded);
      decoded.end = "FrameTooLargeError";
      decoded.error = error.getMessage();
    } catch (CorruptedFrameException error) {
      drain(channel, decoded);
      decoded.end = "CorruptFrameError";
      decoded.error = error.getMessage();
    } catch (RuntimeException error) {
      drain(channel, decoded);
      decoded.end = "an unexpected " + error;
      decoded.error = error.toString();
    } finally {
      try {
        channel.finishAndReleaseAll();
      } catch (RuntimeException atClose) {
        // The decoder's last look at a refused stream, at close: already reported.
      }
    }
    return decoded;
  }

  static void drain(EmbeddedChannel channel, Decoded decoded) {
    for (ByteBuf frame; (frame = channel.readInbound()) != null;) {
      decoded.payloads.add(ByteBufUtil.getBytes(frame));
      frame.release();
    }
  }

  /** Below this many bytes, every split point of a stream is tried. */
  static final int SMALL_STREAM = 300;

  /** The ways to feed `data`: as the vector's reads, or whole, a byte a read and every split in two. */
  static Map<String, List<byte[]>> splits(byte[] data, Object reads) {
    Map<String, List<byte[]>> out = new LinkedHashMap<>();
    if (reads instanceof List) {
      List<byte[]> chunks = new ArrayList<>();
      int offset = 0;
      for (Object count : (List<?>) reads) {
        int n = ((Number) count).intValue();
        chunks.add(Arrays.copyOfRange(data, offset, offset + n));
        offset += n;
      }
      out.put("the vector's reads", chunks);
      return out;
    }
    out.put("whole", List.of(data));
    if (data.length <= SMALL_STREAM) {
      List<byte[]> bytes = new ArrayList<>();
      for (int i = 0; i < data.length; i++) bytes.add(Arrays.copyOfRange(data, i, i + 1));
      out.put("a byte a read", bytes);
      for (int cut = 1; cut < data.length; cut++) {
        out.put("split at " + cut, List.of(Arrays.copyOfRange(data, 0, cut),
            Arrays.copyOfRange(data, cut, data.length)));
      }
    }
    return out;
  }

  static byte[] encode(Format format, byte[] payload) {
    EmbeddedChannel channel = new EmbeddedChannel(format.prepender());
    try {
      channel.writeOutbound(Unpooled.wrappedBuffer(payload));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (ByteBuf part; (part = channel.readOutbound()) != null;) {
        out.writeBytes(ByteBufUtil.getBytes(part));
        part.release();
      }
      return out.toByteArray();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  static byte[] vectorBytes(Object item) {
    if (item instanceof String) return ByteBufUtil.decodeHexDump((String) item);
    Map<?, ?> fill = (Map<?, ?>) item;
    byte[] out = new byte[((Number) fill.get("count")).intValue()];
    Arrays.fill(out, ByteBufUtil.decodeHexDump((String) fill.get("fill"))[0]);
    return out;
  }

  static byte[] joined(Object items) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Object item : list(items)) out.writeBytes(vectorBytes(item));
    return out.toByteArray();
  }

  static List<byte[]> vectorList(Object items) {
    List<byte[]> out = new ArrayList<>();
    for (Object item : list(items)) out.add(vectorBytes(item));
    return out;
  }

  static boolean flag(Map<?, ?> vector, String name) {
    return Boolean.TRUE.equals(vector.get(name));
  }

  /** The vector's maxFrameSize; null is the readers' default, 16 MiB or less for a smaller field. */
  static long maxFrameSize(Map<?, ?> vector, Format format) {
    Object limit = vector.get("maxFrameSize");
    return limit instanceof Number
        ? ((Number) limit).longValue()
        : Math.min(DEFAULT_MAX_FRAME_SIZE, format.largestPayload());
  }

  static boolean samePayloads(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) return false;
    for (int i = 0; i < a.size(); i++) if (!Arrays.equals(a.get(i), b.get(i))) return false;
    return true;
  }

  /**
   * Why Netty's own codec, as it is, cannot meet a stream vector, or null when it can: the
   * differences are Netty's, documented here rather than worked around.
   */
  static String nettyDiffers(Format format, Map<?, ?> vector, Decoded decoded, byte[] data) {
    String expected = (String) vector.get("end");
    if (format.width == 0 && expected.equals("FrameTooLargeError")) {
      return "ProtobufVarint32FrameDecoder has no frame size limit";
    }
    if (format.width == 8 && expected.equals("FrameTooLargeError")
        && "CorruptFrameError".equals(decoded.end) && decoded.error.contains("negative")) {
      return "LengthFieldBasedFrameDecoder reads a 64-bit length as signed: 2^63 and above are"
          + " 'negative', a CorruptedFrameException";
    }
    if (format.width == 0 && expected.equals("CorruptFrameError") && wrapsAround(data)) {
      return "ProtobufVarint32FrameDecoder shifts a 5th varint byte left by 28 in an int, dropping"
          + " its bits above 2^32 (80 80 80 80 10 reads as 0)";
    }
    return null;
  }

  /** Whether `data` holds a 5-byte varint whose 5th byte Netty's 32-bit shift truncates to a non-negative int. */
  static boolean wrapsAround(byte[] data) {
    for (int i = 0; i + 4 < data.length; i++) {
      boolean continued = true;
      for (int j = i; j < i + 4; j++) continued &= (data[j] & 0x80) != 0;
      int fifth = data[i + 4] & 0xff;
      if (continued && fifth < 0x80 && fifth >= 0x10 && (fifth & 0x08) == 0) return true;
    }
    return false;
  }

  static int checkVectors(Path file) throws IOException {
    Map<?, ?> vectors = (Map<?, ?>) Json.parse(Files.readString(file));
    List<String> failures = new ArrayList<>();
    Map<String, Integer> differences = new LinkedHashMap<>(); // why -> how many vectors
    int encoded = 0;
    int decodedFrames = 0;
    int refusals = 0;
    int streams = 0;

    for (Object entry : list(vectors.get("frames"))) {
      Map<?, ?> vector = (Map<?, ?>) entry;
      Format format = new Format((String) vector.get("lengthField"), flag(vector, "lengthIncludesHeader"));
      String where = "frame '" + vector.get("name") + "'";
      byte[] payload = vectorBytes(vector.get("payload"));
      byte[] whole = concat(ByteBufUtil.decodeHexDump((String) vector.get("header")), payload);
      if (!flag(vector, "decodeOnly")) {
        try {
          byte[] got = encode(format, payload);
          if (!Arrays.equals(got, whole)) {
            failures.add(where + ": Netty wrote " + around(got, 0) + ", the vector says " + around(whole, 0));
          }
          encoded++;
        } catch (RuntimeException error) {
          failures.add(where + ": Netty's prepender refused it: " + error);
        }
      }
      for (Map.Entry<String, List<byte[]>> split : splits(whole, null).entrySet()) {
        Decoded decoded = decode(format, format.largestPayload(), split.getValue());
        if (!"clean".equals(decoded.end) || !samePayloads(decoded.payloads, List.of(payload))) {
          failures.add(where + " fed " + split.getKey() + ": Netty decoded " + decoded.payloads.size()
              + " payloads, then " + decoded.end);
          break;
        }
      }
      decodedFrames++;
    }

    for (Object entry : list(vectors.get("refusals"))) {
      Map<?, ?> vector = (Map<?, ?>) entry;
      Format format = new Format((String) vector.get("lengthField"), flag(vector, "lengthIncludesHeader"));
      String where = "refusal '" + vector.get("name") + "'";
      long length = ((Number) vector.get("payloadLength")).longValue();
      if (vector.get("maxFrameSize") != null) {
        differences.merge("refusals of a maxFrameSize: LengthFieldPrepender has no limit but the field's", 1, Integer::sum);
        continue;
      }
      if (length > 1 << 20) {
        differences.merge("refusals of payloads over 1 MiB (not allocated for Netty's prepender)", 1, Integer::sum);
        continue;
      }
      try {
        encode(format, new byte[(int) length]);
        failures.add(where + ": Netty's prepender took a payload of " + length + " bytes");
      } catch (RuntimeException refused) {
        // Netty: "length does not fit into a byte" (or a short): the field's own limit.
      }
      refusals++;
    }

    for (Object entry : list(vectors.get("streams"))) {
      Map<?, ?> vector = (Map<?, ?>) entry;
      Format format = new Format((String) vector.get("lengthField"), flag(vector, "lengthIncludesHeader"));
      String where = "stream '" + vector.get("name") + "'";
      byte[] data = joined(vector.get("input"));
      List<byte[]> expected = vectorList(vector.get("payloads"));
      String end = (String) vector.get("end");
      // Netty does not say whether a cut came in a header or a payload.
      String expectedEnd = end.startsWith("IncompleteFrameError") ? "IncompleteFrameError" : end;
      boolean counted = true;
      for (Map.Entry<String, List<byte[]>> split : splits(data, vector.get("reads")).entrySet()) {
        Decoded decoded = decode(format, maxFrameSize(vector, format), split.getValue());
        if (samePayloads(decoded.payloads, expected) && expectedEnd.equals(decoded.end)) continue;
        String differs = nettyDiffers(format, vector, decoded, data);
        if (differs != null) {
          differences.merge("streams: " + differs, 1, Integer::sum);
          counted = false;
        } else {
          failures.add(where + " fed " + split.getKey() + ": Netty decoded " + decoded.payloads.size()
              + " payloads, then " + decoded.end + (decoded.error == null ? "" : " (" + decoded.error + ")")
              + "; the vector says " + expected.size() + ", then " + end);
        }
        break;
      }
      if (counted) streams++;
    }

    int notChecked = 0;
    for (Map.Entry<String, Integer> why : differences.entrySet()) {
      log("not checked, " + why.getValue() + " " + why.getKey());
      notChecked += why.getValue();
    }
    for (String line : failures) log(line);
    String summary = encoded + " encoded, " + decodedFrames + " decoded, " + refusals + " refusals, "
        + streams + " streams; " + notChecked + " not checked (Netty's own limits)";
    if (!failures.isEmpty()) {
      log(failures.size() + " mismatches (" + summary + ")");
      return 1;
    }
    System.out.println("vectors agree with Netty: " + summary);
    return 0;
  }

  static List<?> list(Object value) {
    return value instanceof List ? (List<?>) value : List.of();
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  // ------------------------------------------------------------------ messages

  static byte[] messageBytes(Object item) {
    if (item instanceof String) return ((String) item).getBytes(StandardCharsets.UTF_8);
    Map<?, ?> map = (Map<?, ?>) item;
    if (map.get("hex") instanceof String) return ByteBufUtil.decodeHexDump((String) map.get("hex"));
    byte[] unit = ByteBufUtil.decodeHexDump((String) map.get("fill"));
    int count = ((Number) map.get("count")).intValue();
    byte[] out = new byte[unit.length * count];
    for (int i = 0; i < count; i++) System.arraycopy(unit, 0, out, i * unit.length, unit.length);
    return out;
  }

  /** A small JSON reader: objects, arrays, strings, numbers, booleans and null. */
  static final class Json {
    final String text;
    int at;

    Json(String text) {
      this.text = text;
    }

    static Object parse(String text) {
      Json json = new Json(text);
      Object value = json.value();
      json.space();
      if (json.at != text.length()) throw json.error("trailing text");
      return value;
    }

    RuntimeException error(String what) {
      return new IllegalArgumentException("JSON: " + what + " at offset " + at);
    }

    void space() {
      while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
    }

    Object value() {
      space();
      if (at >= text.length()) throw error("unexpected end");
      char c = text.charAt(at);
      if (c == '{') {
        at++;
        Map<String, Object> map = new LinkedHashMap<>();
        space();
        if (text.charAt(at) == '}') {
          at++;
          return map;
        }
        while (true) {
          space();
          String key = string();
          space();
          expect(':');
          map.put(key, value());
          space();
          if (text.charAt(at) == ',') {
            at++;
            continue;
          }
          expect('}');
          return map;
        }
      }
      if (c == '[') {
        at++;
        List<Object> list = new ArrayList<>();
        space();
        if (text.charAt(at) == ']') {
          at++;
          return list;
        }
        while (true) {
          list.add(value());
          space();
          if (text.charAt(at) == ',') {
            at++;
            continue;
          }
          expect(']');
          return list;
        }
      }
      if (c == '"') return string();
      if (text.startsWith("true", at)) {
        at += 4;
        return Boolean.TRUE;
      }
      if (text.startsWith("false", at)) {
        at += 5;
        return Boolean.FALSE;
      }
      if (text.startsWith("null", at)) {
        at += 4;
        return null;
      }
      int start = at;
      while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
      String number = text.substring(start, at);
      if (number.isEmpty()) throw error("unexpected '" + c + "'");
      if (number.matches("-?\\d+")) {
        BigInteger big = new BigInteger(number);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
      }
      return Double.parseDouble(number);
    }

    void expect(char c) {
      if (at >= text.length() || text.charAt(at) != c) throw error("expected '" + c + "'");
      at++;
    }

    String string() {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (true) {
        if (at >= text.length()) throw error("unterminated string");
        char c = text.charAt(at++);
        if (c == '"') return out.toString();
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = text.charAt(at++);
        switch (e) {
          case 'b': out.append('\b'); break;
          case 'f': out.append('\f'); break;
          case 'n': out.append('\n'); break;
          case 'r': out.append('\r'); break;
          case 't': out.append('\t'); break;
          case 'u':
            out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
            at += 4;
            break;
          default: out.append(e);
        }
      }
    }
  }

  // ------------------------------------------------------------------ command line

  public static void main(String[] args) throws Exception {
    int status;
    try {
      status = run(args);
    } catch (Usage usage) {
      log(usage.getMessage());
      status = 2;
    }
    System.out.flush();
    System.exit(status);
  }

  static int run(String[] args) throws Exception {
    String lengthField = "u32be";
    boolean includesHeader = false;
    Long maxFrameSize = null;
    Integer port = null;
    String messagesFile = null;
    String vectorsFile = null;
    List<String> positionals = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--length-field": lengthField = args[++i]; break;
        case "--length-includes-header": includesHeader = true; break;
        case "--max-frame-size": maxFrameSize = Long.parseLong(args[++i]); break;
        case "--port": port = Integer.parseInt(args[++i]); break;
        case "--messages": messagesFile = args[++i]; break;
        case "--check-vectors": vectorsFile = args[++i]; break;
        case "--":
          positionals.addAll(Arrays.asList(args).subList(i + 1, args.length));
          i = args.length;
          break;
        default:
          if (arg.startsWith("--")) throw new Usage("unknown flag " + arg);
          positionals.add(arg);
      }
    }
    if (vectorsFile != null) return checkVectors(Path.of(vectorsFile));
    Format format = new Format(lengthField, includesHeader);
    long limit = maxFrameSize == null ? format.defaultMaxFrameSize() : maxFrameSize;
    String mode = positionals.isEmpty() ? "" : positionals.remove(0);
    if (mode.equals("server")) return server(format, limit);
    if (!mode.equals("client")) throw new Usage("usage: NettyPeer server|client [options]; see the source");
    if (port == null) throw new Usage("client needs --port");
    List<byte[]> messages = new ArrayList<>();
    List<byte[]> replies = null;
    if (messagesFile != null) {
      Object data = Json.parse(Files.readString(Path.of(messagesFile)));
      Map<?, ?> map = data instanceof List ? Map.of("messages", data) : (Map<?, ?>) data;
      for (Object item : list(map.get("messages"))) messages.add(messageBytes(item));
      if (map.get("replies") != null) {
        replies = new ArrayList<>();
        for (Object item : list(map.get("replies"))) replies.add(messageBytes(item));
      }
    } else {
      for (String text : positionals) messages.add(text.getBytes(StandardCharsets.UTF_8));
    }
    return client(format, limit, port, messages, replies);
  }
}
