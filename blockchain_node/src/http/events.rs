//! `/events`: the dashboards' live feed, as server-sent events.
//!
//! ```text
//! node events (broadcast, bounded) ──► one feed task per page ──► mpsc (bounded) ──► SSE
//!   tx, block, reorg, mining,          blocks at once; other bursts coalesce
//!   peers, settings                    into one flush per MIN_GAP
//! ```
//!
//! A page that reads slowly fills its small channel; its feed task then waits, falls
//! behind on the broadcast and, when it has lagged, sends the page a fresh picture
//! instead of the events it missed. So no browser can make the node hold more than the
//! broadcast's fixed ring and a few messages per page. Each (re)connection starts with
//! the whole picture, so `EventSource`'s own reconnection is all a page needs.
//!
//! | event | data |
//! |---|---|
//! | `status` | as `GET /status` |
//! | `pending` | `{"count", "transactions": [first rows]}` |
//! | `block` | one new block: number, hash, time, difficulty, rows, origin, `committed_at_ms` |
//! | `chain` | `{"blocks": [recent blocks, newest last]}`: rebuild (after a reorg or a lag) |
//! | `reorg` | `{"fork", "height", "reinjected"}` |
//! | `mining` | the search in progress: tries, elapsed, hash rate, expected tries |
//! | `peers` | `{"peers": [health]}` |
//! | `stale` | `{"number", "hash"}`: a block kept off the best chain (the Network page) |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use blockchain_api::{
    BlockEvent, BlockOrigin, ChainEvent, PeersEvent, PendingEvent, ReorgEvent, StaleEvent, TxRow,
};
use blockchain_core::{Block, Transaction};
use futures_util::Stream;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::AppState;
use crate::node::Event;

/// Messages waiting for one page before its feed stops reading node events.
const STREAM_BUFFER: usize = 16;
/// Shortest time between two flushes to one page: bursts (thousands of transactions a
/// second) become a few messages a second.
const MIN_GAP: Duration = Duration::from_millis(100);
/// How often a page hears how the search in progress goes.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Pending transactions listed per message (the count covers the rest).
pub const PENDING_ROWS: usize = 100;
/// Rows sent per block; a block holds up to 10,000, the explorer shows them all.
const BLOCK_ROWS: usize = 100;
/// Blocks sent one by one in a flush; more become one `chain` message.
const BLOCKS_PER_FLUSH: usize = 20;
/// Blocks in a `chain` message.
pub const RECENT_BLOCKS: usize = 20;

/// `GET /events`: server-sent events named `status`, `pending`, `block`, `chain`, `reorg`,
/// `mining`, `peers` and `stale` (see the module's doc); the stream lasts until the client
/// leaves.
#[utoipa::path(get, path = "/events", tag = "chain",
    responses((status = 200, content_type = "text/event-stream",
        description = "Events `status` (Status), `pending` (PendingEvent), `block` (BlockEvent), \
            `chain` (ChainEvent), `reorg` (ReorgEvent), `mining` (MiningProgress), `peers` (PeersEvent), \
            `stale` (StaleEvent), each with its JSON as data",
        body = String)))]
