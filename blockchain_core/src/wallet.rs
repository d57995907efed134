//! Wallets: RSA keys in the original client's encoding.
//!
//! A private key is the lowercase hex of PKCS#1 `RSAPrivateKey` DER; a public key, which is
//! also the wallet's address, is the lowercase hex of `SubjectPublicKeyInfo` DER. Parsing an
//! [`Address`] checks the key once (size 1024–4096 bits, a sane exponent) and keeps it
//! parsed, with its Montgomery parameters, so a caller that caches addresses never parses
//! a key twice.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::rand_core::CryptoRng;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::{Digest, Sha1};
use thiserror::Error;
use zeroize::Zeroizing;

use crate::signature;

/// Smallest modulus accepted: the original client makes 1024-bit keys.
pub const MIN_KEY_BITS: usize = 1024;
/// Largest modulus accepted; larger keys only make verification slower.
pub const MAX_KEY_BITS: usize = 4096;
/// Modulus size of the wallets we generate.
pub const DEFAULT_KEY_BITS: usize = 2048;

/// Why a text is not a usable key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("{what} is empty")]
    Empty { what: &'static str },
    #[error("{what} is not hexadecimal")]
    NotHex { what: &'static str },
    #[error("{what} has an odd number of hex digits")]
    OddLength { what: &'static str },
    #[error("{what} is a private key, not a public key: never share a private key")]
    PrivateKeyAsAddress { what: &'static str },
    #[error("{what} is not an RSA public key (DER SubjectPublicKeyInfo in hex)")]
    NotPublicKey { what: &'static str },
    #[error("private key is not an RSA private key (DER PKCS#1 in hex)")]
    NotPrivateKey,
    #[error("{what} is a {bits}-bit key; keys must have 1024 to 4096 bits")]
    SizeOutOfRange { what: &'static str, bits: usize },
    #[error("{what} has public exponent {exponent}; it must be odd and between 3 and 65537")]
    ExponentOutOfRange {
        what: &'static str,
        exponent: String,
    },
    #[error("cannot generate a {bits}-bit key; choose 1024 to 4096 bits")]
    GenerateSize { bits: usize },
    #[error("key generation failed: {0}")]
    Generate(String),
}

fn decode_hex(text: &str, what: &'static str) -> Result<Vec<u8>, KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty { what });
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::NotHex { what });
    }
    if text.len() % 2 == 1 {
        return Err(KeyError::OddLength { what });
    }
    decode_checked_hex(text).map_err(|_| KeyError::NotHex { what })
}

/// Decodes hex of even length into a buffer sized up front: `hex::decode` collects through
/// an iterator of results, which the node's profile showed at 2% of a submission.
pub(crate) fn decode_checked_hex(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
    let mut bytes = vec![0; text.len() / 2];
    hex::decode_to_slice(text, &mut bytes)?;
    Ok(bytes)
}

fn check_key_shape(key: &RsaPublicKey, what: &'static str) -> Result<(), KeyError> {
    let bits = key.n().as_ref().bits() as usize;
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
        return Err(KeyError::SizeOutOfRange { what, bits });
    }
    let e = key.e();
    let small = e.bits() <= 17;
    let value = e.to_be_bytes().iter().fold(0u64, |acc, &b| {
        if small {
            (acc << 8) | u64::from(b)
        } else {
            acc
        }
    });
    if !small || !(3..=65537).contains(&value) || value % 2 == 0 {
        return Err(KeyError::ExponentOutOfRange {
            what,
            exponent: if small {
                value.to_string()
            } else {
                format!("of {} bits", e.bits())
            },
        });
    }
    Ok(())
}

/// Shortens hex for display: for a public key, the first and last eight digits of its
/// modulus (every key shares its DER header and, with exponent 65537, its ending); for
/// other hex longer than 24 digits, its first and last eight. The wallet page's script
/// shortens keys the same way.
pub fn short_key(hex: &str) -> String {
    const EXPONENT_TRAILER: &str = "0203010001";
    if hex.len() <= 24 || !hex.is_ascii() {
        return hex.to_owned();
    }
    let start = if hex.starts_with("30819f") {
        58
    } else if hex.starts_with("3082") && hex.len() > 400 {
        66
    } else {
        0
    };
    let end = if start > 0 && hex.ends_with(EXPONENT_TRAILER) {
        hex.len() - EXPONENT_TRAILER.len()
    } else {
        hex.len()
    };
    format!("{}…{}", &hex[start..start + 8], &hex[end - 8..end])
}

/// A wallet's public key, which is also its address. Cheap to clone.
#[derive(Clone)]
pub struct Address(Arc<AddressInner>);

struct AddressInner {
    hex: Box<str>,
    der: Box<[u8]>,
    bits: usize,
    key: RsaPublicKey,
}

impl Address {
    /// Parses an address (a public key as lowercase or uppercase hex of SPKI DER).
    ///
    /// # Errors
    /// A [`KeyError`] that names the problem, using `"address"` as the field name.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        Self::parse_field(text, "address")
    }

    /// As [`Address::from_hex`], naming the field in errors (`"sender_address"`, …).
    ///
    /// # Errors
    /// A [`KeyError`] naming `what`.
    pub fn parse_field(text: &str, what: &'static str) -> Result<Self, KeyError> {
        let der = decode_hex(text, what)?;
        let key = match RsaPublicKey::from_public_key_der(&der) {
            Ok(key) => key,
            Err(_) if RsaPrivateKey::from_pkcs1_der(&der).is_ok() => {
                return Err(KeyError::PrivateKeyAsAddress { what });
            }
            Err(_) => return Err(KeyError::NotPublicKey { what }),
        };
        check_key_shape(&key, what)?;
        Ok(Self::from_checked(key, der))
    }

    fn from_checked(key: RsaPublicKey, der: Vec<u8>) -> Self {
        let bits = key.n().as_ref().bits() as usize;
        Address(Arc::new(AddressInner {
            hex: hex::encode(&der).into_boxed_str(),
            der: der.into_boxed_slice(),
            bits,
            key,
        }))
    }

    /// The address as lowercase hex, exactly as it appears in signed messages.
    pub fn as_hex(&self) -> &str {
        &self.0.hex
    }

    /// The DER bytes of the public key.
    pub fn as_der(&self) -> &[u8] {
        &self.0.der
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.bits
    }

    /// Signature length in bytes for this key.
    pub fn signature_len(&self) -> usize {
        self.0.bits.div_ceil(8)
    }

    /// A short form for display: digits from the start and the end of the modulus (every
    /// key shares its first bytes, the DER header, and its last, the exponent 65537).
    pub fn short(&self) -> String {
        short_key(self.as_hex())
    }

    /// Checks an RSASSA-PKCS1-v1_5 / SHA-1 signature over `message` made by this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifies_digest(Sha1::new_with_prefix(message), signature)
    }

    /// As [`Address::verifies`], for a message already fed to `message_hash`, so that a
    /// caller can hash a message as it writes it instead of building it first.
    pub fn verifies_digest(&self, message_hash: Sha1, signature: &[u8]) -> bool {
        self.open_signature(signature)
            .is_some_and(|opened| opened.signs(&message_hash.finalize().into()))
    }

    /// Opens `signature` with this key, to be compared with one or more digests.
    pub(crate) fn open_signature(&self, signature: &[u8]) -> Option<signature::Opened> {
        signature::open(&self.0.key, signature)
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.der == other.0.der
    }
}
impl Eq for Address {}
impl Hash for Address {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.der.hash(state);
    }
}
impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Address {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.der.cmp(&other.0.der)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.short())
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_hex())
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_hex())
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Address::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// A private key. Its `Debug` never prints the key, and its hex form is zeroed on drop.
pub struct PrivateKey {
    signer: SigningKey<Sha1>,
    address: Address,
}

