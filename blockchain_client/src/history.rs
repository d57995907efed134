//! A wallet's view of a node: its balance and the transactions that involve it.

use serde::Serialize;

use crate::node::{BalanceAnswer, ChainAnswer, NodeTransaction};

/// Whether a transaction is in a block yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Confirmed,
    Pending,
}

/// Which way the coins went, seen from the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

/// One line of a wallet's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub status: Status,
    /// The block holding it; `None` while pending.
    pub block: Option<u64>,
    /// The block's time in unix seconds; `None` while pending.
    pub timestamp: Option<u64>,
    pub direction: Direction,
    /// The other party: the recipient of a payment out, the sender of one in.
    pub counterparty: String,
    pub value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The `/api/wallet` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalletView {
    pub address: String,
    pub balance: String,
    pub pending: String,
    /// Newest first: pending transactions, then confirmed ones from the tip down.
    pub history: Vec<HistoryEntry>,
}

fn entry(
    address: &str,
    tx: &NodeTransaction,
    status: Status,
    block: Option<(u64, f64)>,
) -> Option<HistoryEntry> {
    let fields = &tx.fields;
    let direction = if fields.recipient_address == address {
        Direction::In
    } else if fields.sender_address == address {
        Direction::Out
    } else {
        return None;
    };
    let counterparty = match direction {
        Direction::In => &fields.sender_address,
        Direction::Out => &fields.recipient_address,
    };
    Some(HistoryEntry {
        status,
        block: block.map(|(number, _)| number),
        // Unix seconds fit an f64 exactly; the original node sends fractions, dropped here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        timestamp: block.map(|(_, time)| time.max(0.0) as u64),
        direction,
        counterparty: counterparty.clone(),
        value: fields.value.clone(),
        id: tx.id.clone(),
    })
}

/// Puts together the node's balance, chain and pool as seen by `address` (lowercase hex).
pub fn wallet_view(
    address: &str,
    balance: BalanceAnswer,
    chain: &ChainAnswer,
    pool: &[NodeTransaction],
) -> WalletView {
    let pending = pool
        .iter()
        .rev()
        .filter_map(|tx| entry(address, tx, Status::Pending, None));
    let confirmed = chain.chain.iter().rev().flat_map(|block| {
        block.transactions.iter().rev().filter_map(move |tx| {
            entry(
                address,
                tx,
                Status::Confirmed,
                Some((block.block_number, block.timestamp)),
            )
        })
    });
    WalletView {
        address: address.to_owned(),
        balance: balance.balance,
        pending: balance.pending,
        history: pending.chain(confirmed).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeBlock;
    use blockchain_core::TransactionJson;

    fn tx(from: &str, to: &str, value: &str) -> NodeTransaction {
        NodeTransaction {
            fields: TransactionJson {
                sender_address: from.into(),
                recipient_address: to.into(),
                value: value.into(),
                nonce: None,
                signature: String::new(),
            },
            id: Some(format!("{from}-{to}-{value}")),
        }
    }

    #[test]
    fn history_is_newest_first_and_seen_from_the_wallet() {
        let chain = ChainAnswer {
            chain: vec![
                NodeBlock {
                    block_number: 1,
                    timestamp: 100.5,
                    transactions: vec![tx("THE BLOCKCHAIN", "me", "100")],
                },
                NodeBlock {
                    block_number: 2,
                    timestamp: 200.0,
                    transactions: vec![tx("me", "bob", "5"), tx("carol", "dave", "1")],
                },
            ],
            length: 2,
        };
        let pool = vec![tx("bob", "me", "2"), tx("x", "y", "3")];
        let balance = BalanceAnswer {
            address: "me".into(),
            balance: "95".into(),
            pending: "2".into(),
        };
        let view = wallet_view("me", balance, &chain, &pool);
        let lines: Vec<_> = view
            .history
            .iter()
            .map(|e| {
                (
                    e.status,
                    e.block,
                    e.direction,
                    e.counterparty.as_str(),
                    e.value.as_str(),
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                (Status::Pending, None, Direction::In, "bob", "2"),
                (Status::Confirmed, Some(2), Direction::Out, "bob", "5"),
                (
                    Status::Confirmed,
                    Some(1),
                    Direction::In,
                    "THE BLOCKCHAIN",
                    "100"
                ),
            ]
        );
        assert_eq!(view.history[2].timestamp, Some(100));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["history"][0]["status"], "pending");
        assert_eq!(json["history"][0]["direction"], "in");
        assert_eq!(json["balance"], "95");
    }
}
