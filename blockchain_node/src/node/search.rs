//! Lookups by a hex prefix, for the explorer's search box: block hashes and transaction
//! ids that start with what was typed. Each scans the headers or ids in memory (a few
//! milliseconds for a million) and stops at the second match: one is an answer, two mean
//! the prefix is ambiguous.

use blockchain_core::TxId;

use super::Node;

/// Lowercase hex digits, at most 64: the start of a hash or an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexPrefix(Vec<u8>);

impl HexPrefix {
    /// `text` as a prefix: `None` if it holds anything but hex digits, or more than 64.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() > 64 {
            return None;
        }
        text.chars()
            .map(|c| c.to_digit(16).map(|d| d as u8))
            .collect::<Option<Vec<u8>>>()
            .map(HexPrefix)
    }

    /// How many hex digits it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `bytes`' hex starts with this prefix.
    pub fn matches(&self, bytes: &[u8; 32]) -> bool {
        self.0.iter().enumerate().all(|(i, digit)| {
            let byte = bytes[i / 2];
            let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
            nibble == *digit
        })
    }
}

impl Node {
    /// The numbers of up to two blocks of our chain whose hash starts with `prefix`.
    pub fn blocks_by_hash_prefix(&self, prefix: &HexPrefix) -> Vec<u64> {
        let state = self.read();
        state
            .blocks
            .infos(0, usize::MAX)
            .iter()
            .filter(|info| prefix.matches(&info.hash.0))
            .map(|info| info.number())
            .take(2)
            .collect()
    }

    /// Up to two transactions, pending or confirmed, whose id starts with `prefix`.
    pub fn transactions_by_prefix(&self, prefix: &HexPrefix) -> Vec<TxId> {
        let state = self.read();
        state
            .pool
            .iter()
            .map(|tx| tx.id())
            .chain(state.ledger.confirmed_ids().map(|(id, _)| *id))
            .filter(|id| prefix.matches(&id.0))
            .take(2)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_by_hex_digit_odd_lengths_included() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[1] = 0xc4;
        assert!(HexPrefix::parse("abc").unwrap().matches(&bytes));
        assert!(HexPrefix::parse("ABC4").unwrap().matches(&bytes));
        assert!(!HexPrefix::parse("abd").unwrap().matches(&bytes));
        assert!(HexPrefix::parse("").unwrap().matches(&bytes));
        assert_eq!(HexPrefix::parse("abg"), None);
        assert_eq!(HexPrefix::parse(&"a".repeat(65)), None);
        assert!(
            HexPrefix::parse(&hex::encode(bytes))
                .unwrap()
                .matches(&bytes)
        );
    }
}