impl PrivateKey {
    /// Parses a private key (hex of PKCS#1 `RSAPrivateKey` DER).
    ///
    /// # Errors
    /// A [`KeyError`]; the message never contains the key.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let der = Zeroizing::new(decode_hex(text.trim(), "private key")?);
        let key = RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| KeyError::NotPrivateKey)?;
        Self::from_key(key, "private key")
    }

    fn from_key(key: RsaPrivateKey, what: &'static str) -> Result<Self, KeyError> {
        let public = key.to_public_key();
        check_key_shape(&public, what)?;
        let der = public
            .to_public_key_der()
            .map_err(|e| KeyError::Generate(e.to_string()))?
            .into_vec();
        Ok(PrivateKey {
            signer: SigningKey::new(key),
            address: Address::from_checked(public, der),
        })
    }

    /// Generates a new key of `bits` bits with public exponent 65537.
    ///
    /// # Errors
    /// [`KeyError::GenerateSize`] outside 1024–4096 bits.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self, KeyError> {
        if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(KeyError::GenerateSize { bits });
        }
        let key = RsaPrivateKey::new(rng, bits).map_err(|e| KeyError::Generate(e.to_string()))?;
        Self::from_key(key, "generated key")
    }

    /// The address (public key) of this key.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The key as lowercase hex of PKCS#1 DER, zeroed when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let der = self
            .signer
            .as_ref()
            .to_pkcs1_der()
            .expect("a two-prime key always encodes");
        Zeroizing::new(hex::encode(der.as_bytes()))
    }

    /// Signs `message` with RSASSA-PKCS1-v1_5 over SHA-1. Deterministic.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer.sign(message).to_vec()
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(for {:?})", self.address)
    }
}

