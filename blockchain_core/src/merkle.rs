//! Merkle proofs: that a transaction is in a block, shown with a handful of hashes rather
//! than the whole block.
//!
//! The tree is the one [`crate::block::merkle_root`] builds:
//!
//! ```text
//!  leaf  = SHA-256("tx"   ‖ id (32 bytes) ‖ signature bytes)
//!  node  = SHA-256("node" ‖ left ‖ right)
//!  level = the previous level's nodes paired in order; an odd last node is carried up
//!          unpaired (not hashed, not duplicated)
//! ```
//!
//! A proof is the path from a leaf up to the root: at each level where the leaf's branch
//! is paired, the sibling's hash and which side it sits on. A level where the branch is
//! carried up unpaired adds no step. [`merkle_path`] builds the path from a block's
//! leaves; [`verify_path`] folds it back up and compares with the root.

use std::fmt;

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::transaction::TxId;

/// Which side of the pair the sibling sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The sibling is the left node: `node(sibling, ours)`.
    Left,
    /// The sibling is the right node: `node(ours, sibling)`.
    Right,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One level of a proof: the sibling's hash and its side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProofStep {
    pub hash: [u8; 32],
    pub side: Side,
}

/// The leaf a transaction with this id and signature makes.
pub fn leaf_hash(id: &TxId, signature: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"tx");
    hasher.update(id.0);
    hasher.update(signature);
    hasher.finalize().into()
}

/// Hashes two sibling nodes into their parent.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"node");
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root over `leaves`, by the rule above; all zeros for no leaves.
pub fn root_of(leaves: &[[u8; 32]]) -> [u8; 32] {
    if leaves.is_empty() {
        return [0; 32];
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = parents(&level);
    }
    level[0]
}

/// The level above `level`: pairs hashed, an odd last node carried up as it is.
fn parents(level: &[[u8; 32]]) -> Vec<[u8; 32]> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => node_hash(left, right),
            [single] => *single,
            _ => unreachable!("chunks of two"),
        })
        .collect()
}

/// The path from leaf `index` up to the root of `leaves`, lowest level first; `None` if
/// there is no such leaf.
pub fn merkle_path(leaves: &[[u8; 32]], index: usize) -> Option<Vec<ProofStep>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    let mut level = leaves.to_vec();
    let mut at = index;
    while level.len() > 1 {
        let sibling = at ^ 1;
        if let Some(hash) = level.get(sibling) {
            let side = if sibling < at {
                Side::Left
            } else {
                Side::Right
            };
            path.push(ProofStep { hash: *hash, side });
        }
        level = parents(&level);
        at /= 2;
    }
    Some(path)
}

/// The root that `leaf` and `path` lead to.
pub fn root_from_path(leaf: &[u8; 32], path: &[ProofStep]) -> [u8; 32] {
    path.iter().fold(*leaf, |node, step| match step.side {
        Side::Left => node_hash(&step.hash, &node),
        Side::Right => node_hash(&node, &step.hash),
    })
}

/// A proof that does not lead to the root it claims.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "the path's {levels} level(s) lead from the leaf to {computed}, not to the Merkle root {expected}",
    computed = hex::encode(.computed),
    expected = hex::encode(.expected)
)]
pub struct ProofError {
    /// How many steps the path has: the failure shows at its top.
    pub levels: usize,
    pub computed: [u8; 32],
    pub expected: [u8; 32],
}

/// Checks that `leaf` and `path` lead to `root`.
///
/// # Errors
/// [`ProofError`] with the root they lead to instead.
pub fn verify_path(leaf: &[u8; 32], path: &[ProofStep], root: &[u8; 32]) -> Result<(), ProofError> {
    let computed = root_from_path(leaf, path);
    if computed == *root {
        Ok(())
    } else {
        Err(ProofError {
            levels: path.len(),
            computed,
            expected: *root,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn leaf(n: usize) -> [u8; 32] {
        Sha256::digest(n.to_le_bytes()).into()
    }

    fn leaves(count: usize) -> Vec<[u8; 32]> {
        (0..count).map(leaf).collect()
    }

    #[test]
    fn one_leaf_is_its_own_root_with_an_empty_path() {
        let leaves = leaves(1);
        assert_eq!(root_of(&leaves), leaves[0]);
        assert_eq!(merkle_path(&leaves, 0), Some(vec![]));
        assert!(verify_path(&leaves[0], &[], &leaves[0]).is_ok());
    }

    #[test]
    fn no_leaves_give_the_zero_root_and_no_path() {
        assert_eq!(root_of(&[]), [0; 32]);
        assert_eq!(merkle_path(&[], 0), None);
    }

    #[test]
    fn three_leaves_carry_the_third_up_unpaired() {
        let l = leaves(3);
        let root = node_hash(&node_hash(&l[0], &l[1]), &l[2]);
        assert_eq!(root_of(&l), root);
        // The third leaf is unpaired at the bottom: its only step is the top one.
        assert_eq!(
            merkle_path(&l, 2),
            Some(vec![ProofStep {
                hash: node_hash(&l[0], &l[1]),
                side: Side::Left
            }])
        );
        assert_eq!(
            merkle_path(&l, 0),
            Some(vec![
                ProofStep {
                    hash: l[1],
                    side: Side::Right
                },
                ProofStep {
                    hash: l[2],
                    side: Side::Right
                },
            ])
        );
    }

    #[test]
    fn five_leaves_pair_twice_then_carry_the_fifth_to_the_top() {
        let l = leaves(5);
        let left = node_hash(&node_hash(&l[0], &l[1]), &node_hash(&l[2], &l[3]));
        assert_eq!(root_of(&l), node_hash(&left, &l[4]));
        assert_eq!(
            merkle_path(&l, 4),
            Some(vec![ProofStep {
                hash: left,
                side: Side::Left
            }])
        );
        assert_eq!(merkle_path(&l, 3).unwrap().len(), 3);
        assert_eq!(merkle_path(&l, 5), None);
    }

    #[test]
    fn a_wrong_root_is_reported_with_the_one_reached() {
        let l = leaves(4);
        let path = merkle_path(&l, 1).unwrap();
        let error = verify_path(&l[1], &path, &[7; 32]).unwrap_err();
        assert_eq!(error.levels, 2);
        assert_eq!(error.computed, root_of(&l));
        assert!(error.to_string().contains(&hex::encode([7u8; 32])));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_leaf_proves_and_any_altered_step_fails(
            count in 1usize..=200,
            pick in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let l = leaves(count);
            let root = root_of(&l);
            for (i, leaf) in l.iter().enumerate() {
                let path = merkle_path(&l, i).unwrap();
                prop_assert!(path.len() <= 8);
                prop_assert_eq!(verify_path(leaf, &path, &root), Ok(()));
            }
            let i = pick.index(count);
            let path = merkle_path(&l, i).unwrap();
            if !path.is_empty() {
                let level = flip.index(path.len());
                let mut hash_altered = path.clone();
                hash_altered[level].hash[usize::from(bit) * 4] ^= 1 << bit;
                prop_assert!(verify_path(&l[i], &hash_altered, &root).is_err());
                let mut side_altered = path.clone();
                side_altered[level].side = match path[level].side {
                    Side::Left => Side::Right,
                    Side::Right => Side::Left,
                };
                prop_assert!(verify_path(&l[i], &side_altered, &root).is_err());
                let mut dropped = path.clone();
                dropped.remove(level);
                prop_assert!(verify_path(&l[i], &dropped, &root).is_err());
            }
            let mut leaf = l[i];
            leaf[0] ^= 1;
            prop_assert!(verify_path(&leaf, &path, &root).is_err());
        }
    }
}
