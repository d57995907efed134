use super::*;

#[tokio::test]
async fn writes_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = [7u8; HISTORY_PREFIX];
    let entry = |block: u8| {
        let mut key = prefix.to_vec();
        key.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, block]);
        key
    };
    let row = |tag: u8, items: usize| {
        let mut value = vec![tag; HISTORY_HEADER];
        value.extend(std::iter::repeat_n(7u8, HISTORY_ITEM * items));
        value
    };
    {
        let storage = Storage::open(dir.path()).unwrap();
        let a = storage.commit(vec![Write::PutBody {
            number: 0,
            hash: [0; 32],
            json: "g".into(),
        }]);
        let b = storage.commit(vec![
            Write::PutBody {
                number: 1,
                hash: [1; 32],
                json: "b1".into(),
            },
            Write::PutHeader {
                number: 1,
                record: b"h1".to_vec(),
            },
            Write::PutHistory {
                key: entry(1),
                value: row(1, 2),
            },
            Write::PutPoolTx {
                seq: 7,
                json: b"tx".to_vec(),
            },
            Write::PutPeer("http://127.0.0.1:1".into()),
        ]);
        let (a, b) = tokio::join!(a, b);
        a.unwrap();
        b.unwrap();
        storage
            .commit(vec![
                Write::PutHeader {
                    number: 2,
                    record: b"h2".to_vec(),
                },
                Write::PutHistory {
                    key: entry(2),
                    value: row(2, 1),
                },
                Write::TruncateHeaders { from: 1 },
                Write::RemoveHistory { key: entry(2) },
                Write::RemoveHistory { key: entry(1) },
                Write::PutHeader {
                    number: 1,
                    record: b"h1'".to_vec(),
                },
                Write::PutHistory {
                    key: entry(1),
                    value: row(3, 3),
                },
                Write::SetBalance {
                    address: "aa".into(),
                    units: 5,
                },
                Write::SetBalance {
                    address: "bb".into(),
                    units: 0,
                },
                Write::PutBlockIds {
                    block: 1,
                    ids: [[3; 32], [4; 32]].concat(),
                },
                Write::PutMeta {
                    key: "k",
                    value: b"v".to_vec(),
                },
            ])
            .await
            .unwrap();
    }
    let storage = Storage::open(dir.path()).unwrap();
    let snapshot = storage.snapshot().unwrap();
    assert_eq!(snapshot.pool, vec![(7, b"tx".to_vec())]);
    assert_eq!(snapshot.peers, vec!["http://127.0.0.1:1".to_owned()]);
    assert_eq!(storage.meta("k").unwrap(), Some(b"v".to_vec()));
    let mut headers = Vec::new();
    storage
        .for_each_header(|n, r| headers.push((n, r.to_vec())))
        .unwrap();
    assert_eq!(headers, vec![(1, b"h1'".to_vec())]);
    let mut balances = Vec::new();
    storage
        .for_each_balance(|a, v| balances.push((a.to_owned(), v)))
        .unwrap();
    assert_eq!(balances, vec![("aa".to_owned(), 5)]);
    let mut confirmed = Vec::new();
    storage
        .for_each_confirmed(|id, n| confirmed.push((id.to_vec(), n)))
        .unwrap();
    assert_eq!(confirmed, vec![(vec![3; 32], 1), (vec![4; 32], 1)]);
    assert_eq!(
        storage.bodies(&[(1, [1; 32]), (1, [2; 32])]).unwrap(),
        vec![Some(Bytes::from_static(b"b1")), None]
    );
    let (entries, count) = storage.history(&prefix, 10).unwrap();
    assert_eq!(count, 3, "removed rows are not counted");
    assert_eq!(
        entries,
        vec![HistoryEntry {
            key: entry(1),
            value: row(3, 3)
        }]
    );
}

#[tokio::test]
async fn a_pool_kept_in_the_database_moves_to_the_journal_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = redb::Database::create(dir.path().join("chain.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut pool = txn.open_table(LEGACY_POOL).unwrap();
            pool.insert(3, &b"three"[..]).unwrap();
            pool.insert(9, &b"nine"[..]).unwrap();
        }
        txn.commit().unwrap();
    }
    let expected = vec![(3, b"three".to_vec()), (9, b"nine".to_vec())];
    {
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(storage.snapshot().unwrap().pool, expected);
        storage
            .commit(vec![Write::RemovePoolTx { seq: 3 }])
            .await
            .unwrap();
    }
    let storage = Storage::open(dir.path()).unwrap();
    assert_eq!(storage.snapshot().unwrap().pool, expected[1..]);
    use redb::ReadableTableMetadata as _;
    let txn = storage.begin_read().unwrap();
    assert!(txn.open_table(LEGACY_POOL).unwrap().is_empty().unwrap());
}

/// A backend whose `sync_data` number `fail_at` fails (counted over its life), on bytes
/// kept in memory and shared, so that a database can be opened on them again.
#[derive(Debug)]
struct FailingSync {
    bytes: Arc<redb::backends::InMemoryBackend>,
    syncs: Arc<std::sync::atomic::AtomicUsize>,
    fail_at: Arc<std::sync::atomic::AtomicUsize>,
}

impl redb::StorageBackend for FailingSync {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.bytes.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.bytes.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.bytes.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.syncs.fetch_add(1, SeqCst) + 1 == self.fail_at.load(SeqCst) {
            return Err(std::io::Error::from_raw_os_error(5));
        }
        self.bytes.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.bytes.write(offset, data)
    }
}

/// A commit whose sync fails may be on disk all the same (its header written before the
/// last sync): the commit count says which, so the callers hear the truth and memory keeps
/// following the disk.
#[test]
fn a_commit_reported_failed_is_known_on_reopening_to_have_landed_or_not() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let mut landed_when = Vec::new();
    for fail_last in [false, true] {
        let bytes = Arc::new(redb::backends::InMemoryBackend::new());
        let (syncs, fail_at) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let open = || {
            redb::Database::builder()
                .create_with_backend(FailingSync {
                    bytes: Arc::clone(&bytes),
                    syncs: Arc::clone(&syncs),
                    fail_at: Arc::clone(&fail_at),
                })
                .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let journal = Mutex::new(Journal::open(dir.path()).unwrap());
        let body = |number: u64| Write::PutBody {
            number,
            hash: [number as u8; 32],
            json: "b".into(),
        };
        let db = open();
        commit_group(&db, &journal, vec![body(1)]).unwrap_or_else(|f| panic!("{}", f.error));
        let before = syncs.load(SeqCst);
        commit_group(&db, &journal, vec![body(2)]).unwrap_or_else(|f| panic!("{}", f.error));
        let per_commit = syncs.load(SeqCst) - before;
        let nth = if fail_last { per_commit } else { 1 };
        fail_at.store(syncs.load(SeqCst) + nth, SeqCst);
        let failed = commit_group(&db, &journal, vec![body(3)]).expect_err("the sync fails");
        assert_eq!(failed.intended, Some(3));
        drop(db);
        fail_at.store(0, SeqCst);
        let db = open();
        let landed = writer::stored_commits(&db).unwrap() >= 3;
        let txn = db.begin_read().unwrap();
        let stored = txn
            .open_table(BODIES)
            .unwrap()
            .get(&body_key(3, &[3; 32])[..])
            .unwrap()
            .is_some();
        assert_eq!(
            landed, stored,
            "the count tells whether the commit is there"
        );
        landed_when.push(landed);
    }
    assert_eq!(
        landed_when,
        [false, true],
        "a first sync that fails leaves nothing; a last one, the commit"
    );
}
