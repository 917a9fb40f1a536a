// SPDX-FileCopyrightText: 2026 The qbdi authors
// SPDX-License-Identifier: MIT
/*
 * qbdi_osc.js -- minimal OSC 1.0 encoder/decoder for Node (Node for Max and the tests).
 *
 * In Max, [udpsend]/[udpreceive] do this; Node code (qbdi_launcher.js, which pings the server
 * before Max's objects are involved, and the test harness that plays [udpsend]/[udpreceive])
 * needs its own. Encoding follows what [udpsend] does with a Max message: whole numbers that fit
 * an int32 become "i", other numbers "f" (float32), strings "s". Message layouts live in
 * qbdi_protocol.js, not here.
 */
"use strict";

function pad4(n) {
  return n + ((4 - (n % 4)) % 4);
}

function encodeString(s) {
  const bytes = Buffer.from(String(s), "utf8");
  const out = Buffer.alloc(pad4(bytes.length + 1));
  bytes.copy(out);
  return out;
}

/** Type tag Max's [udpsend] gives a JavaScript value. */
function maxTypeOf(value) {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= -2147483648 && value <= 2147483647 ? "i" : "f";
  }
  if (typeof value === "boolean") return "i";
  return "s";
}

/**
 * Encode one OSC message. `message` is [address, ...args]; `types` (optional) forces the tags,
 * e.g. "iifs". Returns a Buffer.
 */
function encode(message, types) {
  const [address, ...args] = message;
  const tags = types || args.map(maxTypeOf).join("");
  if (tags.length !== args.length) throw new Error("type tags do not match the arguments");
  const parts = [encodeString(address), encodeString("," + tags)];
  for (let i = 0; i < args.length; i++) {
    const t = tags[i];
    const a = args[i];
    if (t === "i") {
      const b = Buffer.alloc(4);
      b.writeInt32BE(typeof a === "boolean" ? Number(a) : Math.trunc(a));
      parts.push(b);
    } else if (t === "f") {
      const b = Buffer.alloc(4);
      b.writeFloatBE(Number(a));
      parts.push(b);
    } else if (t === "d") {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(a));
      parts.push(b);
    } else if (t === "h") {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(a));
      parts.push(b);
    } else if (t === "s") {
      parts.push(encodeString(a));
    } else {
      throw new Error(`unsupported OSC type tag '${t}'`);
    }
  }
  return Buffer.concat(parts);
}

function readString(buf, offset) {
  let end = offset;
  while (end < buf.length && buf[end] !== 0) end++;
  if (end >= buf.length) throw new Error("unterminated OSC string");
  return [buf.toString("utf8", offset, end), pad4(end + 1)];
}

/**
 * Decode one datagram into a list of messages [{address, args, types}] (a bundle gives several).
 * Float32 values are returned as JavaScript numbers exactly as received.
 */
function decode(buf) {
  if (buf.length >= 8 && buf.toString("ascii", 0, 8) === "#bundle\0") {
    const out = [];
    let off = 16;
    while (off + 4 <= buf.length) {
      const size = buf.readInt32BE(off);
      out.push(...decode(buf.subarray(off + 4, off + 4 + size)));
      off += 4 + size;
    }
    return out;
  }
  let [address, off] = readString(buf, 0);
  let types = "";
  if (off < buf.length && buf[off] === 44 /* , */) {
    let tagText;
    [tagText, off] = readString(buf, off);
    types = tagText.slice(1);
  }
  const args = [];
  for (const t of types) {
    switch (t) {
      case "i": args.push(buf.readInt32BE(off)); off += 4; break;
      case "f": args.push(buf.readFloatBE(off)); off += 4; break;
      case "d": args.push(buf.readDoubleBE(off)); off += 8; break;
      case "h": args.push(Number(buf.readBigInt64BE(off))); off += 8; break;
      case "s": case "S": { let s; [s, off] = readString(buf, off); args.push(s); break; }
      case "b": { const n = buf.readInt32BE(off); args.push(buf.subarray(off + 4, off + 4 + n)); off += pad4(4 + n); break; }
      case "T": args.push(true); break;
      case "F": args.push(false); break;
      case "N": args.push(null); break;
      case "I": args.push(Infinity); break;
      default: throw new Error(`unsupported OSC type tag '${t}'`);
    }
  }
  return [{ address, args, types }];
}

module.exports = { encode, decode, maxTypeOf };
