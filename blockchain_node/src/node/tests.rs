//! Node-level tests across concerns: mining, restart, reorgs, paging, migration.

use std::sync::Arc;
use std::time::Instant;

use blockchain_core::chain::verify_blocks;
use blockchain_core::ledger::LedgerError;
use blockchain_core::{Amount, Block, Difficulty, NetworkParams, PrivateKey, Transaction};

use super::*;
use crate::settings::SettingsPatch;
use crate::storage::{Storage, StorageError};

fn options() -> NodeOptions {
    NodeOptions {
        pool_capacity: 100,
        sender_limit: 100,
        max_threads: 2,
        settings: SettingsPatch::default(),
    }
}

#[tokio::test]
async fn mines_restarts_and_reorgs() {
    let mut rng = rand::rng();
    let alice = PrivateKey::generate(&mut rng, 1024).unwrap();
    let bob = PrivateKey::generate(&mut rng, 1024).unwrap();
    let params = NetworkParams {
        difficulty: Difficulty::new(6).unwrap(),
        allocations: vec![(alice.address().clone(), Amount::from_coins(10).unwrap())],
        ..NetworkParams::default()
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Arc::new(Node::open(dir_a.path(), params.clone(), &options()).unwrap());
    let b = Arc::new(Node::open(dir_b.path(), params.clone(), &options()).unwrap());

    let pay = Transaction::sign(&alice, bob.address(), "4", Some("1")).unwrap();
    assert_eq!(a.submit(pay.clone()).await.unwrap(), 1);
    assert!(matches!(
        a.submit(pay.clone()).await,
        Err(SubmitError::Ledger(LedgerError::AlreadyPending { .. }))
    ));
    let mined = a.mine(None).await.unwrap();
    assert_eq!(mined.transactions().len(), 2);
    assert!(a.read().pool.is_empty());

    // b mines two empty blocks: more work; a adopts them and gets `pay` back in its pool.
    b.mine(None).await.unwrap();
    b.mine(None).await.unwrap();
    let b_chain: Vec<Block> = b
        .read()
        .blocks
        .range(0, u64::MAX)
        .unwrap()
        .iter()
        .map(|s| (*s.block).clone())
        .collect();
    let adoption = a.adopt_chain(b_chain.clone()).await.unwrap();
    assert!(
        matches!(
            adoption,
            Adoption::Adopted {
                height: 2,
                reorged_from: 1,
                reinjected: 1
            }
        ),
        "{adoption:?}"
    );
    assert_eq!(a.locate(&pay.id()).unwrap().1, None, "back to pending");
    assert!(matches!(
        a.adopt_chain(b_chain).await.unwrap(),
        Adoption::NotBetter
    ));

    // The reorg moved the index too: b's rewards are there, a's own reward is gone.
    assert_eq!(a.history(&b.wallet, 10).unwrap().count, 2);
    assert_eq!(a.history(&a.wallet, 10).unwrap().count, 0);
    assert_eq!(a.history(bob.address(), 10).unwrap().count, 0);

    let before = a.read().ledger.clone();
    drop(a);
    let a = Node::open(dir_a.path(), params.clone(), &options()).unwrap();
    assert_eq!(a.read().height(), 2);
    assert_eq!(a.read().pool.len(), 1);
    assert_eq!(a.read().ledger, before, "restored from state exactly");
    drop(a);
    let other = NetworkParams {
        network: "other".into(),
        ..params
    };
    assert!(matches!(
        Node::open(dir_a.path(), other, &options()),
        Err(OpenError::OtherNetwork { .. })
    ));
}

fn easy_params(payer: &PrivateKey) -> NetworkParams {
    NetworkParams {
        difficulty: Difficulty::new(1).unwrap(),
        allocations: vec![(payer.address().clone(), Amount::from_coins(10).unwrap())],
        ..NetworkParams::default()
    }
}

fn all_blocks(node: &Node) -> Vec<Block> {
    let state = node.read();
    state
        .blocks
        .range(0, u64::MAX)
        .unwrap()
        .iter()
        .map(|s| (*s.block).clone())
        .collect()
}

/// The JSON of a plan read past its budget, chunk by chunk.
async fn streamed_json(
    read: Result<crate::blocks::PlanRead, crate::storage::StorageError>,
) -> Vec<bytes::Bytes> {
    use futures_util::StreamExt;
    let crate::blocks::PlanRead::Streamed(mut chunks) = read.unwrap() else {
        panic!("read whole past its budget");
    };
    let mut json = Vec::new();
    while let Some(chunk) = chunks.next().await {
        json.extend(chunk.unwrap());
    }
    json
}

/// More blocks than the cache holds: the old ones come back from disk as they were,
/// history points into them, and a reorg deeper than the cache walks back over them.
#[tokio::test]
async fn old_blocks_come_from_disk_and_a_deep_reorg_walks_back_over_them() {
    let mut rng = rand::rng();
    let (alice, bob) = (
        PrivateKey::generate(&mut rng, 1024).unwrap(),
        PrivateKey::generate(&mut rng, 1024).unwrap(),
    );
    let params = easy_params(&alice);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Arc::new(Node::open(dir_a.path(), params.clone(), &options()).unwrap());
    let b = Arc::new(Node::open(dir_b.path(), params.clone(), &options()).unwrap());
    let pay = Transaction::sign(&alice, bob.address(), "3", Some("old")).unwrap();
    a.submit(pay.clone()).await.unwrap();
    let first = a.mine(None).await.unwrap();
    let blocks = crate::blocks::CACHE_BLOCKS as u64 + 20;
    for _ in 1..blocks {
        a.mine(None).await.unwrap();
    }
    {
        let state = a.read();
        assert_eq!(state.height(), blocks);
        let read_back = state.blocks.get(1).unwrap().unwrap();
        assert_eq!(*read_back.block, *first, "block 1 is no longer cached");
        let json = state.blocks.json_plan(0, 3).read(&a.storage).unwrap();
        assert_eq!(json[1], read_back.json);
    }
    // Read past a budget, the rest is streamed in chunks: the same bytes.
    let whole = a
        .read()
        .blocks
        .json_plan(0, blocks + 1)
        .read(&a.storage)
        .unwrap();
    let plan = a.read().blocks.json_plan(0, blocks + 1);
    let streamed = streamed_json(plan.read_or_stream(a.storage.clone(), 1).await).await;
    assert_eq!(streamed, whole);

    let history = a.history(bob.address(), 10).unwrap();
    assert_eq!((history.count, history.items.len()), (1, 1));
    let item = &history.items[0];
    assert_eq!(item.block, 1);
    let tx: Transaction = serde_json::from_slice(&item.json).unwrap();
    assert_eq!(tx, pay);
    assert_eq!(a.locate(&pay.id()).unwrap().1, Some(1));

    // b's longer chain from genesis: a walks back over every block it has.
    for _ in 0..=blocks {
        b.mine(None).await.unwrap();
    }
    // A request that planned to read block 1 before the reorg still reads it after, as
    // does a stream that has read block 1 and not yet blocks 2 and 3.
    let planned = a.read().blocks.json_plan(1, 2);
    let before = a.read().blocks.json_plan(1, 4).read(&a.storage).unwrap();
    let plan = a.read().blocks.json_plan(1, 4);
    let stream = plan.read_or_stream(a.storage.clone(), 1).await;
    let adoption = a.adopt_chain(all_blocks(&b)).await.unwrap();
    assert!(
        matches!(
            adoption,
            Adoption::Adopted {
                reorged_from: 1,
                reinjected: 1,
                ..
            }
        ),
        "{adoption:?}"
    );
    let old_body = a.storage.bodies(&[(1, first.hash().0)]).unwrap();
    assert!(old_body[0].is_some(), "kept while a plan may read it");
    let json = planned.read(&a.storage).unwrap();
    let read: Block = serde_json::from_slice(&json[0]).unwrap();
    assert_eq!(read, *first);
    assert_eq!(streamed_json(stream).await, before);
    // Then it goes.
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    while a.storage.bodies(&[(1, first.hash().0)]).unwrap()[0].is_some() {
        assert!(Instant::now() < deadline, "abandoned body never deleted");
        tokio::task::yield_now().await;
    }
    assert_eq!(a.read().ledger, b.read().ledger);
    assert_eq!(a.history(bob.address(), 10).unwrap().count, 0);
    assert_eq!(a.history(&b.wallet, 1000).unwrap().count, blocks + 1);
    assert_eq!(a.locate(&pay.id()).unwrap().1, None, "back to pending");
    let ledger = a.read().ledger.clone();
    drop(a);
    let a = Node::open(dir_a.path(), params, &options()).unwrap();
    assert_eq!(a.read().ledger, ledger);
    assert_eq!(all_blocks(&a), all_blocks(&b));
}

/// A data dir written before the state tables (whole blocks by number) is read once,
/// stored as state, and opens like any other from then on.
#[tokio::test]
async fn a_data_dir_from_before_the_state_tables_is_migrated() {
    let mut rng = rand::rng();
    let (alice, bob) = (
        PrivateKey::generate(&mut rng, 1024).unwrap(),
        PrivateKey::generate(&mut rng, 1024).unwrap(),
    );
    let params = easy_params(&alice);
    let (source, legacy) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node = Arc::new(Node::open(source.path(), params.clone(), &options()).unwrap());
    node.submit(Transaction::sign(&alice, bob.address(), "2", Some("m")).unwrap())
        .await
        .unwrap();
    for _ in 0..3 {
        node.mine(None).await.unwrap();
    }
    let blocks = all_blocks(&node);
    {
        let db = redb::Database::create(legacy.path().join("chain.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut table = txn
                .open_table(redb::TableDefinition::<u64, &[u8]>::new("blocks"))
                .unwrap();
            for block in &blocks {
                table
                    .insert(
                        block.number(),
                        serde_json::to_vec(block).unwrap().as_slice(),
                    )
                    .unwrap();
            }
            let mut meta = txn
                .open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
                .unwrap();
            meta.insert(META_GENESIS, &blocks[0].hash().0[..]).unwrap();
        }
        txn.commit().unwrap();
    }
    for _ in 0..2 {
        let migrated = Node::open(legacy.path(), params.clone(), &options()).unwrap();
        assert_eq!(migrated.read().ledger, node.read().ledger);
        assert_eq!(all_blocks(&migrated), blocks);
        assert_eq!(migrated.history(bob.address(), 5).unwrap().count, 1);
    }
    let mut legacy_left = 0;
    Storage::open(legacy.path())
        .unwrap()
        .for_each_legacy_block(|_, _| {
            legacy_left += 1;
            Ok::<(), StorageError>(())
        })
        .unwrap();
    assert_eq!(legacy_left, 0, "the old table is dropped");
}

/// Two syncs from the same peer overlap: blocks already held are skipped, and a page
/// that holds nothing new changes nothing.
#[tokio::test]
async fn overlapping_pages_skip_what_is_held() {
    let payer = PrivateKey::generate(&mut rand::rng(), 1024).unwrap();
    let params = easy_params(&payer);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Node::open(dir_a.path(), params.clone(), &options()).unwrap();
    let b = Arc::new(Node::open(dir_b.path(), params, &options()).unwrap());
    for _ in 0..3 {
        b.mine(None).await.unwrap();
    }
    let page = |from: u64, to: u64| b.read().blocks.range(from, to).unwrap();
    let adopt = |from, blocks| a.adopt_branch(from, verify_blocks(blocks).unwrap());
    assert!(matches!(
        adopt(1, page(1, 3)).await.unwrap(),
        Adoption::Adopted {
            height: 2,
            reorged_from: 1,
            ..
        }
    ));
    assert!(matches!(
        adopt(1, page(1, 4)).await.unwrap(),
        Adoption::Adopted {
            height: 3,
            reorged_from: 3,
            ..
        }
    ));
    assert!(matches!(
        adopt(2, page(2, 4)).await.unwrap(),
        Adoption::Known
    ));
    assert!(
        matches!(adopt(5, page(3, 4)).await, Err(AdoptError::Invalid(_))),
        "a page past our tip leaves a gap"
    );
    assert_eq!(a.read().ledger, b.read().ledger);
}

/// The query methods answer what the handlers read under the lock today.
#[tokio::test]
async fn queries_answer_from_one_consistent_state() {
    let mut rng = rand::rng();
    let (alice, bob) = (
        PrivateKey::generate(&mut rng, 1024).unwrap(),
        PrivateKey::generate(&mut rng, 1024).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let node = Arc::new(Node::open(dir.path(), easy_params(&alice), &options()).unwrap());
    let pay = Transaction::sign(&alice, bob.address(), "3", Some("q")).unwrap();
    node.submit(pay.clone()).await.unwrap();

    assert_eq!(node.pending_count(), 1);
    assert_eq!(node.pending(10), vec![pay.clone()]);
    assert!(node.pending(0).is_empty());
    assert_eq!(node.pending_of(bob.address()), vec![pay.clone()]);
    let view = node.balance(alice.address());
    assert_eq!(view.confirmed, Amount::from_coins(10).unwrap());
    assert_eq!(view.pending_outgoing, Amount::from_coins(3).unwrap());
    assert_eq!((view.pending_incoming, view.height), (Amount::ZERO, 0));

    let mined = node.mine(None).await.unwrap();
    let status = node.status(bob.address());
    assert_eq!((status.height, status.length, status.pool_size), (1, 2, 0));
    assert_eq!(status.tip_hash, mined.hash());
    assert_eq!(status.balance, Amount::from_coins(3).unwrap());
    assert_eq!(node.height(), 1);

    let page = node.chain_page(Some(1), Some(5));
    assert_eq!((page.length, page.from), (2, 1));
    let json = node.read_json(page.plan).unwrap();
    assert_eq!(json, node.read_json(node.block_json(1).unwrap()).unwrap());
    let streamed = node.read_json_or_stream(node.chain_page(Some(1), None).plan, 1 << 20);
    assert!(matches!(streamed.await.unwrap(), crate::blocks::PlanRead::Whole(j) if j == json));
    assert!(node.stored_peers().unwrap().is_empty());
    let Err(missing) = node.block_json(2) else {
        panic!("block 2 is past the tip");
    };
    assert_eq!(missing.to_string(), "no block 2; the tip is 1");
    assert_eq!(*node.block(1).unwrap().unwrap().block, *mined);
    assert_eq!(node.blocks(0, 9).unwrap().len(), 2);
    assert_eq!(node.recent_blocks(1).unwrap()[0].block.hash(), mined.hash());
    assert_eq!(node.recent_infos(5).len(), 2);
    assert_eq!(node.place_of(&mined), BlockPlace::Known);
    let genesis = easy_params(&alice).genesis_block();
    assert_eq!(node.place_of(&genesis), BlockPlace::Known);
}
