//! The protocol's hot paths, as the issue asks for them:
//!
//! - `pow`: proof-of-work tries per second on one thread, with 0, 100 and 1000 payments in
//!   the block (target ≥ 2.5 M tries/s; the 1000-payment figure within 5 % of the empty
//!   one, since a try only ever hashes the fixed-size header), and the once-per-template
//!   cost of building the block (Merkle root) and its midstate;
//! - `verify`: signature verifications per second for 1024- and 2048-bit keys, parsing the
//!   addresses from hex as the node does for a submitted form, and with them pre-parsed;
//! - `validate_chain`: whole-chain validation from genesis, in payments per second.
//!
//! Run with `cargo bench -p blockchain_core`; criterion prints each figure as elements/s.

use std::hint::black_box;
use std::time::Duration;

use blockchain_core::ledger::reward_transaction;
use blockchain_core::transaction::check_stateless;
use blockchain_core::{
    Address, Amount, Block, BlockHash, Difficulty, Ledger, NetworkParams, PrivateKey, Sender,
    Transaction, validate_chain,
};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

/// Nonces tried per measured iteration of the proof-of-work search.
const TRIES: u64 = 20_000;
/// The validating node's clock for the chain benchmark.
const NOW: u64 = 1_800_000_000;

fn key(bits: usize) -> PrivateKey {
    PrivateKey::generate(&mut rand::rng(), bits).expect("key generation")
}

/// `count` distinct signed payments (distinct nonces) from `payer` to `recipient`.
fn payments(payer: &PrivateKey, recipient: &Address, count: usize) -> Vec<Transaction> {
    (0..count)
        .map(|i| {
            Transaction::sign(payer, recipient, "0.001", Some(&format!("n{i}"))).expect("signs")
        })
        .collect()
}

/// A block at height 1 holding `txs` and a reward to `miner`.
fn block_with(txs: Vec<Transaction>, miner: &Address, params: &NetworkParams) -> Block {
    let mut txs = txs;
    txs.push(reward_transaction(miner, params, 1));
    Block::new(
        1,
        params.timestamp + 60,
        Difficulty::MAX,
        BlockHash([7; 32]),
        txs,
        0,
    )
}

fn pow(c: &mut Criterion) {
    let params = NetworkParams::default();
    let (payer, miner) = (key(1024), key(1024));
    let all = payments(&payer, miner.address(), 1000);

    let mut group = c.benchmark_group("pow");
    group.throughput(Throughput::Elements(TRIES));
    for count in [0usize, 100, 1000] {
        let block = block_with(all[..count].to_vec(), miner.address(), &params);
        let template = block.header().pow_template();
        let mut start = 0u64;
        group.bench_function(BenchmarkId::new("tries", format!("{count}_tx")), |b| {
            b.iter(|| {
                let found = black_box(&template).search(Difficulty::MAX, start, 1, TRIES);
                start = start.wrapping_add(TRIES);
                black_box(found)
            });
        });
    }
    group.finish();

    // What a miner pays once per template, not per try: the Merkle root in `Block::new`,
    // then the header's midstate.
    let mut group = c.benchmark_group("pow_setup");
    let mut txs = all.clone();
    txs.push(reward_transaction(miner.address(), &params, 1));
    group.throughput(Throughput::Elements(txs.len() as u64));
    group.bench_function("block_new_1000_tx", |b| {
        b.iter_batched(
            || txs.clone(),
            |txs| {
                Block::new(
                    1,
                    params.timestamp + 60,
                    Difficulty::MAX,
                    BlockHash([7; 32]),
                    txs,
                    0,
                )
            },
            BatchSize::LargeInput,
        );
    });
    let block = block_with(all, miner.address(), &params);
    group.throughput(Throughput::Elements(1));
    group.bench_function("pow_template_1000_tx", |b| {
        b.iter(|| black_box(&block).header().pow_template());
    });
    group.finish();
}

#[derive(Deserialize)]
struct Vectors {
    valid: Vec<Vector>,
}

/// A payment signed by the original Python client.
#[derive(Deserialize)]
struct Vector {
    sender_address: String,
    recipient_address: String,
    value: String,
    signature: String,
    key_bits: usize,
}

