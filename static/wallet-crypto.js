// Wallet keys and signatures in the browser, with Web Crypto: no third-party code.
//
// Keys keep the original client's encodings: a private key is the lowercase hex of PKCS#1
// RSAPrivateKey DER, a public key (the address) the hex of SubjectPublicKeyInfo DER. Web
// Crypto reads and writes private keys as PKCS#8 only, so this file wraps PKCS#1 into a
// PKCS#8 PrivateKeyInfo and unwraps it again:
//
//   PrivateKeyInfo ::= SEQUENCE { INTEGER 0, AlgorithmIdentifier { rsaEncryption, NULL },
//                                 OCTET STRING <PKCS#1 RSAPrivateKey DER> }
//
// Signatures are RSASSA-PKCS1-v1_5 with SHA-1 over the UTF-8 bytes of the message that
// blockchain_core::message builds: Python's str() of an OrderedDict of sender_address,
// recipient_address, value and, from our client, nonce. PKCS#1 v1.5 is deterministic, so
// a signature made here equals the wallet app's byte for byte.
//
// The checks on each field mirror blockchain_client::signing (same order, same words), so
// the page names a bad field before anything is sent; the node checks everything again.
//
// Exposed as window.WalletCrypto. Private keys are never logged, stored or sent anywhere
// by this file.
(function () {
  "use strict";

  const ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-1" };
  const MIN_KEY_BITS = 1024;
  const MAX_KEY_BITS = 4096;
  const NONCE_HEX_LEN = 16;
  const MAX_NONCE_LEN = 64;
  const MAX_COINS = 1000000000n;
  const DECIMALS = 8;
  // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }.
  const RSA_ALGORITHM_ID = fromHexUnchecked("300d06092a864886f70d0101010500");
  const RSA_OID = fromHexUnchecked("06092a864886f70d010101");

  /** A field the page can point at, with words that start with the field's name. */
  class FieldError extends Error {
    constructor(field, message) {
      super(message);
      this.name = "FieldError";
      this.field = field;
    }
  }

  /** Whether this browser offers Web Crypto here (only in a secure context). */
  function available() {
    return Boolean(globalThis.crypto && globalThis.crypto.subtle);
  }

  function subtle() {
    if (!available()) throw new Error("Web Crypto is not available in this page (not a secure context)");
    return globalThis.crypto.subtle;
  }

  // ---- hex ----------------------------------------------------------------------------

  function toHex(bytes) {
    let out = "";
    for (const byte of new Uint8Array(bytes)) out += byte.toString(16).padStart(2, "0");
    return out;
  }

  function fromHexUnchecked(text) {
    const bytes = new Uint8Array(text.length / 2);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(text.substr(i * 2, 2), 16);
    return bytes;
  }

  /** Hex to bytes, with the wallet app's words for what is wrong (`what` names the field). */
  function fromHex(text, what) {
    if (text === "") throw new Error(what + " is empty");
    if (!/^[0-9a-fA-F]+$/.test(text)) throw new Error(what + " is not hexadecimal");
    if (text.length % 2 === 1) throw new Error(what + " has an odd number of hex digits");
    return fromHexUnchecked(text);
  }

  // ---- DER --------------------------------------------------------------------------

  // Reads one tag-length-value at `offset`: {tag, start, end} of its contents.
  function readTlv(bytes, offset) {
    if (offset + 2 > bytes.length) throw new Error("DER: truncated");
    const tag = bytes[offset];
    let length = bytes[offset + 1];
    let start = offset + 2;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 4 || start + count > bytes.length) throw new Error("DER: bad length");
      length = 0;
      for (let i = 0; i < count; i += 1) length = length * 256 + bytes[start + i];
      start += count;
    }
    const end = start + length;
    if (end > bytes.length) throw new Error("DER: truncated");
    return { tag, start, end };
  }

  function lengthBytes(length) {
    if (length < 0x80) return [length];
    const out = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) out.unshift(n % 256);
    return [0x80 | out.length, ...out];
  }

  function tlv(tag, ...parts) {
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    const head = [tag, ...lengthBytes(length)];
    const out = new Uint8Array(head.length + length);
    out.set(head, 0);
    let at = head.length;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  function equalBytes(a, b) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }

  // The elements of a DER SEQUENCE that fills `bytes` exactly.
  function sequenceItems(bytes) {
    const outer = readTlv(bytes, 0);
    if (outer.tag !== 0x30 || outer.end !== bytes.length) throw new Error("DER: not one SEQUENCE");
    const items = [];
    for (let at = outer.start; at < outer.end; ) {
      const item = readTlv(bytes, at);
      items.push({ ...item, der: bytes.subarray(at, item.end), value: bytes.subarray(item.start, item.end) });
      at = item.end;
    }
    return items;
  }

  /** Wraps PKCS#1 RSAPrivateKey DER in a PKCS#8 PrivateKeyInfo, as Web Crypto imports it. */
  function pkcs1ToPkcs8(pkcs1) {
    sequenceItems(pkcs1);
    return tlv(0x30, Uint8Array.of(0x02, 0x01, 0x00), RSA_ALGORITHM_ID, tlv(0x04, pkcs1));
  }

  /** Takes the PKCS#1 RSAPrivateKey DER out of a PKCS#8 PrivateKeyInfo of an RSA key. */
  function pkcs8ToPkcs1(pkcs8) {
    const [version, algorithm, key] = sequenceItems(pkcs8);
    const isRsa = algorithm && algorithm.tag === 0x30 && equalBytes(algorithm.value.subarray(0, RSA_OID.length), RSA_OID);
    if (!version || version.tag !== 0x02 || !equalBytes(version.value, [0]) || !isRsa || !key || key.tag !== 0x04) {
      throw new Error("not a PKCS#8 RSA private key");
    }
    return key.value.slice();
  }

  // The modulus size in bits and the public exponent of an RSA key, from its INTEGERs.
  function keyShape(modulus, exponent) {
    let n = modulus;
    while (n.length > 0 && n[0] === 0) n = n.subarray(1);
    const bits = n.length === 0 ? 0 : n.length * 8 - Math.clz32(n[0]) + 24;
    let e = 0n;
    for (const byte of exponent) e = e * 256n + BigInt(byte);
    return { bits, exponent: e, exponentBits: e.toString(2).length };
  }

  // The wallet app's checks on a key's shape (blockchain_core::wallet::check_key_shape).
  function checkShape({ bits, exponent, exponentBits }, what) {
    if (bits < MIN_KEY_BITS || bits > MAX_KEY_BITS) {
      throw new Error(`${what} is a ${bits}-bit key; keys must have ${MIN_KEY_BITS} to ${MAX_KEY_BITS} bits`);
    }
    if (exponentBits > 17 || exponent < 3n || exponent > 65537n || exponent % 2n === 0n) {
      const shown = exponentBits > 17 ? `of ${exponentBits} bits` : String(exponent);
      throw new Error(`${what} has public exponent ${shown}; it must be odd and between 3 and 65537`);
    }
  }

  // ---- keys ---------------------------------------------------------------------------

  /** Makes a key pair: {private_key, public_key} in the wallet encodings. */
  async function generate(bits) {
    const size = Number(bits);
    if (!Number.isInteger(size) || size < MIN_KEY_BITS || size > MAX_KEY_BITS) {
      throw new FieldError("bits", `bits must be ${MIN_KEY_BITS} to ${MAX_KEY_BITS}, not ${bits}`);
    }
    const pair = await subtle().generateKey(
      { ...ALGORITHM, modulusLength: size, publicExponent: Uint8Array.of(1, 0, 1) },
      true,
      ["sign", "verify"],
    );
    const [pkcs8, spki] = await Promise.all([
      subtle().exportKey("pkcs8", pair.privateKey),
      subtle().exportKey("spki", pair.publicKey),
    ]);
    return { private_key: toHex(pkcs8ToPkcs1(new Uint8Array(pkcs8))), public_key: toHex(spki) };
  }

  /**
   * Reads a private key (PKCS#1 hex): {key, address, bits}, where `key` is a Web Crypto key
   * that can only sign and `address` the key's public key hex (SubjectPublicKeyInfo DER).
   * Errors say "private key …", as the wallet app's do.
   */
  async function readPrivateKey(text) {
    const what = "private key";
    const pkcs1 = fromHex(text.trim(), what);
    let items;
    try {
      items = sequenceItems(pkcs1);
    } catch (_) {
      items = [];
    }
    // RSAPrivateKey ::= SEQUENCE { version, modulus, publicExponent, privateExponent, … }
    const [version, modulus, exponent] = items;
    if (items.length < 9 || [version, modulus, exponent].some((item) => item.tag !== 0x02)) {
      throw new Error(`${what} is not an RSA private key (DER PKCS#1 in hex)`);
    }
    const shape = keyShape(modulus.value, exponent.value);
    checkShape(shape, what);
    let key;
    try {
      key = await subtle().importKey("pkcs8", pkcs1ToPkcs8(pkcs1), ALGORITHM, false, ["sign"]);
    } catch (_) {
      throw new Error(`${what} is not an RSA private key (DER PKCS#1 in hex)`);
    }
    // SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING <RSAPublicKey> }
    const rsaPublicKey = tlv(0x30, modulus.der, exponent.der);
    const spki = tlv(0x30, RSA_ALGORITHM_ID, tlv(0x03, Uint8Array.of(0), rsaPublicKey));
    return { key, address: toHex(spki), bits: shape.bits };
  }

  /**
   * Reads an address (a public key as hex of SubjectPublicKeyInfo DER), naming the field
   * `what` in errors; returns it as lowercase hex, as messages carry it.
   */
  async function readAddress(text, what) {
    const der = fromHex(text, what);
    let items = [];
    try {
      items = sequenceItems(der);
    } catch (_) {
      items = [];
    }
    const [algorithm, bitString] = items;
    let rsa = null;
    if (items.length === 2 && algorithm.tag === 0x30 && bitString.tag === 0x03 && equalBytes(algorithm.der, RSA_ALGORITHM_ID) && bitString.value[0] === 0) {
      try {
        rsa = sequenceItems(bitString.value.subarray(1));
      } catch (_) {
        rsa = null;
      }
    }
    if (!rsa || rsa.length !== 2 || rsa.some((item) => item.tag !== 0x02)) {
      if (await isPrivateKey(der)) throw new Error(`${what} is a private key, not a public key: never share a private key`);
      throw new Error(`${what} is not an RSA public key (DER SubjectPublicKeyInfo in hex)`);
    }
    checkShape(keyShape(rsa[0].value, rsa[1].value), what);
    try {
      await subtle().importKey("spki", der, ALGORITHM, false, ["verify"]);
    } catch (_) {
      throw new Error(`${what} is not an RSA public key (DER SubjectPublicKeyInfo in hex)`);
    }
    return toHex(der);
  }

  async function isPrivateKey(der) {
    try {
      await subtle().importKey("pkcs8", pkcs1ToPkcs8(der), ALGORITHM, false, ["sign"]);
      return true;
    } catch (_) {
      return false;
    }
  }

  // ---- the signed message -------------------------------------------------------------

  // Python's repr() of a string that holds only letters, digits, '.', '-' and '_' (hex keys,
  // decimal amounts, nonces, field names: all that a checked transaction holds) is the
  // string in single quotes.
  function repr(text) {
    if (!/^[A-Za-z0-9._-]*$/.test(text)) throw new Error("unexpected characters in a message field");
    return "'" + text + "'";
  }

  /**
   * The signed message for ordered [key, value] pairs: `classic` is Python 3.6 to 3.11's
   * `OrderedDict([('k', 'v'), …])`, `python312` is `OrderedDict({'k': 'v', …})`.
   */
  function message(fields, style = "classic") {
    if (style === "python312") {
      return "OrderedDict({" + fields.map(([key, value]) => repr(key) + ": " + repr(value)).join(", ") + "})";
    }
    if (style !== "classic") throw new Error("unknown message style " + style);
    return "OrderedDict([" + fields.map(([key, value]) => "(" + repr(key) + ", " + repr(value) + ")").join(", ") + "])";
  }

  /** Signs `text` (UTF-8) with a key from readPrivateKey, or a private key's hex. */
  async function signMessage(key, text) {
    const cryptoKey = typeof key === "string" ? (await readPrivateKey(key)).key : key;
    const signature = await subtle().sign(ALGORITHM, cryptoKey, new TextEncoder().encode(text));
    return toHex(signature);
  }

  // ---- transactions -------------------------------------------------------------------

  // The first 40 bytes of `text` (UTF-8), as the wallet app clips what it quotes.
  function clip(text) {
    let bytes = 0;
    let out = "";
    for (const char of text) {
      bytes += new TextEncoder().encode(char).length;
      if (bytes > 40) return out + "\u2026";
      out += char;
    }
    return out;
  }

  /** Checks an amount as blockchain_core::Amount::parse_value does; returns the text. */
  function checkAmount(text) {
    const fail = (words) => {
      throw new FieldError("amount", "amount: " + words);
    };
    if (text === "") fail("no amount given");
    const quoted = JSON.stringify(clip(text));
    const [whole, fraction, more] = text.split(".");
    const digits = (part) => /^[0-9]+$/.test(part);
    if (more !== undefined || !digits(whole) || (fraction !== undefined && !digits(fraction))) {
      fail(`${quoted} is not a plain decimal number (digits, optionally a point and up to ${DECIMALS} decimals)`);
    }
    if (fraction !== undefined && fraction.length > DECIMALS) fail(`${quoted} has more than ${DECIMALS} decimal places`);
    const units = BigInt(whole) * 10n ** BigInt(DECIMALS) + BigInt((fraction || "").padEnd(DECIMALS, "0"));
    if (units > MAX_COINS * 10n ** BigInt(DECIMALS)) fail(`${quoted} is larger than the maximum of ${MAX_COINS} coins`);
    if (units === 0n) fail("the amount must be greater than zero");
    return text;
  }

  function checkNonce(nonce) {
    if (nonce.length === 0 || nonce.length > MAX_NONCE_LEN || !/^[A-Za-z0-9_-]+$/.test(nonce)) {
      throw new FieldError("nonce", `nonce must be 1 to ${MAX_NONCE_LEN} characters of letters, digits, '-' or '_'`);
    }
    return nonce;
  }

  /** A random nonce of 16 hex digits, as the wallet app makes. */
  function randomNonce() {
    return toHex(globalThis.crypto.getRandomValues(new Uint8Array(NONCE_HEX_LEN / 2)));
  }

  /** As blockchain_core::wallet::short_key: the ends of a key's modulus, "e2baa590…4f2c1a9e". */
  function shortKey(text) {
    if (!text || text.length <= 24 || !/^[\x00-\x7f]*$/.test(text)) return text;
    const start = text.startsWith("30819f") ? 58 : text.startsWith("3082") && text.length > 400 ? 66 : 0;
    const end = start > 0 && text.endsWith("0203010001") ? text.length - 10 : text.length;
    return text.slice(start, start + 8) + "\u2026" + text.slice(end - 8, end);
  }

  const withField = (field, prefix) => (err) => {
    throw err instanceof FieldError ? err : new FieldError(field, prefix + err.message);
  };

  /**
   * Checks the form's fields in the wallet app's order and with its words, and reads the
   * key: {key, sender, recipient, value}. Throws a FieldError naming the first bad field.
   */
  async function prepareTransaction({ sender_address, sender_private_key, recipient_address, amount }) {
    const sender = await readAddress(sender_address.trim(), "sender_address").catch(withField("sender_address", ""));
    const key = await readPrivateKey(sender_private_key).catch(withField("sender_private_key", "sender_private_key: "));
    if (sender !== key.address) {
      throw new FieldError(
        "sender_address",
        `sender_address does not belong to the private key (the key's address is ${shortKey(key.address)})`,
      );
    }
    const recipient = await readAddress(recipient_address.trim(), "recipient_address").catch(withField("recipient_address", ""));
    if (recipient === key.address) {
      throw new FieldError("recipient_address", "recipient_address is the sender's own address; pay another wallet");
    }
    return { key: key.key, sender, recipient, value: checkAmount(amount.trim()) };
  }

  /**
   * Signs a prepared transaction. `nonce`: a string, or null for the original three-field
   * message; `style`: how the message is printed (`classic`, or `python312` for an original
   * node on Python 3.12+). Returns the wallet app's /generate/transaction answer:
   * {signature, transaction: {nonce?, recipient_address, sender_address, value}}.
   */
  async function signTransaction(prepared, { nonce = randomNonce(), style = "classic" } = {}) {
    const fields = [
      ["sender_address", prepared.sender],
      ["recipient_address", prepared.recipient],
      ["value", prepared.value],
    ];
    if (nonce !== null) fields.push(["nonce", checkNonce(nonce)]);
    const signature = await signMessage(prepared.key, message(fields, style));
    const transaction = nonce === null ? {} : { nonce };
    Object.assign(transaction, { recipient_address: prepared.recipient, sender_address: prepared.sender, value: prepared.value });
    return { signature, transaction };
  }

  globalThis.WalletCrypto = Object.freeze({
    available,
    generate,
    readPrivateKey,
    readAddress,
    message,
    signMessage,
    checkAmount,
    randomNonce,
    shortKey,
    prepareTransaction,
    signTransaction,
    FieldError,
    hex: Object.freeze({ encode: toHex, decode: (text) => fromHex(text, "hex") }),
    der: Object.freeze({ pkcs1ToPkcs8, pkcs8ToPkcs1 }),
  });
})();