/// A generated wallet: a private key and its address.
pub type Wallet = PrivateKey;

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_1024: &str = "30819f300d06092a864886f70d010101050003818d00";

    #[test]
    fn generated_keys_round_trip_in_the_original_encoding() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let hex = key.to_hex();
        assert!(hex.starts_with("3082025"), "PKCS#1 DER: {}", &hex[..14]);
        assert!(key.address().as_hex().starts_with(PUBLIC_1024));
        assert_eq!(key.address().as_der().len(), 162);
        let again = PrivateKey::from_hex(&hex).unwrap();
        assert_eq!(again.address(), key.address());
        assert_eq!(
            Address::from_hex(key.address().as_hex()).unwrap(),
            *key.address()
        );
    }

    #[test]
    fn refuses_bad_addresses_by_name() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        type Expect = fn(&KeyError) -> bool;
        let cases: Vec<(String, Expect)> = vec![
            (String::new(), |e| matches!(e, KeyError::Empty { .. })),
            ("not-a-hex-key".into(), |e| {
                matches!(e, KeyError::NotHex { .. })
            }),
            ("abc".into(), |e| matches!(e, KeyError::OddLength { .. })),
            ("deadbeef".into(), |e| {
                matches!(e, KeyError::NotPublicKey { .. })
            }),
            (key.to_hex().to_string(), |e| {
                matches!(e, KeyError::PrivateKeyAsAddress { .. })
            }),
        ];
        for (text, expected) in cases {
            let err = Address::from_hex(&text).unwrap_err();
            assert!(expected(&err), "{err:?}");
            assert!(!err.to_string().contains(&text) || text.len() < 20);
        }
    }

    fn spki_hex(modulus_bits: u32, exponent: u64) -> String {
        let mut n = vec![0xc5u8; (modulus_bits as usize).div_ceil(8)];
        *n.last_mut().unwrap() |= 1;
        let n = rsa::BoxedUint::from_be_slice(&n, modulus_bits).unwrap();
        let e = rsa::BoxedUint::from(exponent);
        let key = RsaPublicKey::new_unchecked(n, e);
        hex::encode(key.to_public_key_der().unwrap().as_bytes())
    }

    #[test]
    fn refuses_keys_outside_the_size_and_exponent_range() {
        let err = Address::from_hex(&spki_hex(512, 65537)).unwrap_err();
        assert!(matches!(err, KeyError::NotPublicKey { .. }), "{err:?}");
        let err = Address::from_hex(&spki_hex(4104, 65537)).unwrap_err();
        assert!(
            matches!(err, KeyError::SizeOutOfRange { bits: 4104, .. }),
            "{err:?}"
        );
        let err = Address::from_hex(&spki_hex(2048, (1 << 32) + 1)).unwrap_err();
        assert!(
            matches!(err, KeyError::ExponentOutOfRange { .. }),
            "{err:?}"
        );
        assert!(Address::from_hex(&spki_hex(2048, 65537)).is_ok());
        assert!(matches!(
            PrivateKey::generate(&mut rand::rng(), 512),
            Err(KeyError::GenerateSize { bits: 512 })
        ));
    }

    #[test]
    fn short_forms_come_from_the_modulus() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let hex = key.address().as_hex();
        let modulus = &hex[58..hex.len() - 10];
        assert_eq!(
            key.address().short(),
            format!("{}…{}", &modulus[..8], &modulus[modulus.len() - 8..])
        );
        assert_eq!(
            short_key(&"ab".repeat(32)),
            format!("{}…{}", "abababab", "abababab")
        );
        assert_eq!(short_key("THE BLOCKCHAIN"), "THE BLOCKCHAIN");
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&key.to_hex()[20..60]));
    }
}