fn reference_vector(bits: usize) -> Vector {
    let vectors: Vectors =
        serde_json::from_str(include_str!("../tests/data/reference_transactions.json"))
            .expect("vectors parse");
    vectors
        .valid
        .into_iter()
        .find(|v| v.key_bits == bits)
        .expect("a valid vector of this size")
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    for bits in [1024, 2048] {
        let v = reference_vector(bits);
        let sender = Address::from_hex(&v.sender_address).expect("sender parses");
        let recipient = Address::from_hex(&v.recipient_address).expect("recipient parses");
        assert_eq!(sender.bits(), bits);

        // The node's path for a submitted form: both addresses from hex, then the check.
        group.bench_function(BenchmarkId::new("parse_and_verify", bits), |b| {
            b.iter(|| {
                let tx = Transaction::from_fields(
                    black_box(&v.sender_address),
                    &v.recipient_address,
                    &v.value,
                    None,
                    &v.signature,
                )
                .expect("parses");
                check_stateless(&tx).expect("verifies");
            });
        });
        // Addresses already parsed (a sender the node has seen): signature decoding,
        // the id hash and the RSA verification.
        group.bench_function(BenchmarkId::new("preparsed_verify", bits), |b| {
            b.iter(|| {
                let tx = Transaction::new(
                    Sender::Wallet(sender.clone()),
                    recipient.clone(),
                    black_box(&v.value),
                    None,
                    &v.signature,
                )
                .expect("parses");
                check_stateless(&tx).expect("verifies");
            });
        });
        // Parsing alone, to show what it adds.
        group.bench_function(BenchmarkId::new("parse_only", bits), |b| {
            b.iter(|| {
                Transaction::from_fields(
                    black_box(&v.sender_address),
                    &v.recipient_address,
                    &v.value,
                    None,
                    &v.signature,
                )
                .expect("parses")
            });
        });
    }
    group.finish();
}

const CHAIN_BLOCKS: u64 = 50;
const PAYMENTS_PER_BLOCK: usize = 40;

/// A valid chain of [`CHAIN_BLOCKS`] blocks after genesis, each with
/// [`PAYMENTS_PER_BLOCK`] payments from four funded 1024-bit wallets, connected one by
/// one with every rule so the benchmark times a chain a node would accept.
fn chain() -> (NetworkParams, Vec<Block>) {
    let payers: Vec<PrivateKey> = (0..4).map(|_| key(1024)).collect();
    let miner = key(1024);
    let funds = Amount::from_coins(1000).expect("in range");
    let params = NetworkParams {
        network: "bench".into(),
        difficulty: Difficulty::new(4).expect("in range"),
        allocations: payers
            .iter()
            .map(|p| (p.address().clone(), funds))
            .collect(),
        ..NetworkParams::default()
    };
    let mut ledger = Ledger::new(&params);
    let mut blocks = vec![params.genesis_block()];
    for number in 1..=CHAIN_BLOCKS {
        let mut txs: Vec<Transaction> = (0..PAYMENTS_PER_BLOCK)
            .map(|i| {
                let payer = &payers[i % payers.len()];
                let to = if i % 2 == 0 {
                    miner.address()
                } else {
                    payers[(i + 1) % payers.len()].address()
                };
                Transaction::sign(payer, to, "0.5", Some(&format!("b{number}t{i}"))).expect("signs")
            })
            .collect();
        txs.push(reward_transaction(miner.address(), &params, number));
        let block = Block::new(
            number,
            params.timestamp + 60 * number,
            params.difficulty,
            ledger.tip().hash,
            txs,
            0,
        );
        let nonce = block
            .header()
            .pow_template()
            .search(params.difficulty, 0, 1, u64::MAX)
            .expect("a nonce at this difficulty");
        let block = block.with_nonce(nonce);
        ledger
            .connect(&block, &params, NOW)
            .expect("the block is valid");
        blocks.push(block);
    }
    (params, blocks)
}

fn chain_validation(c: &mut Criterion) {
    let (params, blocks) = chain();
    let payments = CHAIN_BLOCKS * PAYMENTS_PER_BLOCK as u64;
    let mut group = c.benchmark_group("validate_chain");
    group.throughput(Throughput::Elements(payments));
    group.bench_function(
        format!("{CHAIN_BLOCKS}_blocks_x_{PAYMENTS_PER_BLOCK}_tx_1024_bit_all_threads"),
        |b| b.iter(|| validate_chain(black_box(&blocks), &params, NOW).expect("valid chain")),
    );
    // The same on one rayon thread, to show what the parallel signature checks buy.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    group.bench_function(
        format!("{CHAIN_BLOCKS}_blocks_x_{PAYMENTS_PER_BLOCK}_tx_1024_bit_1_thread"),
        |b| {
            b.iter(|| {
                one_thread.install(|| {
                    validate_chain(black_box(&blocks), &params, NOW).expect("valid chain")
                })
            })
        },
    );
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = pow, verify, chain_validation
}
criterion_main!(benches);
