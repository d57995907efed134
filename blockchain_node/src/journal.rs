//! The pending pool's journal: an append-only file beside the database.
//!
//! A pending transaction is written once, read back only at start-up, and forgotten when
//! a block takes it. In a redb table each group of submissions cost a B-tree commit (nine
//! pages, their checksums and an fsync for eight transactions): a third of the node's CPU
//! under load, and for batches the one serial step everything waited on. Here a group is
//! one write and one `fdatasync`.
//!
//! ```text
//! file    = magic (8 bytes) ‖ record*
//! record  = length (u32 LE) ‖ crc32 of payload (u32 LE) ‖ payload
//! payload = 1 ‖ seq (u64 LE) ‖ transaction JSON      a transaction entered the pool
//!         | 2 ‖ seq (u64 LE)                         it left (mined, or no longer valid)
//! ```
//!
//! A crash in the middle of an append leaves a torn or corrupt tail; opening cuts it off.
//! Nothing acknowledged is in it: a submission is answered only after its `fdatasync`.
//! Damage in the middle (an unreadable record with intact ones after it, and no page
//! between them that never reached the disk) is not a tear: cutting there would drop
//! acknowledged transactions, so opening refuses the file instead. A write or sync that
//! fails (a full disk) has its bytes zeroed, before the next append if not at once, so a
//! record the caller was told failed never turns up after a newer one.
//!
//! The file is kept zero-filled (written and synced) a few MB ahead of its last record,
//! so an append overwrites blocks that already exist and the file's size does not change:
//! `fdatasync` then writes the data alone, not the inode too (here 150–165 µs against
//! 220–250 µs). A record header of zeros is not a record, so reading stops there.
//! Once the file is large and mostly records of transactions that left, the live records
//! are copied to a new file on a thread of their own, while appends go on to the old file.
//! When the copy is done, the records appended meanwhile are copied after it, and the new
//! file is synced and renamed over the old one. Only that last step holds up appends: at a
//! full pool (100,000 transactions, 110 MB of live records) the writer waits 21–30 ms,
//! where copying it all on the writer's thread stopped every submission and block for
//! 620 ms (`cargo run --release -p blockchain_bench --example journal_compaction`).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"POOLJNL1";
pub const FILE_NAME: &str = "pool.journal";
const NEW_FILE_NAME: &str = "pool.journal.new";
const RECORD_HEADER: u64 = 8;
const PUT: u8 = 1;
const REMOVE: u8 = 2;
/// Compaction waits until the file is at least this large…
const COMPACT_FROM_BYTES: u64 = 32 << 20;
/// …and this many times the size of its live records.
const COMPACT_RATIO: u64 = 4;
/// How far ahead of its records the file is zero-filled at a time.
const PREPARE_BYTES: u64 = 4 << 20;

/// One change to the pool's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change<'a> {
    Put { seq: u64, json: &'a [u8] },
    Remove { seq: u64 },
}

