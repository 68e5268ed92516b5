/* The donor's proof, checked in the browser: written from PROTOCOL.md ("Canonical encoding",
   "Keys and identity", "Records", "Donor proof bundle"), trusting nothing the server says.
   Pure JavaScript (BigInt for the curve), no external asset; the page only gives the labels. */
"use strict";

const MaillonVerify = (() => {
  class Refused extends Error {
    constructor(reason, text) { super(text); this.reason = reason; }
  }

  // ---------------------------------------------------------------- hashes (FIPS 180-4)
  const K256 = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

  function pad(bytes, block, lengthBytes) {
    const total = Math.ceil((bytes.length + 1 + lengthBytes) / block) * block;
    const out = new Uint8Array(total);
    out.set(bytes);
    out[bytes.length] = 0x80;
    const bits = bytes.length * 8;
    const view = new DataView(out.buffer);
    view.setUint32(total - 4, bits >>> 0);
    view.setUint32(total - 8, Math.floor(bits / 2 ** 32));
    return out;
  }

  function sha256(bytes) {
    const data = pad(bytes, 64, 8);
    const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
      0x1f83d9ab, 0x5be0cd19]);
    const w = new Uint32Array(64);
    for (let off = 0; off < data.length; off += 64) {
      for (let i = 0, j = off; i < 16; i++, j += 4) w[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
      for (let i = 16; i < 64; i++) {
        const a = w[i - 15], b = w[i - 2];
        const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
        const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
      }
      let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (let i = 0; i < 64; i++) {
        const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
        const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
        const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
        const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    }
    const out = new Uint8Array(32);
    const ov = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) ov.setUint32(4 * i, h[i]);
    return out;
  }

  const M64 = (1n << 64n) - 1n;
  const K512 = [
    "428a2f98d728ae22", "7137449123ef65cd", "b5c0fbcfec4d3b2f", "e9b5dba58189dbbc", "3956c25bf348b538",
    "59f111f1b605d019", "923f82a4af194f9b", "ab1c5ed5da6d8118", "d807aa98a3030242", "12835b0145706fbe",
    "243185be4ee4b28c", "550c7dc3d5ffb4e2", "72be5d74f27b896f", "80deb1fe3b1696b1", "9bdc06a725c71235",
    "c19bf174cf692694", "e49b69c19ef14ad2", "efbe4786384f25e3", "0fc19dc68b8cd5b5", "240ca1cc77ac9c65",
    "2de92c6f592b0275", "4a7484aa6ea6e483", "5cb0a9dcbd41fbd4", "76f988da831153b5", "983e5152ee66dfab",
    "a831c66d2db43210", "b00327c898fb213f", "bf597fc7beef0ee4", "c6e00bf33da88fc2", "d5a79147930aa725",
    "06ca6351e003826f", "142929670a0e6e70", "27b70a8546d22ffc", "2e1b21385c26c926", "4d2c6dfc5ac42aed",
    "53380d139d95b3df", "650a73548baf63de", "766a0abb3c77b2a8", "81c2c92e47edaee6", "92722c851482353b",
    "a2bfe8a14cf10364", "a81a664bbc423001", "c24b8b70d0f89791", "c76c51a30654be30", "d192e819d6ef5218",
    "d69906245565a910", "f40e35855771202a", "106aa07032bbd1b8", "19a4c116b8d2d0c8", "1e376c085141ab53",
    "2748774cdf8eeb99", "34b0bcb5e19b48a8", "391c0cb3c5c95a63", "4ed8aa4ae3418acb", "5b9cca4f7763e373",
    "682e6ff3d6b2b8a3", "748f82ee5defb2fc", "78a5636f43172f60", "84c87814a1f0ab72", "8cc702081a6439ec",
    "90befffa23631e28", "a4506cebde82bde9", "bef9a3f7b2c67915", "c67178f2e372532b", "ca273eceea26619c",
    "d186b8c721c0c207", "eada7dd6cde0eb1e", "f57d4f7fee6ed178", "06f067aa72176fba", "0a637dc5a2c898a6",
    "113f9804bef90dae", "1b710b35131c471b", "28db77f523047d84", "32caab7b40c72493", "3c9ebe0a15c9bebc",
    "431d67c49c100d4c", "4cc5d4becb3e42b6", "597f299cfc657e2a", "5fcb6fab3ad6faec", "6c44198c4a475817"]
    .map((x) => BigInt("0x" + x));
  const rotr = (x, n) => ((x >> n) | (x << (64n - n))) & M64;

  function sha512(bytes) {
    const data = pad(bytes, 128, 16);
    const h = ["6a09e667f3bcc908", "bb67ae8584caa73b", "3c6ef372fe94f82b", "a54ff53a5f1d36f1",
      "510e527fade682d1", "9b05688c2b3e6c1f", "1f83d9abfb41bd6b", "5be0cd19137e2179"].map((x) => BigInt("0x" + x));
    const view = new DataView(data.buffer);
    const w = new Array(80);
    for (let off = 0; off < data.length; off += 128) {
      for (let i = 0; i < 16; i++) w[i] = view.getBigUint64(off + 8 * i);
      for (let i = 16; i < 80; i++) {
        const s0 = rotr(w[i - 15], 1n) ^ rotr(w[i - 15], 8n) ^ (w[i - 15] >> 7n);
        const s1 = rotr(w[i - 2], 19n) ^ rotr(w[i - 2], 61n) ^ (w[i - 2] >> 6n);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M64;
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let i = 0; i < 80; i++) {
        const t1 = (hh + (rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n)) + ((e & f) ^ (~e & M64 & g)) + K512[i] + w[i]) & M64;
        const t2 = ((rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n)) + ((a & b) ^ (a & c) ^ (b & c))) & M64;
        hh = g; g = f; f = e; e = (d + t1) & M64; d = c; c = b; b = a; a = (t1 + t2) & M64;
      }
      [a, b, c, d, e, f, g, hh].forEach((v, i) => { h[i] = (h[i] + v) & M64; });
    }
    const out = new Uint8Array(64);
    const ov = new DataView(out.buffer);
    h.forEach((v, i) => ov.setBigUint64(8 * i, v));
    return out;
  }

  // ---------------------------------------------------------------- canonical msgpack
  const text = new TextDecoder("utf-8", { fatal: true });
  const utf8 = new TextEncoder();

  // Reads one value front to back and refuses at the first violation (PROTOCOL.md, "Decoding rule"):
  // each length, count and integer in its smallest form, map keys strictly increasing by their bytes.
  function decode(bytes, limit) {
    if (bytes.length > limit) throw new Refused("too_large", `${bytes.length} bytes`);
    let pos = 0;
    const need = (n) => { if (pos + n > bytes.length) throw new Refused("malformed", "truncated"); };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const longer = () => { throw new Refused("non_canonical", "a longer form than needed"); };
    function uint(n) {
      need(n);
      let v = 0n;
      for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[pos + i]);
      pos += n;
      return v;
    }
    function len(n, min) {  // a length or count of n bytes, which a shorter form could not hold
      need(n);
      const v = n === 1 ? bytes[pos] : n === 2 ? view.getUint16(pos) : view.getUint32(pos);
      pos += n;
      if (v < min) longer();
      return v;
    }
    const num = (v) => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
    function read(depth) {
      need(1);
      const t = bytes[pos++];
      if (t <= 0x7f) return t;
      if (t >= 0xe0) return t - 256;
      if (t >= 0x80 && t <= 0x8f) return map(t & 0x0f, depth);
      if (t >= 0x90 && t <= 0x9f) return array(t & 0x0f, depth);
      if (t >= 0xa0 && t <= 0xbf) return str(t & 0x1f);
      let v;
      switch (t) {
        case 0xc0: return null;
        case 0xc2: return false;
        case 0xc3: return true;
        case 0xc4: return bin(len(1, 0));
        case 0xc5: return bin(len(2, 0x100));
        case 0xc6: return bin(len(4, 0x10000));
        case 0xcc: v = len(1, 0x80); return v;
        case 0xcd: v = len(2, 0x100); return v;
        case 0xce: v = len(4, 0x10000); return v;
        case 0xcf: v = uint(8); if (v <= 0xffffffffn) longer(); return num(v);
        case 0xd0: need(1); v = view.getInt8(pos); pos += 1; if (v >= -32) longer(); return v;
        case 0xd1: need(2); v = view.getInt16(pos); pos += 2; if (v >= -128) longer(); return v;
        case 0xd2: need(4); v = view.getInt32(pos); pos += 4; if (v >= -32768) longer(); return v;
        case 0xd3: need(8); v = view.getBigInt64(pos); pos += 8; if (v >= -2147483648n) longer(); return num(v);
        case 0xd9: return str(len(1, 32));
        case 0xda: return str(len(2, 0x100));
        case 0xdb: return str(len(4, 0x10000));
        case 0xdc: return array(len(2, 16), depth);
        case 0xdd: return array(len(4, 0x10000), depth);
        case 0xde: return map(len(2, 16), depth);
        case 0xdf: return map(len(4, 0x10000), depth);
        case 0xc1: throw new Refused("malformed", "reserved byte c1");
        default: throw new Refused("forbidden_type", "a float or an ext type");
      }
    }
    function bin(n) { need(n); pos += n; return bytes.subarray(pos - n, pos); }
    function str(n) {
      need(n);
      pos += n;
      try { return text.decode(bytes.subarray(pos - n, pos)); } catch (e) { throw new Refused("malformed", "not UTF-8"); }
    }
    function container(n, depth) {
      if (depth + 1 > 16) throw new Refused("too_deep", "more than 16 nested containers");
      if (n > bytes.length - pos) throw new Refused("malformed", "count beyond the input");
    }
    function array(n, depth) {
      container(n, depth);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = read(depth + 1);
      return out;
    }
    function map(n, depth) {
      container(n, depth);
      const out = new Map();
      let before = null;
      for (let i = 0; i < n; i++) {
        const at = pos;
        need(1);
        const t = bytes[pos];
        if (!((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb))) {
          if (t === 0xc1) throw new Refused("malformed", "reserved byte c1");
          throw new Refused("forbidden_type", "a map key that is not text");
        }
        const key = read(depth + 1);
        const raw = bytes.subarray(at, pos);
        if (before !== null) {
          const order = compare(raw, before);
          if (order === 0) throw new Refused("duplicate_key", key);
          if (order < 0) throw new Refused("non_canonical", "map keys out of order");
        }
        before = raw;
        out.set(key, read(depth + 1));
      }
      return out;
    }
    const value = read(0);
    if (pos !== bytes.length) throw new Refused("trailing_bytes", "bytes after the value");
    return value;
  }

  function encode(value) {
    const parts = [];
    const push = (...b) => parts.push(Uint8Array.from(b));
    function head(n, fix, fixMax, b8, b16, b32) {
      if (fix !== null && n <= fixMax) push(fix | n);
      else if (b8 !== null && n <= 0xff) push(b8, n);
      else if (n <= 0xffff) push(b16, n >> 8, n & 0xff);
      else push(b32, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    }
    function int(v) {
      const b = BigInt(v);
      if (b >= 0n) {
        if (b <= 0x7fn) return push(Number(b));
        const [t, n] = b <= 0xffn ? [0xcc, 1] : b <= 0xffffn ? [0xcd, 2] : b <= 0xffffffffn ? [0xce, 4] : [0xcf, 8];
        return push(t, ...be(b, n));
      }
      if (b >= -32n) return push(Number(b) & 0xff);
      const [t, n] = b >= -128n ? [0xd0, 1] : b >= -32768n ? [0xd1, 2] : b >= -2147483648n ? [0xd2, 4] : [0xd3, 8];
      return push(t, ...be(BigInt.asUintN(n * 8, b), n));
    }
    function be(b, n) { const out = []; for (let i = n - 1; i >= 0; i--) out.push(Number((b >> BigInt(8 * i)) & 0xffn)); return out; }
    function walk(v) {
      if (v === null) push(0xc0);
      else if (v === false) push(0xc2);
      else if (v === true) push(0xc3);
      else if (typeof v === "number" || typeof v === "bigint") int(v);
      else if (typeof v === "string") { const b = utf8.encode(v); head(b.length, 0xa0, 31, 0xd9, 0xda, 0xdb); parts.push(b); }
      else if (v instanceof Uint8Array) { head(v.length, null, 0, 0xc4, 0xc5, 0xc6); parts.push(v); }
      else if (Array.isArray(v)) { head(v.length, 0x90, 15, null, 0xdc, 0xdd); v.forEach(walk); }
      else if (v instanceof Map) {
        const keys = [...v.keys()].map((k) => [k, encode(k)]).sort((a, b) => compare(a[1], b[1]));
        head(keys.length, 0x80, 15, null, 0xde, 0xdf);
        for (const [k, kb] of keys) { parts.push(kb); walk(v.get(k)); }
      } else throw new Error("cannot encode");
    }
    walk(value);
    const size = parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  function compare(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  const same = (a, b) => a.length === b.length && compare(a, b) === 0;
  const HEX = Array.from({ length: 256 }, (_, x) => x.toString(16).padStart(2, "0"));
  const hex = (b) => { let out = ""; for (let i = 0; i < b.length; i++) out += HEX[b[i]]; return out; };

  // ---------------------------------------------------------------- Ed25519 (RFC 8032, PROTOCOL.md's rules)
  const P = 2n ** 255n - 19n;
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const mod = (a, m = P) => ((a % m) + m) % m;
  function pow(b, e, m = P) { let r = 1n; b = mod(b, m); while (e > 0n) { if (e & 1n) r = r * b % m; b = b * b % m; e >>= 1n; } return r; }
  const D = mod(-121665n * pow(121666n, P - 2n));
  const SQRT_M1 = pow(2n, (P - 1n) / 4n);
  const GY = mod(4n * pow(5n, P - 2n));
  const littleInt = (b) => { let v = 0n; for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]); return v; };

  function recoverX(y, sign) {
    const y2 = y * y % P;
    const x2 = mod((y2 - 1n) * pow(D * y2 + 1n, P - 2n));
    if (x2 === 0n) return sign ? null : 0n;
    let x = pow(x2, (P + 3n) / 8n);
    if (mod(x * x - x2) !== 0n) x = x * SQRT_M1 % P;
    if (mod(x * x - x2) !== 0n) return null;
    if ((x & 1n) !== BigInt(sign)) x = P - x;
    return x;
  }
  function decodePoint(b) {
    const y = littleInt(b) & ((1n << 255n) - 1n);
    const sign = b[31] >> 7;
    if (y >= P) return null;
    const x = recoverX(y, sign);
    if (x === null) return null;
    return [x, y, 1n, x * y % P];
  }
  const BASE = [recoverX(GY, 0), GY, 1n, recoverX(GY, 0) * GY % P];
  const IDENTITY = [0n, 1n, 1n, 0n];
  function add(p, q) {
    const A = (p[1] - p[0]) * (q[1] - q[0]) % P, B = (p[1] + p[0]) * (q[1] + q[0]) % P;
    const C = 2n * p[3] * q[3] % P * D % P, Dd = 2n * p[2] * q[2] % P;
    const E = B - A, F = Dd - C, G = Dd + C, H = B + A;
    return [mod(E * F), mod(G * H), mod(F * G), mod(E * H)];
  }
  function mul(s, p) {
    let r = IDENTITY, q = p;
    while (s > 0n) { if (s & 1n) r = add(r, q); q = add(q, q); s >>= 1n; }
    return r;
  }
  function encodePoint(p) {
    const zi = pow(p[2], P - 2n);
    const x = p[0] * zi % P, y = p[1] * zi % P;
    const out = new Uint8Array(32);
    let v = y | ((x & 1n) << 255n);
    for (let i = 0; i < 32; i++) { out[i] = Number(v & 0xffn); v >>= 8n; }
    return out;
  }
  const isIdentity = (p) => mod(p[0]) === 0n && mod(p[1] - p[2]) === 0n;
  const SMALL_ORDER_R = new Set([
    "0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000000", "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"]);
  const accepted = new Map();

  function checkKey(key) {
    const id = hex(key);
    if (!accepted.has(id)) {
      const point = decodePoint(key);
      accepted.set(id, point !== null && !isIdentity(point) && isIdentity(mul(L, point)) ? point : null);
    }
    const point = accepted.get(id);
    if (point === null) throw new Refused("weak_key", "a key of small order, or not a point");
    return point;
  }

  function verifySignature(key, signature, message) {
    const A = checkKey(key);
    const R = signature.slice(0, 32), S = littleInt(signature.slice(32));
    if (S >= L || SMALL_ORDER_R.has(hex(R))) throw new Refused("bad_signature", "signature refused");
    const k = mod(littleInt(sha512(concat(R, key, message))), L);
    const check = add(mul(S, BASE), mul(L - k, A));
    if (!same(encodePoint(check), R)) throw new Refused("bad_signature", "signature does not verify");
  }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  // ---------------------------------------------------------------- identity text
  const B32 = "abcdefghijklmnopqrstuvwxyz234567";
  function base32(bytes) {
    let bits = 0, value = 0, out = "";
    for (const b of bytes) {
      value = (value << 8) | b; bits += 8;
      while (bits >= 5) { out += B32[(value >>> (bits - 5)) & 31]; bits -= 5; }
    }
    if (bits > 0) out += B32[(value << (5 - bits)) & 31];
    return out;
  }
  const nodeId = (key) => base32(key);
  function fingerprint(key) {
    const t = base32(sha256(key).slice(0, 10)).toUpperCase();
    return `${t.slice(0, 4)}-${t.slice(4, 8)}-${t.slice(8, 12)}-${t.slice(12, 16)}`;
  }

  // ---------------------------------------------------------------- records
  const KIND = /^[a-z][a-z0-9_.]{0,47}\/[1-9][0-9]{0,5}$/;
  function openEntry(entry) {
    const value = decode(entry, 4202496);
    if (!Array.isArray(value) || value.length !== 2 || !(value[0] instanceof Uint8Array)
        || !(value[1] === null || value[1] instanceof Uint8Array)) throw new Refused("bad_entry", "not an entry");
    const env = decode(value[0], 8192);
    if (!Array.isArray(env) || !env.length || typeof env[0] !== "number") throw new Refused("bad_envelope", "not an envelope");
    if (env[0] !== 1) throw new Refused("unknown_version", `version ${env[0]}`);
    if (env.length !== 3 || !(env[1] instanceof Uint8Array) || !(env[2] instanceof Uint8Array) || env[2].length !== 64)
      throw new Refused("bad_envelope", "not an envelope");
    const headerBytes = env[1];
    const h = decode(headerBytes, 4096);
    if (!Array.isArray(h) || typeof h[0] !== "string") throw new Refused("bad_header", "not a header");
    if (h[0] !== "maillon/record/v1") throw new Refused("wrong_domain", h[0]);
    const isKey = (v) => v instanceof Uint8Array && v.length === 32;
    // seq and time up to 2**63 - 1: beyond 2**53 the decoder gives a BigInt
    if (h.length !== 8 || !between(1n, 2n ** 63n - 1n)(h[2]) || !isKey(h[1]) || !(h[3] === null ? h[2] === 1 : isKey(h[3]) && h[2] > 1)
        || !between(0n, 2n ** 63n - 1n)(h[4]) || typeof h[5] !== "string" || !KIND.test(h[5]) || !Array.isArray(h[6])
        || h[6].length > 64 || !h[6].every((k, n) => isKey(k) && (n === 0 || compare(h[6][n - 1], k) < 0))  // strictly increasing
        || !isKey(h[7])) throw new Refused("bad_header", "a header field breaks its rule");
    verifySignature(h[1], env[2], headerBytes);
    const record = { author: h[1], seq: Number(h[2]), time: Number(h[4]), kind: h[5], id: sha256(headerBytes), body: null };
    if (value[1] !== null) {
      if (value[1].length > 4194304) throw new Refused("too_large", "content");
      if (!same(sha256(value[1]), h[7]))  // the header stays known: its signature verified
        throw Object.assign(new Refused("content_mismatch", "content does not match the header's hash"), { record });
      record.body = decode(value[1], 4194304);
      if (!(record.body instanceof Map)) throw Object.assign(new Refused("bad_content", "a body is a map"), { record });
    }
    return record;
  }

  // 12:00 UTC of a day YYYY-MM-DD, in ms (years 0001 to 9999: Date.UTC would read 0001 as 1901).
  function noonUTC(day) {
    const d = new Date(0);
    d.setUTCFullYear(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
    d.setUTCHours(12, 0, 0, 0);
    return d.getTime();
  }

  // ---------------------------------------------------------------- bodies (PROTOCOL.md, "Record kinds")
  // Each kind the check reads, whole: strict types, closed maps, optional fields absent (never nil), the rules
  // between fields. Any miss is bad_content, as the command line says it.
  const isInt = (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
  const between = (lo, hi) => (v) => isInt(v) && BigInt(v) >= lo && BigInt(v) <= hi;
  const points = (v) => { let n = 0; for (const _ of v) n++; return n; };  // Unicode code points
  const textOf = (min, max) => (v) => typeof v === "string" && points(v) >= min && points(v) <= max;
  const oneOf = (...values) => (v) => values.includes(v);
  const listOf = (type, min, max) => (v) => Array.isArray(v) && v.length >= min && v.length <= max && v.every(type);
  const bytesOf = (min, max) => (v) => v instanceof Uint8Array && v.length >= min && v.length <= max;
  const unique = (values) => new Set(values).size === values.length;
  function isDay(v) {  // a day of the proleptic Gregorian calendar, years 0001 to 9999
    if (typeof v !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(v)) return false;
    const y = Number(v.slice(0, 4)), m = Number(v.slice(5, 7)), d = Number(v.slice(8, 10));
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }
  const txt = textOf(1, 500), key = bytesOf(32, 32), grams = between(0n, 10n ** 12n), count = between(0n, 10n ** 9n);
  const millis = between(0n, 2n ** 63n - 1n), code = (v) => typeof v === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(v);
  const gid = (v) => typeof v === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v);
  const category = oneOf("desktop", "laptop", "tablet", "smartphone", "screen", "printer", "multifunction_printer",
    "server", "network", "peripheral", "component", "other");
  const beneficiary = oneOf("person", "association", "school", "ess", "other");
  // A map of exactly these fields ("name?": optional), each of its type, then the rule between them.
  function shape(fields, rule) {
    const spec = Object.entries(fields).map(([k, type]) => [k.replace("?", ""), k.endsWith("?"), type]);
    const names = new Set(spec.map(([k]) => k));
    return (v) => v instanceof Map && [...v.keys()].every((k) => names.has(k))
      && spec.every(([k, optional, type]) => (v.has(k) ? v.get(k) !== null && type(v.get(k)) : optional))
      && (!rule || rule(v));
  }
  const tag = (v) => textOf(1, 64)(v) && ![...v].some((c) => c < "\u0020" || (c >= "\u007f" && c <= "\u009f"))
    && v[0] !== " " && v[v.length - 1] !== " ";
  const line1 = { gid, category, weight_g: grams, erasure: oneOf("erased", "not_applicable", "pending"),
    "serial?": txt, "donor_asset?": txt, "brand?": txt, "model?": txt };
  const line2 = { ...line1, "tags?": (v) => listOf(tag, 1, 16)(v) && unique(v) };
  const offer = (line) => shape({ lot_ref: txt, recipient: key, items: listOf(shape(line), 1, 20000), units: count,
    weight_g: grams, orientations: listOf(code, 0, 16), expires: millis,
    "donor_category?": oneOf("public_body", "company", "association"), "note?": txt },
  (b) => Number(b.get("units")) === b.get("items").length && unique(b.get("items").map((i) => i.get("gid"))));
  const receipt1 = { offer: key, received: listOf(gid, 0, 20000), missing: listOf(gid, 0, 20000),
    damaged: listOf(gid, 0, 20000), units_counted: count, weight_g: grams, "note?": txt,
    extra: listOf(shape({ category, weight_g: grams, "serial?": txt, "note?": txt }), 0, 20000) };
  const receiptRule = (b) => {
    const received = b.get("received"), missing = b.get("missing"), damaged = b.get("damaged");
    return unique(received) && unique(missing) && unique(damaged) && !missing.some((g) => received.includes(g))
      && damaged.every((g) => received.includes(g))
      && Number(b.get("units_counted")) === received.length + b.get("extra").length;
  };
  const fate1 = shape({ gid, fate: oneOf("distributed", "recycled", "dismantled", "transferred"), time: millis,
    "beneficiary_category?": beneficiary, "weight_g?": grams, "to?": key });
  const erasure = shape({ method: txt, level: oneOf("clear", "purge", "destroy"), tool: txt, time: millis,
    result: oneOf("success", "failure"), "disk_serial?": txt, "certificate_sha256?": key });
  const statement = shape({ gid, outcome: oneOf("distributed", "recycled", "dismantled", "transferred", "in_stock", "missing"),
    time: millis, erasures: listOf(erasure, 0, 16), "beneficiary_category?": beneficiary, "weight_g?": grams,
    "outflow?": txt, "to?": key }, (f) => {
    const outcome = f.get("outcome");
    return f.has("beneficiary_category") === (outcome === "distributed") && (outcome !== "recycled" || f.has("weight_g"))
      && (!f.has("weight_g") || outcome === "recycled" || outcome === "dismantled")
      && (!f.has("outflow") || outcome === "recycled") && (!f.has("to") || outcome === "transferred");
  });
  const reportedLot = shape({ ref: txt, "declared_units?": count, "declared_weight_g?": grams, "counted_units?": count,
    "weighed_g?": grams, "received?": isDay });
  const KINDS = {
    "lot.offer/1": offer(line1),
    "lot.offer/2": offer(line2),
    "lot.receipt/1": shape(receipt1, receiptRule),
    "lot.receipt/2": shape({ ...receipt1, received_on: isDay }, receiptRule),
    "item.fates/1": shape({ fates: listOf(fate1, 0, 20000), "corrects?": key }, (b) => (b.get("fates").length > 0
      || b.has("corrects")) && b.get("fates").every((f) => !f.has("to") || f.get("fate") === "transferred")),
    "item.fates/2": shape({ fates: listOf(statement, 0, 20000), "corrects?": key,
      "evidence?": listOf(bytesOf(1, 4194304 + 8192), 1, 10000) }, (b) => (b.get("fates").length > 0
      || b.has("corrects") || b.has("evidence")) && unique(b.get("fates").map((f) => f.get("gid")))),
    "node.descriptor/1": shape({ name: txt, role: oneOf("member", "hub", "national"),
      endpoints: listOf(textOf(1, 300), 0, 8), "encryption_key?": key, "network?": txt, "software?": txt }),
    "donor.report/2": shape({ donor: txt, lots: listOf(reportedLot, 1, 1000), period_from: isDay, period_to: isDay,
      items: listOf(shape({ gid, lot: txt, category, "serial?": txt, "donor_asset?": txt }), 0, 20000),
      "donor_siret?": (v) => typeof v === "string" && /^[0-9]{14}$/.test(v), "factor_version?": txt,
      "co2e_g?": (v) => isInt(v) && BigInt(v) >= 0n, "materials_g?": (v) => isInt(v) && BigInt(v) >= 0n }, (b) => {
      const refs = b.get("lots").map((l) => l.get("ref"));
      return b.get("period_to") >= b.get("period_from") && unique(b.get("items").map((i) => i.get("gid")))
        && unique(refs) && b.get("items").every((i) => refs.includes(i.get("lot")));
    }),
  };

  // The body of a record of a kind the check reads (null for another kind: it states nothing here), whole;
  // the bundle's report (``asReport``) is a donor.report/2, which a record among the others is not read as.
  const get = (m, k) => (m instanceof Map ? m.get(k) : undefined);
  function readBody(record, asReport = false) {
    const b = record.body;
    if (asReport !== (record.kind === "donor.report/2") || !(record.kind in KINDS)) return null;
    if (!KINDS[record.kind](b)) throw Object.assign(new Refused("bad_content", `${record.kind}: a body that does not match its kind`), { record });
    switch (record.kind) {
      case "lot.offer/1": case "lot.offer/2":  // version 2's lines may carry tags, which the check does not read
        return { recipient: get(b, "recipient"), gids: get(b, "items").map((i) => get(i, "gid")), lotRef: get(b, "lot_ref") };
      case "lot.receipt/1": case "lot.receipt/2": {  // version 2 adds the day the lot arrived
        const on = get(b, "received_on");
        return { offer: get(b, "offer"), received: get(b, "received"), missing: get(b, "missing"),
          custody: record.kind === "lot.receipt/2" ? Math.min(record.time, noonUTC(on)) : record.time };
      }
      case "item.fates/1": case "item.fates/2": {
        const fates = get(b, "fates"), evidence = get(b, "evidence"), corrects = get(b, "corrects");
        return { fates: fates.map((f) => ({
          gid: get(f, "gid"), outcome: get(f, record.kind === "item.fates/2" ? "outcome" : "fate"), time: Number(get(f, "time")),
          erasures: (get(f, "erasures") || []).map((e) => ({ level: get(e, "level"), result: get(e, "result"), time: Number(get(e, "time")),
            tool: get(e, "tool"), method: get(e, "method"), disk: get(e, "disk_serial") ?? null,
            certificate: get(e, "certificate_sha256") ? hex(get(e, "certificate_sha256")) : null })),
          beneficiary: get(f, "beneficiary_category") ?? null, weight: get(f, "weight_g") ?? null, outflow: get(f, "outflow") ?? null })),
          evidence: evidence || [], corrects: corrects ? hex(corrects) : null };
      }
      case "node.descriptor/1":
        return { name: get(b, "name") };
      case "donor.report/2": {
        const items = get(b, "items"), lots = get(b, "lots");
        return { donor: get(b, "donor"), from: get(b, "period_from"), to: get(b, "period_to"),
          lots: lots.map((l) => ({ ref: get(l, "ref"), declared: get(l, "declared_units") ?? null, counted: get(l, "counted_units") ?? null,
            declaredG: get(l, "declared_weight_g") ?? null, weighedG: get(l, "weighed_g") ?? null })),
          items: items.map((i) => ({ gid: get(i, "gid"), lot: get(i, "lot"), category: get(i, "category"), serial: get(i, "serial") ?? null })) };
      }
      default: return null;
    }
  }

  // ---------------------------------------------------------------- the bundle (PROTOCOL.md, "Checking a bundle")
  const MAGIC = utf8.encode("maillon-bundle/1\n");

  function verifyBundle(data) {
    if (data.length < MAGIC.length || !same(data.slice(0, MAGIC.length), MAGIC)) throw new Refused("bad_entry", "not a donor proof bundle");
    const value = decode(data.slice(MAGIC.length), 67108864);
    if (!(value instanceof Map) || value.size !== 2 || !(get(value, "report") instanceof Uint8Array)
        || !Array.isArray(get(value, "records")) || get(value, "records").length > 100000
        || !get(value, "records").every((e) => e instanceof Uint8Array)) throw new Refused("bad_bundle", "not a bundle's shape");
    const pair = decode(get(value, "report"), 4202496);  // a stub is refused before its envelope is read
    if (Array.isArray(pair) && pair.length === 2 && pair[1] === null) throw new Refused("bad_entry", "the report carries its content");
    const report = openEntry(get(value, "report"));
    if (report.kind !== "donor.report/2") throw new Refused("bad_bundle", `the report is a ${report.kind}`);
    const body = readBody(report, true);
    const wanted = new Set(body.items.map((i) => i.gid));
    const problems = [], held = [], seen = new Set();
    const pending = get(value, "records").map((e, n) => [String(n), e, 0]);
    let count = 0;
    while (pending.length) {
      const [where, entry, depth] = pending.shift();
      if (++count > 100000) { problems.push({ reason: "too_large", where, text: "too many records" }); break; }
      let record = null, read;
      try {
        record = openEntry(entry);
        if (record.body === null) continue;
        read = readBody(record);
      } catch (e) {
        if (!(e instanceof Refused)) throw e;
        const signed = e.record || record;  // a record whose header verified, its content not
        problems.push({ reason: e.reason, where, text: e.message, entry, author: signed ? hex(signed.author) : null });
        continue;
      }
      const id = hex(record.id);
      if (seen.has(id)) continue;
      seen.add(id);
      held.push({ where, record, read });
      if (record.kind === "item.fates/2" && read.evidence.length) {
        if (depth + 1 > 16) { problems.push({ reason: "too_deep", where, text: "evidence too deep", entry }); continue; }
        read.evidence.forEach((e, n) => pending.push([`${where}.${n}`, e, depth + 1]));
      }
    }
    const offers = new Map(), names = new Map(), receipts = [], fates = [];
    for (const h of held) {
      if (h.record.kind === "lot.offer/1" || h.record.kind === "lot.offer/2") offers.set(hex(h.record.id), h);
      else if (h.record.kind === "lot.receipt/1" || h.record.kind === "lot.receipt/2") receipts.push(h);
      else if (h.record.kind.startsWith("item.fates/")) fates.push(h);
      else if (h.record.kind === "node.descriptor/1") {
        const a = hex(h.record.author), was = names.get(a);
        if (!was || was.seq < h.record.seq) names.set(a, { seq: h.record.seq, name: h.read.name });
      }
    }
    // receipts: links
    const hops = new Map(), done = new Set(), links = [];
    receipts.sort((a, b) => a.read.custody - b.read.custody || compare(a.record.id, b.record.id));
    for (const r of receipts) {
      const offer = offers.get(hex(r.read.offer));
      if (!offer) continue;
      const listed = new Set(offer.read.gids);
      if (!same(r.record.author, offer.read.recipient)) {
        problems.push({ reason: "receipt_mismatch", where: r.where, text: "a receipt signed by a node the lot was not offered to",
          gids: [...listed] });
        continue;
      }
      const lines = new Set([...r.read.received, ...r.read.missing]);
      if (lines.size !== listed.size || [...lines].some((g) => !listed.has(g))) {
        problems.push({ reason: "receipt_mismatch", where: r.where, text: "the receipt's lines are not the offer's",
          gids: [...listed, ...lines] });
        continue;
      }
      const offerId = hex(r.read.offer);
      if (done.has(offerId)) continue;
      done.add(offerId);
      links.push({ lot: offer.read.lotRef, giver: offer.record.author, taker: r.record.author, received: r.read.received.length,
        missing: r.read.missing.length });
      const giverHex = hex(offer.record.author), takerHex = hex(r.record.author);
      for (const [list, received] of [[r.read.received, true], [r.read.missing, false]])
        for (const gid of list) if (wanted.has(gid)) {
          if (!hops.has(gid)) hops.set(gid, []);
          hops.get(gid).push({ giver: giverHex, taker: takerHex, time: r.read.custody, received });
        }
    }
    // statements
    const corrected = new Set(fates.filter((f) => f.read.corrects).map((f) => hex(f.record.author) + f.read.corrects));
    const statements = new Map();
    fates.sort((a, b) => a.record.time - b.record.time || a.record.seq - b.record.seq);
    for (const f of fates) {
      const author = hex(f.record.author);
      if (corrected.has(author + hex(f.record.id))) continue;
      for (const s of f.read.fates) if (wanted.has(s.gid)) {
        if (!statements.has(s.gid)) statements.set(s.gid, []);
        s.author = author; s.where = f.where;
        statements.get(s.gid).push(s);
      }
    }
    const keys = new Map();
    const keep = (k) => { if (!keys.has(hex(k))) keys.set(hex(k), k); };
    keep(report.author);
    for (const h of held) keep(h.record.author);
    const items = body.items.map((line) => follow(line, hex(report.author), hops.get(line.gid) || [],
      statements.get(line.gid) || [], problems));
    concerned(problems, items, wanted);
    const broken = new Set(problems.flatMap((p) => p.gids));
    items.forEach((item) => { item.broken = broken.has(item.gid); });
    const nodes = [];
    for (const item of items) for (const k of [...item.custody, item.by]) if (k && !nodes.includes(k)) nodes.push(k);
    return { report: { id: hex(report.id), author: hex(report.author), time: report.time, ...body }, items, problems,
      links, nodes: nodes.map((k) => ({ key: k, fingerprint: fingerprint(keys.get(k)), id: nodeId(keys.get(k)),
        name: names.has(k) ? names.get(k).name : null })), records: held.length, ok: problems.length === 0 };
  }

  // For the reader only, after the check: the report's items each problem concerns, in the report's order.
  // A problem with a gid concerns it; a receipt, its offer's items. A record left out concerns the items it
  // names in its raw bytes (it cannot be trusted to decode) and, when its header verified (only its content
  // is wrong), every item its author held: its true content could speak of any of them, whatever the wrong
  // one names (vector fate_swapped). Such an item is not proven as shown.
  const raw = new TextDecoder("utf-8");
  function concerned(problems, items, wanted) {
    const order = new Map(items.map((item, n) => [item.gid, n]));
    let scanned = 0;
    for (const p of problems) {
      let found = p.gid !== undefined ? [p.gid] : (p.gids || []);
      if (p.entry && p.gid === undefined && ++scanned <= 1000) {
        const bytes = raw.decode(p.entry);
        found = items.map((item) => item.gid).filter((gid) => bytes.includes(gid));
        if (p.author) found.push(...items.filter((item) => item.custody.includes(p.author)).map((item) => item.gid));
      }
      delete p.entry; delete p.author;
      p.gids = [...new Set(found)].filter((gid) => wanted.has(gid)).sort((a, b) => order.get(a) - order.get(b));
    }
  }

  const ENDS = new Set(["distributed", "recycled", "dismantled", "transferred"]);
  function follow(line, reporter, hops, statements, problems) {
    let custodian = reporter, since = -1, missingSince = null;
    const spans = [], item = { ...line, custody: [reporter], missingAt: [], erasures: [], outcome: "in_stock", by: null,
      signed: false, statement: null };
    for (const hop of [...hops].sort((a, b) => a.time - b.time)) {
      if (hop.giver !== custodian || hop.time < since) continue;
      if (hop.received) {
        spans.push([custodian, since, hop.time]);
        custodian = hop.taker; since = hop.time; missingSince = null;
        item.custody.push(custodian);
      } else { item.missingAt.push(hop.taker); missingSince = hop.time; }
    }
    spans.push([custodian, since, null]);
    const holds = (k, t) => spans.some(([key, s, e]) => key === k && s <= t && (e === null || t <= e));
    let lastEnd = null, lastStock = null;  // an end of the item's life outranks a statement of the stock
    const seenErasures = new Set();
    for (const s of [...statements].sort((a, b) => a.time - b.time)) {
      if (!holds(s.author, s.time)) {
        problems.push({ reason: "not_custodian", where: s.where, gid: line.gid, text: `a fate ${s.outcome} signed by a node that did not hold the item then` });
        continue;
      }
      for (const e of s.erasures) {  // each once: an outcome repeats what "in stock" stated of them
        const key = JSON.stringify([s.author, e.method, e.level, e.tool, e.time, e.result, e.disk, e.certificate]);
        if (!seenErasures.has(key)) { seenErasures.add(key); item.erasures.push({ ...e, by: s.author }); }
      }
      if (s.author === custodian && s.time >= since) {
        if (ENDS.has(s.outcome)) lastEnd = s; else lastStock = s;
      }
    }
    const last = lastEnd || lastStock;
    if (last) Object.assign(item, { outcome: last.outcome, by: last.author, signed: true, statement: last });
    else Object.assign(item, { outcome: missingSince !== null ? "missing" : "in_stock", by: custodian });
    const latest = new Map();
    for (const e of item.erasures) { const was = latest.get(e.disk); if (!was || e.time >= was.time) latest.set(e.disk, e); }
    item.erased = item.erasures.length ? [...latest.values()].every((e) => e.result === "success") : null;
    return item;
  }

  const isBundle = (data) => data.length >= MAGIC.length && same(data.slice(0, MAGIC.length), MAGIC);

  // One entry checked as a bundle's record is (steps 1 to 6, and 7 for the kinds the check reads): its kind.
  const checkEntry = (entry) => { const record = openEntry(entry); if (record.body !== null) readBody(record); return record.kind; };

  return { verifyBundle, isBundle, checkEntry, Refused, sha256, sha512, fingerprint, nodeId, decode, encode, verifySignature };
})();

