//! The writer thread: batches gathered into one group, the journal's new entries synced,
//! one redb commit, then the journal's removals; every waiting caller answered.

use std::sync::{Arc, Mutex, mpsc};

use super::recovery::{Backoff, Shared};

use redb::{Database, ReadableDatabase, ReadableTable};

use super::{
    BALANCES, BLOCK_IDS, BODIES, Batch, HEADERS, HISTORY, HISTORY_COUNTS, HISTORY_PREFIX,
    LEGACY_BLOCKS, LEGACY_POOL, MAX_BATCHES_PER_COMMIT, META, PEERS, STALE, StorageError, Write,
    body_key, history_items,
};
use crate::journal::{Change, Journal};

pub(super) fn write_loop(shared: &Shared, batches: &mpsc::Receiver<Batch>) {
    let mut backoff = Backoff::new();
    loop {
        let first = if shared.outage().is_none() {
            match batches.recv() {
                Ok(batch) => batch,
                Err(_) => return,
            }
        } else {
            match batches.recv_timeout(backoff.delay()) {
                Ok(batch) => batch,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    backoff.retry(shared);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        };
        let mut group = vec![first];
        while group.len() < MAX_BATCHES_PER_COMMIT {
            match batches.try_recv() {
                Ok(batch) => group.push(batch),
                Err(_) => break,
            }
        }
        if shared.outage().is_some() {
            let refusal = shared.refusal();
            for batch in group {
                let _ = batch.done.send(Err(refusal.clone()));
            }
            continue;
        }
        let mut writes = Vec::new();
        let mut answers = Vec::with_capacity(group.len());
        for batch in group {
            let pool_only = batch
                .writes
                .iter()
                .all(|w| matches!(w, Write::PutPoolTx { .. }));
            writes.extend(batch.writes);
            answers.push((batch.done, pool_only));
        }
        let started = std::time::Instant::now();
        let batches = answers.len();
        let result = match shared.database() {
            Ok(db) => commit_group(&db, &shared.journal, writes),
            Err(error) => Err(GroupFailure {
                error,
                pool_durable: false,
                chain_touched: true,
                intended: None,
            }),
        };
        tracing::debug!(
            batches,
            elapsed_us = started.elapsed().as_micros() as u64,
            "group commit"
        );
        let (refusal, pool_durable) = match result {
            Ok(()) => (None, true),
            Err(failed) => {
                let refusal = shared.fail(failed.error, failed.chain_touched);
                if shared.holds_commit(failed.intended) {
                    tracing::warn!(
                        "the failed commit is on disk all the same (found on reopening): answered as done"
                    );
                    (None, true)
                } else {
                    (Some(refusal), failed.pool_durable)
                }
            }
        };
        for (answer, pool_only) in answers {
            let _ = answer.send(match &refusal {
                // Its entries are synced in the journal: only the chain's part failed.
                Some(_) if pool_only && pool_durable => Ok(()),
                Some(refusal) => Err(refusal.clone()),
                None => Ok(()),
            });
        }
    }
}

/// A group that failed, and how far it got.
pub(super) struct GroupFailure {
    pub(super) error: StorageError,
    /// The pool's new entries were synced before the failure.
    pub(super) pool_durable: bool,
    /// The failure was redb's (or came after its commit): it has to be reopened.
    pub(super) chain_touched: bool,
    /// The number the failed commit would have given the database (see [`COMMITS`]).
    pub(super) intended: Option<u64>,
}

/// How many chain commits the database holds, counted in each one. A commit whose last
/// sync fails may be on disk all the same; reopened, the database says which by this
/// count, and the callers are told the truth either way, so memory keeps following disk.
const COMMITS: &str = "commits";

/// The commit count the database holds.
pub(super) fn stored_commits(db: &Database) -> Result<u64, StorageError> {
    let txn = db.begin_read()?;
    let meta = txn.open_table(META)?;
    Ok(commit_count(meta.get(COMMITS)?.map(|v| v.value().to_vec())))
}

fn commit_count(stored: Option<Vec<u8>>) -> u64 {
    stored
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Makes `writes` durable: the pool's new entries, then the chain's changes, then the
/// pool's removals (see the module's doc for why in this order).
pub(super) fn commit_group(
    db: &Database,
    journal: &Mutex<Journal>,
    writes: Vec<Write>,
) -> Result<(), GroupFailure> {
    let mut puts = Vec::new();
    let mut removals = Vec::new();
    let mut chain = Vec::new();
    for write in writes {
        match write {
            Write::PutPoolTx { seq, json } => puts.push((seq, json)),
            Write::RemovePoolTx { seq } => removals.push(seq),
            other => chain.push(other),
        }
    }
    let failed = |error, pool_durable, chain_touched| GroupFailure {
        error,
        pool_durable,
        chain_touched,
        intended: None,
    };
    let mut journal = lock(journal).map_err(|e| failed(e, false, false))?;
    if !puts.is_empty() {
        put_durably(&mut journal, &puts).map_err(|e| failed(e, false, false))?;
    }
    if !chain.is_empty() {
        let mut intended = None;
        let committed = begin_write(db).and_then(|txn| {
            apply(&txn, chain)?;
            let mut meta = txn.open_table(META)?;
            let next = commit_count(meta.get(COMMITS)?.map(|v| v.value().to_vec())) + 1;
            meta.insert(COMMITS, next.to_be_bytes().as_slice())?;
            drop(meta);
            intended = Some(next);
            Ok(txn.commit()?)
        });
        committed.map_err(|e| GroupFailure {
            intended,
            ..failed(e, true, true)
        })?;
    }
    if !removals.is_empty() {
        // Not synced here: a removal lost in a crash is redone at start-up, where the
        // chain shows the transaction confirmed. The next group's sync covers it. Nor
        // does one that fails fail the group: the chain's commit is done, and its callers
        // must hear so, to change their state as the disk did.
        if let Err(error) = journal.append(removals.into_iter().map(|seq| Change::Remove { seq })) {
            tracing::warn!(%error, "pool journal: removals not written; a restart redoes them");
        }
    }
    // Starts a compaction when one is due, or puts a finished one in place; the copying
    // itself happens on another thread.
    if let Err(error) = journal.compact_if_due() {
        tracing::warn!(%error, "pool journal not compacted; it keeps growing until this works");
    }
    Ok(())
}

/// A write transaction that saves redb's allocator state with its commit ("quick
/// repair"), so that opening the database after a crash does not walk the whole file
/// to rebuild it: 12 s at a million payments. It costs a second fsync and a few pages a
/// commit, which since the pool has its journal means a block's commit, not a
/// submission's.
pub(super) fn begin_write(db: &Database) -> Result<redb::WriteTransaction, StorageError> {
    let mut txn = db.begin_write()?;
    txn.set_quick_repair(true);
    Ok(txn)
}

/// Appends pool entries (sequence number and JSON) to the journal and syncs it.
pub(super) fn put_durably(
    journal: &mut Journal,
    entries: &[(u64, Vec<u8>)],
) -> Result<(), StorageError> {
    journal
        .append_synced(
            entries
                .iter()
                .map(|(seq, json)| Change::Put { seq: *seq, json }),
        )
        .map_err(journal_error)
}

pub(super) fn lock(
    journal: &Mutex<Journal>,
) -> Result<std::sync::MutexGuard<'_, Journal>, StorageError> {
    journal.lock().map_err(|_| StorageError::JournalPoisoned)
}

pub(super) fn journal_error(error: std::io::Error) -> StorageError {
    StorageError::Journal(Arc::new(error))
}

/// Moves a pool kept in redb (before the journal) into the journal, once.
pub(super) fn move_legacy_pool(
    db: &Database,
    journal: &Mutex<Journal>,
) -> Result<(), StorageError> {
    let pool: Vec<(u64, Vec<u8>)> = {
        let txn = db.begin_read()?;
        let table = txn.open_table(LEGACY_POOL)?;
        table
            .iter()?
            .map(|row| {
                let (seq, json) = row?;
                Ok((seq.value(), json.value().to_vec()))
            })
            .collect::<Result<_, StorageError>>()?
    };
    if pool.is_empty() {
        return Ok(());
    }
    put_durably(&mut *lock(journal)?, &pool)?;
    // A crash before this commit moves them again next time: the same entries, the same
    // sequence numbers.
    let txn = begin_write(db)?;
    txn.open_table(LEGACY_POOL)?.retain(|_, _| false)?;
    txn.commit()?;
    tracing::info!(transactions = pool.len(), "pool moved to its journal");
    Ok(())
}

fn apply(txn: &redb::WriteTransaction, writes: Vec<Write>) -> Result<(), StorageError> {
    if writes.iter().any(|w| matches!(w, Write::DropLegacyBlocks)) {
        txn.delete_table(LEGACY_BLOCKS)?;
    }
    let mut bodies = txn.open_table(BODIES)?;
    let mut headers = txn.open_table(HEADERS)?;
    let mut balances = txn.open_table(BALANCES)?;
    let mut block_ids = txn.open_table(BLOCK_IDS)?;
    let mut history = txn.open_table(HISTORY)?;
    let mut counts = txn.open_table(HISTORY_COUNTS)?;
    let mut peers = txn.open_table(PEERS)?;
    let mut meta = txn.open_table(META)?;
    let mut stale = txn.open_table(STALE)?;
    // Index counts change once per address per commit, not once per entry.
    let mut counted: std::collections::HashMap<[u8; HISTORY_PREFIX], i64> =
        std::collections::HashMap::new();
    let mut count = |key: &[u8], delta: i64| {
        let prefix: [u8; HISTORY_PREFIX] = key[..HISTORY_PREFIX]
            .try_into()
            .expect("history keys start with the address key");
        *counted.entry(prefix).or_default() += delta;
    };
    for write in writes {
        match write {
            Write::PutBody { number, hash, json } => {
                bodies.insert(&body_key(number, &hash)[..], &*json)?;
            }
            Write::RemoveBody { number, hash } => {
                bodies.remove(&body_key(number, &hash)[..])?;
            }
            Write::PutHeader { number, record } => {
                headers.insert(number, record.as_slice())?;
            }
            Write::TruncateHeaders { from } => {
                headers.retain_in(from.., |_, _| false)?;
            }
            Write::SetBalance { address, units } => {
                if units == 0 {
                    balances.remove(&*address)?;
                } else {
                    balances.insert(&*address, units)?;
                }
            }
            Write::PutBlockIds { block, ids } => {
                block_ids.insert(block, ids.as_slice())?;
            }
            Write::TruncateBlockIds { from } => {
                block_ids.retain_in(from.., |_, _| false)?;
            }
            Write::PutHistory { key, value } => {
                if let Some(old) = history.insert(key.as_slice(), value.as_slice())? {
                    count(&key, -history_items(old.value()));
                }
                count(&key, history_items(&value));
            }
            Write::RemoveHistory { key } => {
                if let Some(old) = history.remove(key.as_slice())? {
                    count(&key, -history_items(old.value()));
                }
            }
            Write::PutPoolTx { .. } | Write::RemovePoolTx { .. } => {
                unreachable!("pool writes go to the journal")
            }
            Write::PutPeer(url) => {
                peers.insert(url.as_str(), ())?;
            }
            Write::RemovePeer(url) => {
                peers.remove(url.as_str())?;
            }
            Write::PutMeta { key, value } => {
                meta.insert(key, value.as_slice())?;
            }
            Write::DropLegacyBlocks => {}
            Write::PutStale {
                number,
                hash,
                record,
            } => {
                stale.insert(&body_key(number, &hash)[..], record.as_slice())?;
            }
            Write::RemoveStale { number, hash } => {
                stale.remove(&body_key(number, &hash)[..])?;
            }
        }
    }
    for (prefix, delta) in counted {
        let now = counts.get(&prefix[..])?.map_or(0, |v| v.value());
        match now.saturating_add_signed(delta) {
            0 => counts.remove(&prefix[..])?,
            next => counts.insert(&prefix[..], next)?,
        };
    }
    Ok(())
}
