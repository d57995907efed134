//! Checking an RSASSA-PKCS1-v1_5 / SHA-1 signature, the original client's scheme.
//!
//! The `rsa` crate parses the keys, makes our signatures, and is the reference these
//! checks are tested against. Its public-key power, though, is a constant-time
//! exponentiation with a 4-bit window: 35 Montgomery multiplications for the exponent
//! 65537, where square-and-multiply needs 17. Nothing in a signature check is secret (the
//! key, the message and the signature are all public), so [`open`] raises the signature
//! to the public exponent bit by bit, with `rsa`'s own big-integer crate and the key's
//! precomputed Montgomery parameters. A 1024-bit check, the bulk of a submission's cost,
//! takes about 7.4 µs here instead of 13.2.
//!
//! The opened block is then compared with the one encoding a digest may have (RFC 8017
//! §8.2.2: encode and compare, never parse), so one exponentiation serves every message
//! style a transaction may have been signed in.

use crypto_bigint::modular::BoxedMontyForm;
use crypto_bigint::{BoxedUint, MontyForm, MontyMultiplier};
use rsa::RsaPublicKey;
use rsa::traits::PublicKeyParts;

/// DER of `DigestInfo { AlgorithmIdentifier { sha1, NULL }, OCTET STRING (20 bytes) }`
/// up to the digest itself (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// A SHA-1 digest's length.
const DIGEST_LEN: usize = 20;

/// A signature raised to its key's public exponent: the encoded message `EM` of RFC 8017,
/// as many bytes as the modulus.
pub(crate) struct Opened(Box<[u8]>);

/// Opens `signature` with `key` (RSAVP1), or `None` when it cannot be a signature by that
/// key: a length other than the modulus's, or a value not below the modulus.
pub(crate) fn open(key: &RsaPublicKey, signature: &[u8]) -> Option<Opened> {
    let len = key.size();
    if signature.len() != len {
        return None;
    }
    let s = BoxedUint::from_be_slice(signature, key.n_bits_precision()).ok()?;
    if s >= *key.n().as_ref() {
        return None;
    }
    let params = key.n_params();
    let base = BoxedMontyForm::new(s, params);
    let mut power = base.clone();
    let mut multiplier = <BoxedMontyForm as MontyForm>::Multiplier::from(params);
    // Left to right from below the top bit, which `power` already holds. Variable time in
    // the exponent only, which is public.
    let e = key.e();
    for bit in (0..e.bits().saturating_sub(1)).rev() {
        multiplier.square_assign(&mut power);
        if e.bit_vartime(bit) {
            multiplier.mul_assign(&mut power, &base);
        }
    }
    let bytes = power.retrieve().to_be_bytes();
    // The integer is below the modulus, so any bytes of precision past its length are 0.
    let start = bytes.len() - len;
    let mut em = bytes.into_vec();
    em.drain(..start);
    Some(Opened(em.into_boxed_slice()))
}

impl Opened {
    /// Whether this is the EMSA-PKCS1-v1_5 encoding of a SHA-1 `digest`:
    /// `00 01 FF…FF 00 DigestInfo digest`, with at least eight `FF` bytes.
    pub(crate) fn signs(&self, digest: &[u8; DIGEST_LEN]) -> bool {
        let em = &self.0;
        let tail = SHA1_DIGEST_INFO.len() + DIGEST_LEN;
        let Some(padding) = em.len().checked_sub(tail + 3).filter(|&n| n >= 8) else {
            return false;
        };
        let (head, rest) = em.split_at(2 + padding);
        head[..2] == [0x00, 0x01]
            && head[2..].iter().all(|&b| b == 0xff)
            && rest[0] == 0x00
            && rest[1..=SHA1_DIGEST_INFO.len()] == SHA1_DIGEST_INFO
            && rest[1 + SHA1_DIGEST_INFO.len()..] == digest[..]
    }
}

#[cfg(test)]
mod tests {
    use rand::RngExt;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
    use rsa::signature::{SignatureEncoding, Signer, Verifier};
    use sha1::{Digest, Sha1};

    use super::*;