/// The open journal: the file, and where each live transaction's JSON is in it.
pub struct Journal {
    /// A compaction copying the live records on its own thread.
    compaction: Option<Compaction>,
    /// After a compaction failed, none starts again before the file is this long.
    compact_after: u64,
    dir: PathBuf,
    file: File,
    len: u64,
    /// The file is zero-filled (and synced) up to here.
    prepared: u64,
    /// A failed write may have left bytes up to here past `len`: zeroed before the next
    /// append, so that no stale record ever follows a newer one.
    stale_until: u64,
    /// Live transactions: sequence number to (offset of its JSON, length).
    live: BTreeMap<u64, (u64, u32)>,
    /// Bytes of the live records, headers included.
    live_bytes: u64,
    buffer: Vec<u8>,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, cutting off a torn tail.
    ///
    /// # Errors
    /// When the file cannot be read, written or synced, or is not a journal.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let path = dir.join(FILE_NAME);
        // A compaction that did not get as far as its rename.
        match std::fs::remove_file(dir.join(NEW_FILE_NAME)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let file_len = file.metadata()?.len();
        let mut journal = Journal {
            compaction: None,
            compact_after: 0,
            dir: dir.to_owned(),
            file,
            len: 0,
            prepared: 0,
            stale_until: 0,
            live: BTreeMap::new(),
            live_bytes: 0,
            buffer: Vec::new(),
        };
        if file_len == 0 {
            journal.file.write_all_at(MAGIC, 0)?;
            journal.file.sync_all()?;
            sync_dir(dir)?;
            journal.len = MAGIC.len() as u64;
            return Ok(journal);
        }
        // Read as a stream: a journal can be hundreds of MB when the pool is full.
        let mut reader = io::BufReader::with_capacity(1 << 20, journal.file.try_clone()?);
        let mut magic = [0; MAGIC.len()];
        if !read_whole(&mut reader, &mut magic)? || &magic != MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a pool journal", path.display()),
            ));
        }
        let mut at = MAGIC.len() as u64;
        let mut payload = Vec::new();
        while let Some(length) = next_record(&mut reader, &mut payload)? {
            journal.replay(&payload, at + RECORD_HEADER);
            at += RECORD_HEADER + length;
        }
        journal.len = at;
        if at < file_len {
            if let Some(intact) = damage_before_intact_record(&journal.file, at, file_len)? {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "damaged in the middle: the record at byte {at} is unreadable, yet intact records follow from byte {intact} on (not a crash while writing, which only tears the end)"
                    ),
                ));
            }
            if !zeros_from(&journal.file, at, file_len)? {
                tracing::warn!(
                    kept = at,
                    dropped = file_len - at,
                    "the pool journal ended in a torn record (a crash while writing it); cut it off"
                );
            }
            journal.file.set_len(journal.len)?;
            journal.file.sync_all()?;
        }
        Ok(journal)
    }

    fn replay(&mut self, payload: &[u8], payload_at: u64) {
        let seq = u64::from_le_bytes(payload[1..9].try_into().expect("checked length"));
        self.forget(seq);
        if payload[0] == PUT {
            let json_len = u32::try_from(payload.len() - 9).expect("records are under 4 GiB");
            self.live.insert(seq, (payload_at + 9, json_len));
            self.live_bytes += RECORD_HEADER + payload.len() as u64;
        }
    }

    fn forget(&mut self, seq: u64) {
        if let Some((_, json_len)) = self.live.remove(&seq) {
            self.live_bytes -= RECORD_HEADER + 9 + u64::from(json_len);
        }
    }

    /// The live transactions' JSON, by sequence number.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn entries(&self) -> io::Result<Vec<(u64, Vec<u8>)>> {
        self.live
            .iter()
            .map(|(&seq, &(at, len))| {
                let mut json = vec![0; len as usize];
                self.file.read_exact_at(&mut json, at)?;
                Ok((seq, json))
            })
            .collect()
    }

    /// Appends `changes` in one write. Not durable until [`Journal::sync`].
    ///
    /// # Errors
    /// When the write fails; the journal is then as it was before.
    pub fn append<'a>(&mut self, changes: impl IntoIterator<Item = Change<'a>>) -> io::Result<()> {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let mut placed = Vec::new();
        for change in changes {
            let start = buffer.len();
            buffer.extend_from_slice(&[0; RECORD_HEADER as usize]);
            match change {
                Change::Put { seq, json } => {
                    buffer.push(PUT);
                    buffer.extend_from_slice(&seq.to_le_bytes());
                    buffer.extend_from_slice(json);
                }
                Change::Remove { seq } => {
                    buffer.push(REMOVE);
                    buffer.extend_from_slice(&seq.to_le_bytes());
                }
            }
            let payload = &buffer[start + RECORD_HEADER as usize..];
            let length = u32::try_from(payload.len()).expect("records are under 4 GiB");
            let crc = crc32fast::hash(payload);
            buffer[start..start + 4].copy_from_slice(&length.to_le_bytes());
            buffer[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
            placed.push((start, buffer.len()));
        }
        if let Err(error) = self.clear_stale() {
            self.buffer = buffer;
            return Err(error);
        }
        self.prepare(self.len + buffer.len() as u64);
        let written = self.file.write_all_at(&buffer, self.len);
        if let Err(error) = written {
            // Whatever part landed is past `len`, and may hold whole records: zeroed now if
            // the disk lets us, else before the next append.
            self.stale_until = self.len + buffer.len() as u64;
            let _ = self.clear_stale();
            self.buffer = buffer;
            return Err(error);
        }
        for (start, end) in placed {
            let payload_at = self.len + (start as u64) + RECORD_HEADER;
            let payload = &buffer[start + RECORD_HEADER as usize..end];
            self.replay(payload, payload_at);
        }
        self.len += buffer.len() as u64;
        self.buffer = buffer;
        Ok(())
    }

    /// As [`Journal::append`] then [`Journal::sync`], for new entries; if the sync fails,
    /// the entries are taken back out (their bytes zeroed as a failed write's are), so that
    /// a later sync does not make durable what the caller was told failed.
    ///
    /// # Errors
    /// When the write or the sync fails; the journal is then as it was before.
    pub fn append_synced<'a>(
        &mut self,
        changes: impl IntoIterator<Item = Change<'a>> + Clone,
    ) -> io::Result<()> {
        let before = self.len;
        self.append(changes.clone())?;
        let Err(error) = self.sync() else {
            return Ok(());
        };
        for change in changes {
            if let Change::Put { seq, .. } = change {
                self.forget(seq);
            }
        }
        self.stale_until = self.len;
        self.len = before;
        let _ = self.clear_stale();
        Err(error)
    }

    /// Zeroes what a failed write left past the last record.
    fn clear_stale(&mut self) -> io::Result<()> {
        if self.stale_until <= self.len {
            return Ok(());
        }
        let zeros = vec![0; (self.stale_until - self.len) as usize];
        self.file.write_all_at(&zeros, self.len)?;
        self.stale_until = 0;
        Ok(())
    }

    /// Zero-fills the file past `end` if it is not yet. Only a speed-up: if it fails (a
    /// full disk), appends grow the file as they would anyway.
    fn prepare(&mut self, end: u64) {
        if end <= self.prepared {
            return;
        }
        let from = self.prepared.max(self.len);
        let to = end + PREPARE_BYTES;
        let zeros = vec![0; 1 << 20];
        let filled = (|| {
            let mut at = from;
            while at < to {
                let n = (to - at).min(zeros.len() as u64);
                self.file.write_all_at(&zeros[..n as usize], at)?;
                at += n;
            }
            self.file.sync_all()
        })();
        match filled {
            Ok(()) => self.prepared = to,
            Err(error) => tracing::debug!(%error, "pool journal not zero-filled ahead"),
        }
    }

    /// Makes every append so far durable.
    ///
    /// # Errors
    /// When `fdatasync` fails.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Once the file is large and mostly dead, starts copying its live records to a new
    /// file on another thread; once that copy is done, adds what was appended meanwhile and
    /// puts the new file in the old one's place. Call it after appends; it returns at once
    /// unless it has a finished copy to put in place.
    ///
    /// # Errors
    /// When the new file cannot be finished, synced or renamed; the old one is then kept,
    /// and compaction is tried again once the file has grown by [`COMPACT_FROM_BYTES`].
    pub fn compact_if_due(&mut self) -> io::Result<()> {
        if let Some(compaction) = &self.compaction {
            let copied = match compaction.done.try_recv() {
                Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(()),
                Ok(copied) => copied,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    Err(io::Error::other("the compaction thread stopped"))
                }
            };
            return self.finish_compaction(copied);
        }
        let live = MAGIC.len() as u64 + self.live_bytes;
        if self.len < COMPACT_FROM_BYTES.max(self.compact_after) || self.len < COMPACT_RATIO * live
        {
            return Ok(());
        }
        let (done, receiver) = std::sync::mpsc::channel();
        let (dir, old, live) = (self.dir.clone(), self.file.try_clone()?, self.live.clone());
        std::thread::Builder::new()
            .name("journal-compaction".into())
            .spawn(move || {
                // Nobody to tell if the writer has gone.
                let _ = done.send(copy_live(dir, &old, &live));
            })?;
        self.compaction = Some(Compaction {
            upto: self.len,
            started: std::time::Instant::now(),
            done: receiver,
        });
        Ok(())
    }

    /// Waits for a compaction in progress and puts its file in place.
    ///
    /// # Errors
    /// As [`Journal::compact_if_due`].
    #[cfg(test)]
    pub fn finish_compaction_now(&mut self) -> io::Result<()> {
        let Some(compaction) = &self.compaction else {
            return Ok(());
        };
        let copied = compaction
            .done
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the compaction thread stopped")));
        self.finish_compaction(copied)
    }

    /// Appends to the copy what was appended here since it began, syncs it and renames it
    /// over this file.
    fn finish_compaction(&mut self, copied: io::Result<Journal>) -> io::Result<()> {
        let compaction = self.compaction.take().expect("a compaction in progress");
        let finished = copied.and_then(|mut fresh| {
            let mut tail = vec![0; (self.len - compaction.upto) as usize];
            self.file.read_exact_at(&mut tail, compaction.upto)?;
            let mut reader = tail.as_slice();
            let mut payload = Vec::new();
            let mut changes = Vec::new();
            while next_record(&mut reader, &mut payload)?.is_some() {
                let seq = u64::from_le_bytes(payload[1..9].try_into().expect("checked length"));
                changes.push(if payload[0] == PUT {
                    OwnedChange::Put(seq, payload[9..].to_vec())
                } else {
                    OwnedChange::Remove(seq)
                });
            }
            fresh.append(changes.iter().map(OwnedChange::borrow))?;
            fresh.file.sync_all()?;
            std::fs::rename(self.dir.join(NEW_FILE_NAME), self.dir.join(FILE_NAME))?;
            sync_dir(&self.dir)?;
            Ok(fresh)
        });
        match finished {
            Ok(mut fresh) => {
                let before = self.len;
                fresh.buffer = std::mem::take(&mut self.buffer);
                let old = std::mem::replace(self, fresh);
                // Closing the old file frees its blocks, which for hundreds of MB took the
                // kernel over 100 ms here: not on the writer's time.
                let _ = std::thread::Builder::new()
                    .name("journal-close".into())
                    .spawn(move || drop(old));
                tracing::info!(
                    before,
                    after = self.len,
                    live = self.live.len(),
                    elapsed_ms = compaction.started.elapsed().as_millis() as u64,
                    "pool journal compacted"
                );
                Ok(())
            }
            Err(error) => {
                self.compact_after = self.len + COMPACT_FROM_BYTES;
                let _ = std::fs::remove_file(self.dir.join(NEW_FILE_NAME));
                Err(error)
            }
        }
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.len
    }
}