// ---------------------------------------------------------------- the page
(() => {
  const labelsNode = document.getElementById("verify-labels");
  if (!labelsNode) return;
  const t = JSON.parse(labelsNode.textContent);
  const input = document.getElementById("bundle-file");
  const drop = document.getElementById("drop");
  const out = document.getElementById("result");
  const fmt = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
  const day = (ms) => (typeof ms === "number" ? new Date(ms).toLocaleDateString("fr-FR", { timeZone: "Europe/Paris" }) : "–");
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
    return node;
  }

  const SERIALS = 10;  // a problem names this many serials, then counts the others (their rows are marked)
  // Words of a code: the page's label, else the code itself (a value a newer node may write).
  const word = (prefix, code) => t[prefix + code] || code;
  const methodName = (m) => (typeof m === "string" && t.methods[m.toLowerCase().replace(/-/g, " ").split(/\s+/).filter(Boolean).join(" ")]) || m;
  // "distributed (reused)" with "school": "distributed (reused, school)", not two brackets in a row
  const detailed = (label, detail) => (label.endsWith(")") ? `${label.slice(0, -1)}, ${detail})` : `${label} (${detail})`);

  function refused(data, e) {
    const pdf = data.length >= 5 && String.fromCharCode(...data.slice(0, 5)) === "%PDF-";
    const text = pdf ? t.pdf : !MaillonVerify.isBundle(data) ? t.not_bundle
      : fmt(t.unreadable, { reason: t["reason_" + e.reason] || t.reason_other });
    return el("p", { class: "flash error", role: "alert", id: "verdict", "data-verdict": "fail", "data-reason": e.reason,
      title: e.reason }, text);
  }

  function show(buffer) {
    out.replaceChildren();
    const data = new Uint8Array(buffer);
    const started = performance.now();
    let result;
    try {
      result = MaillonVerify.verifyBundle(data);
    } catch (e) {
      if (!(e instanceof MaillonVerify.Refused)) throw e;
      out.append(refused(data, e));
      return;
    }
    const elapsed = (performance.now() - started) / 1000;
    out.dataset.seconds = elapsed.toFixed(2);
    const seconds = elapsed.toLocaleString(t.locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const byKey = new Map(result.nodes.map((n) => [n.key, n]));
    const who = (k) => { const n = byKey.get(k); return n ? `${n.name || t.unnamed} · ${n.fingerprint}` : "–"; };
    const serialOf = new Map(result.items.map((i) => [i.gid, i.serial || i.gid]));
    const serials = (gids) => gids.map((g) => serialOf.get(g)).join(", ");
    const reporter = result.nodes.find((n) => n.key === result.report.author) || { fingerprint: "?" };
    out.append(el("p", { class: result.ok ? "flash" : "flash error", role: "status", id: "verdict",
      "data-verdict": result.ok ? "ok" : "fail" }, result.ok ? fmt(t.ok, { items: result.items.length, seconds })
      : fmt(t.fail, { problems: result.problems.length })));
    const isoDay = (d) => (typeof d === "string" && /^\d{4}-\d\d-\d\d$/.test(d) ? d.split("-").reverse().join("/") : d);
    out.append(el("p", {}, fmt(t.report, { donor: result.report.donor, from: isoDay(result.report.from), to: isoDay(result.report.to),
      fingerprint: reporter.fingerprint })));
    out.append(el("h2", {}, t.nodes));
    out.append(el("ul", { id: "nodes" }, result.nodes.map((n) => el("li", {}, el("code", {}, n.fingerprint), " ",
      n.name || t.unnamed, n.key === result.report.author ? ` (${t.issuer})` : ""))));
    if (result.problems.length) {
      out.append(el("h2", {}, t.problems));
      // the code stays in an attribute, for whoever compares with `maillon record verify`
      out.append(el("ul", { id: "problems" }, result.problems.map((p) => el("li", { "data-reason": p.reason,
        title: `${p.reason} · ${p.where ?? "-"}` }, t["reason_" + p.reason] || t.reason_other,
        p.gids.length > SERIALS ? ` — ${fmt(t.concerns_more, { serials: serials(p.gids.slice(0, SERIALS)), more: p.gids.length - SERIALS })}`
          : p.gids.length ? ` — ${fmt(t.concerns, { serials: serials(p.gids) })}` : ""))));
    }
    out.append(el("h2", {}, t.items));
    const rows = result.items.map((item) => {
      const statement = item.statement;
      let fate = word("fate_", item.outcome);
      if (statement && statement.beneficiary) fate = detailed(fate, word("beneficiary_", statement.beneficiary));
      if (statement && statement.weight !== null) fate += ` · ${(statement.weight / 1000).toLocaleString(t.locale)} kg`;
      if (statement && statement.outflow) fate += ` · ${statement.outflow}`;  // the recycler, as signed
      const erasures = item.erasures.length ? item.erasures.map((e) => `${word("level_", e.level)} · ${methodName(e.method)} · ${e.tool}`
        + ` · ${day(e.time)} · ${word("result_", e.result)}${e.disk ? " · " + e.disk : ""}`
        + ` · ${byKey.get(e.by) ? byKey.get(e.by).fingerprint : "?"}${e.certificate ? " · SHA-256 " + e.certificate.slice(0, 16) + "…" : ""}`).join("\n")
        : t.storage.includes(item.category) ? t.no_erasure : t.not_applicable;
      const attrs = { "data-gid": item.gid, "data-fate": item.outcome };
      if (item.broken) Object.assign(attrs, { class: "broken", "data-broken": "yes" });
      return el("tr", attrs,
        el("td", {}, item.serial || "–"),
        el("td", {}, item.broken ? [el("strong", { title: t.broken_help }, t.broken), " · "] : [], fate),
        el("td", {}, item.signed ? day(statement.time) : "–"),
        el("td", {}, (item.signed ? "" : t.held_by + " ") + who(item.by)),
        el("td", {}, item.custody.map((k) => byKey.get(k) ? byKey.get(k).fingerprint : "?").join(" → ")),
        el("td", {}, erasures));
    });
    out.append(el("div", { class: "table-wrap" }, el("table", { id: "items" },
      el("thead", {}, el("tr", {}, [t.serial, t.fate, t.date, t.by, t.custody, t.erasures].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows))));
  }

  async function load(file) { if (file) show(await file.arrayBuffer()); }
  input.addEventListener("change", () => load(input.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); load(e.dataTransfer.files[0]); });
})();