    /// What the `rsa` crate says of a signature: the reference.
    fn rsa_verifies(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|sig| {
            VerifyingKey::<Sha1>::new(key.clone())
                .verify(message, &sig)
                .is_ok()
        })
    }

    fn ours(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        let digest: [u8; 20] = Sha1::digest(message).into();
        open(key, signature).is_some_and(|opened| opened.signs(&digest))
    }

    fn key_with(bits: usize, exponent: u64) -> RsaPrivateKey {
        let mut rng = rand::rng();
        RsaPrivateKey::new_with_exp(&mut rng, bits, BoxedUint::from(exponent)).unwrap()
    }

    /// Signatures, altered signatures and other messages, over keys of several sizes
    /// (an odd one among them) and exponents: the check agrees with `rsa` on every one.
    #[test]
    fn agrees_with_the_rsa_crate() {
        let mut rng = rand::rng();
        for (bits, exponent) in [(1024, 65537), (2048, 65537), (1032, 65537), (1024, 3)] {
            let private = key_with(bits, exponent);
            let public = RsaPublicKey::from(&private);
            let signer = SigningKey::<Sha1>::new(private);
            for i in 0..20u32 {
                let message = format!("payment {i} of {bits}-bit e={exponent}");
                let signature = signer.sign(message.as_bytes()).to_vec();
                assert!(ours(&public, message.as_bytes(), &signature));
                assert!(rsa_verifies(&public, message.as_bytes(), &signature));
                assert!(!ours(&public, b"another message", &signature));

                let mut altered = signature.clone();
                let at = rng.random_range(0..altered.len());
                altered[at] ^= 1 << (i % 8);
                let mut random = vec![0u8; signature.len()];
                rng.fill(&mut random[..]);
                let too_big = vec![0xff; signature.len()];
                let short = &signature[1..];
                let long = [signature.as_slice(), &[0]].concat();
                for candidate in [&altered[..], &random, &too_big, short, &long, &[]] {
                    assert_eq!(
                        ours(&public, message.as_bytes(), candidate),
                        rsa_verifies(&public, message.as_bytes(), candidate),
                        "{bits}-bit e={exponent}, candidate {}",
                        hex::encode(candidate)
                    );
                    assert!(!ours(&public, message.as_bytes(), candidate));
                }
            }
        }
    }

    /// Signatures made with the private key over chosen encodings, each wrong in one of the
    /// ways lenient checks have accepted (RFC 8017 block type 2, a short padding with data
    /// after the digest, another hash's `DigestInfo`, no zero separator): `rsa` and this
    /// check refuse each, and both accept the one right encoding.
    #[test]
    fn agrees_with_the_rsa_crate_on_malformed_encodings() {
        use rsa::traits::PrivateKeyParts;

        let private = key_with(1024, 65537);
        let public = RsaPublicKey::from(&private);
        let k = public.size();
        let message = b"pay 5 to bob";
        let digest: [u8; 20] = Sha1::digest(message).into();
        // `em` raised to the private exponent: a signature whose opened block is `em`.
        let sign_raw = |em: &[u8]| {
            let m = BoxedUint::from_be_slice(em, public.n_bits_precision()).unwrap();
            let d = private.d();
            let s = BoxedMontyForm::new(m, public.n_params()).pow(d).retrieve();
            let bytes = s.to_be_bytes();
            bytes[bytes.len() - k..].to_vec()
        };
        let encode = |block_type: u8, padding: usize, info: &[u8], digest: &[u8], rest: &[u8]| {
            let mut em = vec![0x00, block_type];
            em.resize(2 + padding, 0xff);
            em.push(0x00);
            em.extend_from_slice(info);
            em.extend_from_slice(digest);
            em.extend_from_slice(rest);
            assert_eq!(em.len(), k, "the test builds whole blocks");
            em
        };
        let full = k - 3 - SHA1_DIGEST_INFO.len() - DIGEST_LEN;
        let right = encode(0x01, full, &SHA1_DIGEST_INFO, &digest, &[]);
        let signature = sign_raw(&right);
        assert!(ours(&public, message, &signature));
        assert!(rsa_verifies(&public, message, &signature));

        let mut sha256_info = SHA1_DIGEST_INFO;
        sha256_info[8] = 0x60; // 2.16.840.1.101.3.4.2.1's first arc, in sha1's place
        let mut no_separator = right.clone();
        no_separator[2 + full] = 0xff;
        let other: [u8; 20] = Sha1::digest(b"pay 500 to bob").into();
        let wrong = [
            (
                "block type 2",
                encode(0x02, full, &SHA1_DIGEST_INFO, &digest, &[]),
            ),
            (
                "data after the digest",
                encode(0x01, 8, &SHA1_DIGEST_INFO, &digest, &vec![0xab; full - 8]),
            ),
            (
                "another DigestInfo",
                encode(0x01, full, &sha256_info, &digest, &[]),
            ),
            ("no zero separator", no_separator),
            (
                "another message's digest",
                encode(0x01, full, &SHA1_DIGEST_INFO, &other, &[]),
            ),
        ];
        for (what, em) in wrong {
            let signature = sign_raw(&em);
            assert!(!ours(&public, message, &signature), "{what}");
            assert!(!rsa_verifies(&public, message, &signature), "{what}");
        }
    }

    /// One key for the property below: made once, since a key takes a while to make.
    fn shared_key() -> &'static (RsaPublicKey, SigningKey<Sha1>) {
        static KEY: std::sync::OnceLock<(RsaPublicKey, SigningKey<Sha1>)> =
            std::sync::OnceLock::new();
        KEY.get_or_init(|| {
            let private = key_with(1024, 65537);
            (RsaPublicKey::from(&private), SigningKey::new(private))
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes as a signature, of any length, and a real signature with any one byte
        /// replaced: the check never panics and says what `rsa` says.
        #[test]
        fn says_what_rsa_says_of_any_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..=130),
            at in 0usize..128,
            value in proptest::prelude::any::<u8>(),
        ) {
            let (public, signer) = shared_key();
            let message = b"any message";
            proptest::prop_assert_eq!(
                ours(public, message, &bytes),
                rsa_verifies(public, message, &bytes)
            );
            let mut replaced = signer.sign(message).to_vec();
            replaced[at] = value;
            proptest::prop_assert_eq!(
                ours(public, message, &replaced),
                rsa_verifies(public, message, &replaced)
            );
        }
    }

    /// An encoding with the right digest but any other byte wrong is refused, including
    /// the forms lenient parsers have accepted (short padding, trailing data).
    #[test]
    fn refuses_every_other_encoding() {
        let digest = [7u8; 20];
        let k = 128;
        let good = || {
            let mut em = vec![0x00, 0x01];
            em.resize(k - 36, 0xff);
            em.push(0x00);
            em.extend_from_slice(&SHA1_DIGEST_INFO);
            em.extend_from_slice(&digest);
            em
        };
        assert!(Opened(good().into()).signs(&digest));
        for at in 0..k {
            let mut em = good();
            em[at] ^= 0x40;
            assert!(!Opened(em.into()).signs(&digest), "byte {at} altered");
        }
        let mut short_padding = vec![0x00, 0x01, 0xff, 0x00];
        short_padding.extend_from_slice(&SHA1_DIGEST_INFO);
        short_padding.extend_from_slice(&digest);
        assert!(!Opened(short_padding.into()).signs(&digest));
        assert!(!Opened(Box::new([])).signs(&digest));
    }
}
