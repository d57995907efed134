//! Proof of work over a fixed-size header, with a precomputed SHA-256 midstate.
//!
//! The header is 96 bytes: everything but the last 32 bytes fits the first 64-byte SHA-256
//! block, whose compression is done once per template; each try then costs exactly one
//! compression of the second block, where only the nonce changes. A block with 10,000
//! transactions costs the same per try as an empty one, because the header holds only
//! their root.
//!
//! Difficulty counts leading zero bits of the header hash, so it is four times finer than
//! the original's hex digits: the original's difficulty `2` (two leading hex zeros) is
//! difficulty `8` here.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::block_api::compress256;
use thiserror::Error;

/// Bytes of a serialized block header.
pub const HEADER_LEN: usize = 96;
/// Offset of the nonce inside the header; it is the last field.
pub const NONCE_OFFSET: usize = HEADER_LEN - 8;

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Required leading zero bits of a block hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Difficulty(u32);

/// Why a number is not a difficulty.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("difficulty {0} is out of range; it counts leading zero bits, from 0 to {max}", max = Difficulty::MAX.0)]
pub struct DifficultyError(pub u64);

impl Difficulty {
    /// Past 64 bits no machine finds a block; capping keeps work sums in a `u128`.
    pub const MAX: Difficulty = Difficulty(64);

    /// # Errors
    /// [`DifficultyError`] above [`Difficulty::MAX`].
    pub fn new(bits: u32) -> Result<Self, DifficultyError> {
        if bits > Self::MAX.0 {
            return Err(DifficultyError(u64::from(bits)));
        }
        Ok(Difficulty(bits))
    }

    pub fn bits(self) -> u32 {
        self.0
    }

    /// The expected number of tries to meet this difficulty.
    pub fn work(self) -> Work {
        Work(1u128 << self.0)
    }

    /// Whether `hash` starts with at least this many zero bits.
    pub fn is_met_by(self, hash: &[u8; 32]) -> bool {
        leading_zero_bits(hash) >= self.0
    }
}

impl TryFrom<u32> for Difficulty {
    type Error = DifficultyError;
    fn try_from(bits: u32) -> Result<Self, Self::Error> {
        Difficulty::new(bits)
    }
}
impl From<Difficulty> for u32 {
    fn from(d: Difficulty) -> u32 {
        d.0
    }
}
impl fmt::Display for Difficulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Expected hashes behind a block or a chain. Chains are compared by total work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Work(pub u128);

impl Work {
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }
    pub fn saturating_sub(self, other: Work) -> Work {
        Work(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Work {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Counts the leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &byte in hash {
        if byte != 0 {
            return bits + byte.leading_zeros();
        }
        bits += 8;
    }
    bits
}

/// A header with its nonce left open, and the SHA-256 state after its first 64 bytes.
#[derive(Clone)]
pub struct PowTemplate {
    midstate: [u32; 8],
    tail: [u8; 64],
}

impl PowTemplate {
    /// Prepares the search over `header`; its nonce bytes are ignored.
    pub fn new(header: &[u8; HEADER_LEN]) -> Self {
        let mut midstate = SHA256_IV;
        let first: [u8; 64] = header[..64].try_into().expect("64 bytes");
        compress256(&mut midstate, &[first]);
        let mut tail = [0u8; 64];
        tail[..HEADER_LEN - 64].copy_from_slice(&header[64..]);
        tail[HEADER_LEN - 64] = 0x80;
        tail[56..].copy_from_slice(&((HEADER_LEN as u64) * 8).to_be_bytes());
        PowTemplate { midstate, tail }
    }

    #[inline]
    fn state_for(&self, nonce: u64) -> [u32; 8] {
        let mut block = self.tail;
        block[NONCE_OFFSET - 64..HEADER_LEN - 64].copy_from_slice(&nonce.to_be_bytes());
        let mut state = self.midstate;
        compress256(&mut state, &[block]);
        state
    }

    /// The header hash with `nonce` filled in. Equals SHA-256 of the full header.
    pub fn hash(&self, nonce: u64) -> [u8; 32] {
        let state = self.state_for(nonce);
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Tries `count` nonces from `start`, stepping by `stride` (so threads can share a
    /// range); returns the first nonce that meets `difficulty`.
    pub fn search(
        &self,
        difficulty: Difficulty,
        start: u64,
        stride: u64,
        count: u64,
    ) -> Option<u64> {
        let bits = difficulty.bits();
        let mut nonce = start;
        for _ in 0..count {
            let state = self.state_for(nonce);
            let met = if bits <= 32 {
                bits == 0 || state[0].leading_zeros() >= bits
            } else {
                let hi = (u64::from(state[0]) << 32) | u64::from(state[1]);
                hi.leading_zeros() >= bits.min(64)
            };
            if met {
                return Some(nonce);
            }
            nonce = nonce.wrapping_add(stride);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn header(seed: u8) -> [u8; HEADER_LEN] {
        std::array::from_fn(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
    }

    #[test]
    fn midstate_hash_equals_plain_sha256() {
        let mut h = header(7);
        let template = PowTemplate::new(&h);
        for nonce in [0u64, 1, 0xdead_beef, u64::MAX] {
            h[NONCE_OFFSET..].copy_from_slice(&nonce.to_be_bytes());
            let plain: [u8; 32] = Sha256::digest(h).into();
            assert_eq!(template.hash(nonce), plain);
        }
    }

    #[test]
    fn search_finds_a_nonce_that_meets_the_difficulty() {
        let template = PowTemplate::new(&header(1));
        let difficulty = Difficulty::new(12).unwrap();
        let nonce = template.search(difficulty, 0, 1, 1 << 24).unwrap();
        assert!(difficulty.is_met_by(&template.hash(nonce)));
        // No earlier nonce met it.
        assert!((0..nonce).all(|n| !difficulty.is_met_by(&template.hash(n))));
    }

    #[test]
    fn leading_zero_bits_counts_across_bytes() {
        let mut hash = [0xffu8; 32];
        assert_eq!(leading_zero_bits(&hash), 0);
        hash[0] = 0;
        hash[1] = 0x0f;
        assert_eq!(leading_zero_bits(&hash), 12);
        assert_eq!(leading_zero_bits(&[0; 32]), 256);
    }

    #[test]
    fn difficulty_bounds_and_work() {
        assert!(Difficulty::new(65).is_err());
        assert_eq!(Difficulty::new(8).unwrap().work(), Work(256));
        assert!(serde_json::from_str::<Difficulty>("99").is_err());
    }
}