/// A compaction in progress.
struct Compaction {
    /// The file's length when the copy began: what was appended past it is added to the
    /// copy when it is done.
    upto: u64,
    started: std::time::Instant,
    done: std::sync::mpsc::Receiver<io::Result<Journal>>,
}

/// A change read back from the file.
enum OwnedChange {
    Put(u64, Vec<u8>),
    Remove(u64),
}

impl OwnedChange {
    fn borrow(&self) -> Change<'_> {
        match self {
            OwnedChange::Put(seq, json) => Change::Put { seq: *seq, json },
            OwnedChange::Remove(seq) => Change::Remove { seq: *seq },
        }
    }
}

/// Writes the records of `live` (read from `old`, where they do not change) to a new file
/// in `dir`, zero-filled ahead as every journal is, and syncs it. Runs on its own thread.
fn copy_live(dir: PathBuf, old: &File, live: &BTreeMap<u64, (u64, u32)>) -> io::Result<Journal> {
    let mut fresh = Journal {
        compaction: None,
        compact_after: 0,
        file: OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join(NEW_FILE_NAME))?,
        dir,
        len: MAGIC.len() as u64,
        prepared: 0,
        stale_until: 0,
        live: BTreeMap::new(),
        live_bytes: 0,
        buffer: Vec::new(),
    };
    fresh.file.write_all_at(MAGIC, 0)?;
    // A megabyte of records at a time: a full pool's are 110 MB.
    let mut batch: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut bytes = 0;
    for (&seq, &(at, len)) in live {
        let mut json = vec![0; len as usize];
        old.read_exact_at(&mut json, at)?;
        bytes += json.len();
        batch.push((seq, json));
        if bytes >= 1 << 20 {
            fresh.append(
                batch
                    .iter()
                    .map(|(seq, json)| Change::Put { seq: *seq, json }),
            )?;
            batch.clear();
            bytes = 0;
        }
    }
    fresh.append(
        batch
            .iter()
            .map(|(seq, json)| Change::Put { seq: *seq, json }),
    )?;
    fresh.file.sync_all()?;
    Ok(fresh)
}