pub async fn events(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
    tokio::spawn(feed(app, sender));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (Ok(event), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// What one flush has to say.
#[derive(Default)]
struct Batch {
    blocks: Vec<(Arc<Block>, BlockOrigin, u64)>,
    reorg: Option<ReorgEvent>,
    pending: bool,
    peers: bool,
    lagged: bool,
    stale: Vec<StaleEvent>,
}

impl Batch {
    fn add(&mut self, event: Event) {
        match event {
            Event::Transaction(_) => self.pending = true,
            Event::Block {
                block,
                origin,
                at_ms,
            } => {
                self.blocks.push((block, origin, at_ms));
                self.pending = true;
            }
            Event::Reorg {
                fork,
                height,
                reinjected,
                ..
            } => {
                self.reorg = Some(ReorgEvent {
                    fork,
                    height,
                    reinjected,
                });
                self.pending = true;
            }
            Event::Peers => self.peers = true,
            Event::Stale { number, hash } => self.stale.push(StaleEvent {
                number,
                hash: hex::encode(hash),
            }),
            Event::Mining | Event::Settings | Event::Storage => {}
        }
    }

    fn into_messages(self, app: &AppState) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if let Some(reorg) = &self.reorg {
            out.push(message("reorg", reorg));
        }
        if self.lagged || self.reorg.is_some() || self.blocks.len() > BLOCKS_PER_FLUSH {
            out.push(message("chain", &recent_blocks(app, RECENT_BLOCKS)));
        } else {
            for (block, origin, at_ms) in &self.blocks {
                out.push(message(
                    "block",
                    &block_event(block, Some((*origin, *at_ms))),
                ));
            }
        }
        for stale in &self.stale {
            out.push(message("stale", stale));
        }
        if self.pending || self.lagged {
            out.push(message("pending", &pending_event(app)));
        }
        out.push(message("status", &super::chain::status_of(app)));
        if self.peers || self.lagged {
            let peers = app.network.peer_health();
            out.push(message("peers", &PeersEvent { peers }));
        }
        out
    }
}

async fn feed(app: AppState, out: mpsc::Sender<SseEvent>) {
    let mut events = app.node.subscribe();
    let mut stop = app.shutdown.clone();
    let first = Batch {
        lagged: true,
        ..Batch::default()
    };
    for message in first.into_messages(&app) {
        if out.send(message).await.is_err() {
            return;
        }
    }
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_flush = Instant::now();
    loop {
        let mut batch = Batch::default();
        let mut urgent = false;
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => {
                    urgent = matches!(
                        event,
                        Event::Block { .. } | Event::Reorg { .. } | Event::Stale { .. }
                    );
                    batch.add(event);
                }
                Err(RecvError::Lagged(_)) => batch.lagged = true,
                Err(RecvError::Closed) => return,
            },
            _ = progress.tick(), if app.node.is_mining() => {
                if let Some(progress) = app.node.mining_progress()
                    && out
                        .send(message("mining", &progress))
                        .await
                        .is_err()
                {
                    return;
                }
                continue;
            }
            () = out.closed() => return,
            _ = stop.changed() => return,
        }
        // A block goes out at once, and so does the first event after a quiet spell; a
        // burst of others waits out the gap and goes out as one flush.
        if !urgent {
            tokio::time::sleep_until(last_flush + MIN_GAP).await;
        }
        loop {
            match events.try_recv() {
                Ok(event) => batch.add(event),
                Err(TryRecvError::Lagged(_)) => batch.lagged = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        for message in batch.into_messages(&app) {
            if out.send(message).await.is_err() {
                return;
            }
        }
        last_flush = Instant::now();
    }
}

fn message(name: &str, data: &impl serde::Serialize) -> SseEvent {
    SseEvent::default()
        .event(name)
        .json_data(data)
        .expect("dashboard messages serialize")
}

/// A transaction as the dashboards list it, in the original's field names.
pub fn tx_row(tx: &Transaction) -> TxRow {
    TxRow {
        id: tx.id().to_string(),
        mint: tx.is_mint(),
        recipient_address: tx.recipient().as_hex().to_owned(),
        sender_address: tx.sender().as_str().to_owned(),
        value: tx.amount().to_string(),
    }
}

/// A block as the dashboards show it: header fields and its first rows.
pub fn block_event(block: &Block, connected: Option<(BlockOrigin, u64)>) -> BlockEvent {
    let transactions = block.transactions();
    BlockEvent {
        block_number: block.number(),
        committed_at_ms: connected.map(|(_, at)| at),
        difficulty: block.difficulty().bits(),
        hash: block.hash().to_string(),
        origin: connected.map(|(origin, _)| origin),
        payments: transactions.iter().filter(|tx| !tx.is_mint()).count(),
        rows: transactions.iter().take(BLOCK_ROWS).map(tx_row).collect(),
        timestamp: block.timestamp(),
        transactions: transactions.len(),
        previous_hash: block.previous_hash().to_string(),
    }
}

/// The newest `count` blocks, oldest first.
pub fn recent_blocks(app: &AppState, count: usize) -> ChainEvent {
    let blocks = match app.node.recent_blocks(count) {
        Ok(blocks) => blocks
            .iter()
            .map(|stored| block_event(&stored.block, None))
            .collect(),
        Err(error) => {
            tracing::error!(%error, "recent blocks not readable");
            Vec::new()
        }
    };
    ChainEvent { blocks }
}

fn pending_event(app: &AppState) -> PendingEvent {
    PendingEvent {
        count: app.node.pending_count(),
        transactions: app.node.pending(PENDING_ROWS).iter().map(tx_row).collect(),
    }
}
