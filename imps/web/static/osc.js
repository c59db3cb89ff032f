// OSC messages of float arguments as bytes, and back: all the page and a browser
// instrument need, so nothing is fetched from elsewhere (the page works offline).
"use strict";

function oscString(text) {
  const bytes = new TextEncoder().encode(text);
  const padded = new Uint8Array((bytes.length + 4) & ~3);  // at least one NUL, whole 4-byte words
  padded.set(bytes);
  return padded;
}

function oscMessage(address, args) {
  // args: numbers (sent as float32) or strings
  const tags = "," + args.map(a => (typeof a === "string" ? "s" : "f")).join("");
  const parts = [oscString(address), oscString(tags)];
  for (const a of args) {
    if (typeof a === "string") { parts.push(oscString(a)); continue; }
    const word = new DataView(new ArrayBuffer(4));
    word.setFloat32(0, a);
    parts.push(new Uint8Array(word.buffer));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out.buffer;
}

function readOscString(bytes, at) {
  let end = at;
  while (bytes[end] !== 0) end++;
  return [new TextDecoder().decode(bytes.subarray(at, end)), (end + 4) & ~3];
}

function parseOsc(buffer) {
  // {address, args} of a message of float arguments (what IMPS sends)
  const bytes = new Uint8Array(buffer);
  const view = new DataView(buffer);
  let [address, at] = readOscString(bytes, 0);
  let tags;
  [tags, at] = readOscString(bytes, at);
  const args = [];
  for (const tag of tags.slice(1)) {
    if (tag !== "f") return null;
    args.push(view.getFloat32(at));
    at += 4;
  }
  return {address, args};
}