/// The longest record a journal holds: a transaction is a few kB; a length past this is
/// a torn or corrupt header, not a record.
const MAX_RECORD: u64 = 16 << 20;

/// Reads the next whole, intact record's payload into `payload`; its length, or `None` at
/// the end of the file or at a torn or corrupt record.
fn next_record(reader: &mut impl Read, payload: &mut Vec<u8>) -> io::Result<Option<u64>> {
    let mut header = [0; RECORD_HEADER as usize];
    if !read_whole(reader, &mut header)? {
        return Ok(None);
    }
    let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if u64::from(length) > MAX_RECORD {
        return Ok(None);
    }
    payload.resize(length as usize, 0);
    if !read_whole(reader, payload)? {
        return Ok(None);
    }
    let well_formed = match payload.first() {
        Some(&PUT) => payload.len() >= 9,
        Some(&REMOVE) => payload.len() == 9,
        _ => false,
    };
    Ok((well_formed && crc32fast::hash(payload) == crc).then_some(u64::from(length)))
}

/// Where an intact record starts after the unreadable one at `from`, when the bytes in
/// between are damage rather than a crash's tear; `None` for a torn (or zero-filled) end.
///
/// A crash tears only what was written since the last sync, and it tears by pages: a
/// page that never reached the disk reads as the zeros the file was filled with ahead.
/// So an intact record after the unreadable one, with no whole zero page between them,
/// means bytes were changed in place: the journal is damaged, and what follows it would
/// be silently dropped if it were cut off there.
fn damage_before_intact_record(file: &File, from: u64, to: u64) -> io::Result<Option<u64>> {
    const PAGE: u64 = 4096;
    let mut rest = vec![0; usize::try_from(to - from).expect("the journal fits in memory")];
    file.read_exact_at(&mut rest, from)?;
    let Some(intact) = (1..rest.len()).find(|&at| is_intact_record(&rest[at..])) else {
        return Ok(None);
    };
    let (start, end) = (from, from + intact as u64);
    let mut page = start.div_ceil(PAGE) * PAGE;
    while page + PAGE <= end {
        let at = (page - from) as usize;
        if rest[at..at + PAGE as usize].iter().all(|&b| b == 0) {
            return Ok(None);
        }
        page += PAGE;
    }
    Ok(Some(end))
}

