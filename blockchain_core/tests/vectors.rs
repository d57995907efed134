//! The original Python client's wallets and signatures (`tests/data/`, copied from
//! `shared/vectors/`): our messages, signatures and verification must match it byte for byte.

use blockchain_core::message::MessageStyle;
use blockchain_core::transaction::check_stateless;
use blockchain_core::{Address, PrivateKey, Transaction, TxError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    wallets: Vec<Wallet>,
    valid: Vec<Entry>,
    invalid: Vec<Entry>,
}

#[derive(Deserialize)]
struct Wallet {
    bits: usize,
    private_key: String,
    public_key: String,
}

#[derive(Deserialize)]
struct Entry {
    sender_address: String,
    sender_private_key: String,
    recipient_address: String,
    value: String,
    message: String,
    signature: String,
    key_bits: usize,
    #[serde(default)]
    why: String,
}

fn vectors() -> Vectors {
    let text = include_str!("data/reference_transactions.json");
    serde_json::from_str(text).expect("vectors parse")
}

#[test]
fn wallets_import_and_export_identically() {
    for wallet in vectors().wallets {
        let key = PrivateKey::from_hex(&wallet.private_key).unwrap();
        assert_eq!(key.address().as_hex(), wallet.public_key);
        assert_eq!(key.address().bits(), wallet.bits);
        assert_eq!(
            *key.to_hex(),
            wallet.private_key,
            "private key re-encodes byte for byte"
        );
        assert_eq!(
            Address::from_hex(&wallet.public_key).unwrap(),
            *key.address()
        );
    }
}

#[test]
fn valid_vectors_match_our_message_and_signature_and_verify() {
    let vectors = vectors();
    assert_eq!(vectors.valid.len(), 9);
    for entry in &vectors.valid {
        let key = PrivateKey::from_hex(&entry.sender_private_key).unwrap();
        let recipient = Address::from_hex(&entry.recipient_address).unwrap();
        let ours = Transaction::sign(&key, &recipient, &entry.value, None).unwrap();
        assert_eq!(ours.message(MessageStyle::Classic), entry.message);
        assert_eq!(
            hex::encode(ours.signature()),
            entry.signature,
            "{}-bit, value {}",
            entry.key_bits,
            entry.value
        );

        let theirs = Transaction::from_fields(
            &entry.sender_address,
            &entry.recipient_address,
            &entry.value,
            None,
            &entry.signature,
        )
        .unwrap();
        assert_eq!(check_stateless(&theirs), Ok(()));
        assert_eq!(theirs.id(), ours.id());
    }
}

#[test]
fn invalid_vectors_fail_verification() {
    let vectors = vectors();
    assert_eq!(vectors.invalid.len(), 15);
    for entry in &vectors.invalid {
        let tx = Transaction::from_fields(
            &entry.sender_address,
            &entry.recipient_address,
            &entry.value,
            None,
            &entry.signature,
        )
        .unwrap();
        let result = check_stateless(&tx);
        assert!(
            matches!(
                result,
                Err(TxError::BadSignature | TxError::SignatureLength { .. })
            ),
            "{}: {result:?}",
            entry.why
        );
        assert_eq!(
            tx.message(MessageStyle::Classic),
            entry.message,
            "{}",
            entry.why
        );
    }
}
