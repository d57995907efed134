//! The ids a chain confirmed, each with its block: what stops a replay.
//!
//! A node checks a peer's branch on a copy of its ledger and swaps the copy in only if
//! the branch is valid and better, so the ledger is copied once per reorg and per page of
//! a sync. As one map, a million ids took 50 ms to copy, under the lock submissions wait
//! on. Here most ids sit in a shared map that copies share, and only the ids added since
//! it was last folded are copied. Folding costs one copy of the shared map when another
//! ledger still shares it, and happens once the recent ids reach an eighth of it, so a
//! long sync pays for a full copy every few pages instead of every page.

use std::collections::HashMap;
use std::sync::Arc;

use crate::transaction::TxId;

/// Fewest recent ids that trigger a fold, so a small chain does not fold every block.
const MIN_FOLD: usize = 16_384;

#[derive(Debug, Clone, Default)]
pub struct ConfirmedIds {
    /// The bulk, shared between copies.
    settled: Arc<HashMap<TxId, u64>>,
    /// Ids added since the last fold; never also in `settled`.
    recent: HashMap<TxId, u64>,
}

impl ConfirmedIds {
    pub fn from_map(ids: HashMap<TxId, u64>) -> Self {
        ConfirmedIds {
            settled: Arc::new(ids),
            recent: HashMap::new(),
        }
    }

    /// The block that confirmed `id`.
    pub fn get(&self, id: &TxId) -> Option<u64> {
        self.recent
            .get(id)
            .or_else(|| self.settled.get(id))
            .copied()
    }

    pub fn len(&self) -> usize {
        self.settled.len() + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `id` as confirmed in `block`.
    pub fn insert(&mut self, id: TxId, block: u64) {
        if self.settled.contains_key(&id) {
            Arc::make_mut(&mut self.settled).insert(id, block);
            return;
        }
        self.recent.insert(id, block);
        if self.recent.len() >= (self.settled.len() / 8).max(MIN_FOLD) {
            Arc::make_mut(&mut self.settled).extend(self.recent.drain());
        }
    }

    /// Forgets `id` (its block was disconnected).
    pub fn remove(&mut self, id: &TxId) -> Option<u64> {
        if let Some(block) = self.recent.remove(id) {
            return Some(block);
        }
        if self.settled.contains_key(id) {
            return Arc::make_mut(&mut self.settled).remove(id);
        }
        None
    }

    /// Every confirmed id with its block, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&TxId, &u64)> {
        self.settled.iter().chain(self.recent.iter())
    }
}

/// The same ids in the same blocks, however they are split between the two maps.
impl PartialEq for ConfirmedIds {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(id, block)| other.get(id) == Some(*block))
    }
}

impl Eq for ConfirmedIds {}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> TxId {
        let mut bytes = [0; 32];
        bytes[..8].copy_from_slice(&n.to_le_bytes());
        TxId(bytes)
    }

    #[test]
    fn behaves_as_one_map_across_folds_copies_and_removals() {
        let mut ids = ConfirmedIds::default();
        let mut model = HashMap::new();
        for n in 0..50_000 {
            ids.insert(id(n), n / 100);
            model.insert(id(n), n / 100);
        }
        assert!(
            ids.settled.len() >= MIN_FOLD,
            "folded: {} settled",
            ids.settled.len()
        );
        let copy = ids.clone();
        assert!(Arc::ptr_eq(&copy.settled, &ids.settled), "copies share");
        // Removals from both parts, and a re-insert into the settled part.
        for n in (0..50_000).step_by(7) {
            assert_eq!(ids.remove(&id(n)), model.remove(&id(n)));
        }
        ids.insert(id(3), 999);
        model.insert(id(3), 999);
        for n in 50_000..90_000 {
            ids.insert(id(n), 7);
            model.insert(id(n), 7);
        }
        assert_eq!(ids.len(), model.len());
        for n in 0..95_000 {
            assert_eq!(ids.get(&id(n)), model.get(&id(n)).copied(), "id {n}");
        }
        assert_eq!(ids.remove(&id(94_000)), None);
        assert_eq!(ids, ConfirmedIds::from_map(model));
        // The copy taken before is untouched.
        assert_eq!(copy.len(), 50_000);
        assert_eq!(copy.get(&id(7)), Some(0));
        assert_ne!(copy, ids);
    }
}