/// Whether `bytes` start with a whole, intact record (a transaction's JSON is an object).
fn is_intact_record(bytes: &[u8]) -> bool {
    let Some(header) = bytes.get(..RECORD_HEADER as usize) else {
        return false;
    };
    let length = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    let Some(payload) = bytes.get(RECORD_HEADER as usize..RECORD_HEADER as usize + length) else {
        return false;
    };
    let plausible = match payload.first() {
        Some(&PUT) => payload.get(9) == Some(&b'{'),
        Some(&REMOVE) => length == 9,
        _ => false,
    };
    plausible && crc32fast::hash(payload) == crc
}

/// Whether the file holds only zeros from `from` to `to`: space zero-filled ahead, not a
/// torn record.
fn zeros_from(file: &File, from: u64, to: u64) -> io::Result<bool> {
    let mut chunk = vec![0; 1 << 20];
    let mut at = from;
    while at < to {
        let n = (to - at).min(chunk.len() as u64) as usize;
        file.read_exact_at(&mut chunk[..n], at)?;
        if chunk[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// Fills `buffer`; `false` if the file ends first.
fn read_whole(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buffer) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(error) => Err(error),
    }
}

/// Makes a rename or a new file in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(seq: u64, json: &[u8]) -> Change<'_> {
        Change::Put { seq, json }
    }

    #[test]
    fn reopening_gives_back_the_live_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal
            .append([put(1, b"one"), put(2, b"two"), put(3, b"three")])
            .unwrap();
        journal.append([Change::Remove { seq: 2 }]).unwrap();
        journal.sync().unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(
            journal.entries().unwrap(),
            vec![(1, b"one".to_vec()), (3, b"three".to_vec())]
        );
    }

    #[test]
    fn space_zero_filled_ahead_is_not_taken_for_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal.append([put(1, b"one"), put(2, b"two")]).unwrap();
        journal.sync().unwrap();
        let records = journal.file_len();
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        assert!(
            std::fs::metadata(&path).unwrap().len() >= records + PREPARE_BYTES,
            "zero-filled ahead"
        );
        let mut journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.file_len(), records);
        journal.append([put(3, b"three")]).unwrap();
        journal.sync().unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(
            journal.entries().unwrap(),
            vec![
                (1, b"one".to_vec()),
                (2, b"two".to_vec()),
                (3, b"three".to_vec())
            ]
        );
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_appends_follow_the_last_whole_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal.append([put(1, b"kept")]).unwrap();
        journal.sync().unwrap();
        let whole = journal.file_len();
        journal.append([put(2, b"torn in the middle")]).unwrap();
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(whole + 11).unwrap();
        drop(file);

        let mut journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.file_len(), whole);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
        journal.append([put(3, b"after")]).unwrap();
        journal.sync().unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(
            journal.entries().unwrap(),
            vec![(1, b"kept".to_vec()), (3, b"after".to_vec())]
        );
    }

    #[test]
    fn damage_in_the_middle_is_refused_not_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal.append([put(1, br#"{"good":1}"#)]).unwrap();
        let bad_at = journal.file_len();
        journal
            .append([put(2, br#"{"flipped":2}"#), put(3, br#"{"after":3}"#)])
            .unwrap();
        journal.sync().unwrap();
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[bad_at as usize + RECORD_HEADER as usize + 10] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();

        let error = Journal::open(dir.path()).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error
                .to_string()
                .contains(&format!("byte {bad_at} is unreadable")),
            "{error}"
        );
    }

    /// A crash tears by pages: one that never reached the disk reads as zeros, and the
    /// records after it were never synced, so never acknowledged.
    #[test]
    fn a_tear_with_a_page_that_never_landed_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal.append([put(1, br#"{"kept":1}"#)]).unwrap();
        journal.sync().unwrap();
        let whole = journal.file_len();
        let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(10_000));
        journal
            .append([put(2, big.as_bytes()), put(3, br#"{"landed":3}"#)])
            .unwrap();
        drop(journal);
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        let page = (whole as usize).div_ceil(4096) * 4096;
        bytes[page..page + 4096].fill(0);
        std::fs::write(&path, &bytes).unwrap();

        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.file_len(), whole);
        assert_eq!(
            journal.entries().unwrap(),
            vec![(1, br#"{"kept":1}"#.to_vec())]
        );
    }

    #[test]
    fn a_file_that_is_not_a_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"something else entirely").unwrap();
        let error = Journal::open(dir.path()).err().unwrap();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    /// Appends transactions of 1000 bytes and removes all but those `kept` until the file
    /// is due for compaction; returns the next sequence number.
    fn fill_past_compaction(journal: &mut Journal, kept: impl Fn(u64) -> bool) -> u64 {
        let json = vec![b'x'; 1000];
        let mut seq = 0;
        while journal.file_len() < COMPACT_FROM_BYTES + (1 << 20) {
            journal
                .append((seq..seq + 100).map(|s| put(s, &json)))
                .unwrap();
            journal
                .append(
                    (seq..seq + 100)
                        .filter(|&s| !kept(s))
                        .map(|seq| Change::Remove { seq }),
                )
                .unwrap();
            seq += 100;
        }
        seq
    }

    #[test]
    fn compaction_keeps_exactly_the_live_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        let seq = fill_past_compaction(&mut journal, |seq| seq % 997 == 0);
        let live = journal.entries().unwrap();
        assert!(!live.is_empty());
        journal.compact_if_due().unwrap();
        assert!(journal.compaction.is_some(), "due, and started");
        journal.finish_compaction_now().unwrap();
        assert!(
            journal.file_len() < 1 << 20,
            "compacted to {} bytes",
            journal.file_len()
        );
        assert_eq!(journal.entries().unwrap(), live);
        journal.append([put(seq, b"new")]).unwrap();
        journal.sync().unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        let mut expected = live;
        expected.push((seq, b"new".to_vec()));
        assert_eq!(journal.entries().unwrap(), expected);
        assert!(!dir.path().join(NEW_FILE_NAME).exists());
    }

    #[test]
    fn what_is_appended_during_a_compaction_is_in_the_compacted_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        let seq = fill_past_compaction(&mut journal, |seq| seq % 100 == 99);
        let copied_live = journal.entries().unwrap();
        journal.compact_if_due().unwrap();
        assert!(journal.compaction.is_some(), "due, and started");
        // Meanwhile: a new transaction, one that comes and goes, and one of the copied
        // ones leaves.
        let leaving = copied_live[0].0;
        journal
            .append([put(seq, b"new"), put(seq + 1, b"brief")])
            .unwrap();
        journal
            .append([
                Change::Remove { seq: seq + 1 },
                Change::Remove { seq: leaving },
            ])
            .unwrap();
        journal.sync().unwrap();
        journal.finish_compaction_now().unwrap();
        assert!(journal.file_len() < 1 << 20, "compacted");
        let mut expected: Vec<_> = copied_live[1..].to_vec();
        expected.push((seq, b"new".to_vec()));
        assert_eq!(journal.entries().unwrap(), expected);
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.entries().unwrap(), expected);
    }
}
