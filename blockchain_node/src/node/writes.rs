//! The storage writes that put a block, or switch to a branch, on the stored main chain.

use blockchain_core::{Address, Amount, Ledger, Transaction, TxId};

use super::StoredBlock;
use crate::addresses;
use crate::blocks::BlockInfo;
use crate::storage::Write;

/// The writes that store a block joining the main chain: its body, header, the balances
/// it sets, the ids it confirms and its address index entries.
pub(super) fn block_writes(
    stored: &StoredBlock,
    balances: impl IntoIterator<Item = (Address, Amount)>,
    confirmed: &[TxId],
) -> Vec<Write> {
    let block = &stored.block;
    let mut writes = vec![
        Write::PutBody {
            number: block.number(),
            hash: block.hash().0,
            json: stored.json.clone(),
        },
        Write::PutHeader {
            number: block.number(),
            record: BlockInfo::of(block).to_record(),
        },
    ];
    writes.extend(
        balances
            .into_iter()
            .map(|(address, amount)| Write::SetBalance {
                address: address.as_hex().into(),
                units: amount.units(),
            }),
    );
    writes.push(Write::PutBlockIds {
        block: block.number(),
        ids: confirmed.iter().flat_map(|id| id.0).collect(),
    });
    writes.extend(addresses::additions(stored));
    writes
}

/// The writes that switch the stored main chain from `abandoned` to `branch` (both
/// oldest first, from the same fork), leaving `ledger`'s balances.
pub(super) fn branch_writes(
    abandoned: &[StoredBlock],
    branch: &[StoredBlock],
    ledger: &Ledger,
) -> Vec<Write> {
    let fork = branch.first().map_or(u64::MAX, |b| b.block.number());
    let mut writes = vec![
        Write::TruncateHeaders { from: fork },
        Write::TruncateBlockIds { from: fork },
    ];
    let mut touched = std::collections::HashSet::new();
    for stored in abandoned {
        writes.extend(addresses::removals(&stored.block));
        for tx in stored.block.transactions() {
            touched.extend(tx.sender().wallet().cloned());
            touched.insert(tx.recipient().clone());
        }
    }
    for stored in branch {
        let ids: Vec<TxId> = stored
            .block
            .transactions()
            .iter()
            .map(Transaction::id)
            .collect();
        writes.extend(block_writes(stored, [], &ids));
        for tx in stored.block.transactions() {
            touched.extend(tx.sender().wallet().cloned());
            touched.insert(tx.recipient().clone());
        }
    }
    let balances = touched.into_iter().map(|address| {
        let amount = ledger.balance(&address);
        (address, amount)
    });
    writes.extend(balances.map(|(address, amount)| Write::SetBalance {
        address: address.as_hex().into(),
        units: amount.units(),
    }));
    writes
}
