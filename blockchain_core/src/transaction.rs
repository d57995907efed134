//! Transactions: parsing (structural), signature and sender rules (stateless), identity.
//!
//! A transaction is what the original client signs — sender, recipient, value — plus an
//! optional `nonce` that our client always sets. Its [`TxId`] is the SHA-256 of the canonical
//! signed message, so a signed transaction has exactly one identity: the ledger lets an id
//! in once, which is what stops replay.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::THE_BLOCKCHAIN;
use crate::amount::{Amount, AmountError};
use crate::message::{HashWriter, MessageStyle, write_ordered_dict};
use crate::wallet::{Address, KeyError, PrivateKey};

/// Longest accepted nonce, in characters.
pub const MAX_NONCE_LEN: usize = 64;
/// Longest accepted signature: a 4096-bit key's.
pub const MAX_SIGNATURE_LEN: usize = 512;

/// The SHA-256 of a transaction's canonical signed message.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub [u8; 32]);

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_hex(&self.0, |hex| f.write_str(hex))
    }
}

/// Calls `f` with the lowercase hex of `bytes`, kept on the stack for up to a signature's
/// length (the common case on every submission and every JSON answer).
fn with_hex<R>(bytes: &[u8], f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 2 * MAX_SIGNATURE_LEN];
    match buffer.get_mut(..2 * bytes.len()) {
        Some(out) => {
            hex::encode_to_slice(bytes, out).expect("the slice is twice as long");
            f(std::str::from_utf8(out).expect("hex is ASCII"))
        }
        None => f(&hex::encode(bytes)),
    }
}
impl fmt::Debug for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxId({})", &hex::encode(self.0)[..16])
    }
}
impl FromStr for TxId {
    type Err = hex::FromHexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(TxId(out))
    }
}
impl Serialize for TxId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
impl<'de> Deserialize<'de> for TxId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom("a transaction id is 64 hex digits"))
    }
}

/// Who pays: a wallet, or the chain itself when it mints a reward or a genesis allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    Blockchain,
    Wallet(Address),
}

impl Sender {
    /// The sender as it appears in messages and JSON.
    pub fn as_str(&self) -> &str {
        match self {
            Sender::Blockchain => THE_BLOCKCHAIN,
            Sender::Wallet(address) => address.as_hex(),
        }
    }

    /// The paying wallet, if any.
    pub fn wallet(&self) -> Option<&Address> {
        match self {
            Sender::Blockchain => None,
            Sender::Wallet(address) => Some(address),
        }
    }
}

/// Why transaction fields do not form a transaction. Each variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxParseError {
    #[error("sender_address: {0}")]
    Sender(KeyError),
    #[error("recipient_address: {0}")]
    Recipient(KeyError),
    #[error("amount: {0}")]
    Amount(#[from] AmountError),
    #[error("nonce must be 1 to 64 characters of letters, digits, '-' or '_'")]
    Nonce,
    #[error("signature is empty")]
    SignatureEmpty,
    #[error("signature is not hexadecimal")]
    SignatureNotHex,
    #[error("signature has an odd number of hex digits")]
    SignatureOddLength,
    #[error("signature is longer than any accepted key makes ({MAX_SIGNATURE_LEN} bytes)")]
    SignatureTooLong,
}

/// Why a well-formed transaction breaks a rule that needs no chain.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    #[error("sender \"THE BLOCKCHAIN\" is reserved for block rewards; nobody may mint coins")]
    MintingForbidden,
    #[error("sender and recipient are the same address")]
    SenderIsRecipient,
    #[error(
        "signature is {got} bytes but the sender's {bits}-bit key makes {expected}-byte signatures"
    )]
    SignatureLength {
        expected: usize,
        got: usize,
        bits: usize,
    },
    #[error("signature does not match the transaction and the sender's key")]
    BadSignature,
}

/// A parsed transaction. Its fields cannot hold a malformed value; whether the signature
/// is right is a separate, stateless check ([`check_stateless`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    sender: Sender,
    recipient: Address,
    amount: Amount,
    value: Box<str>,
    nonce: Option<Box<str>>,
    signature: Box<[u8]>,
    id: TxId,
}

/// A transaction on the wire, with the original client's field names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TransactionJson {
    pub sender_address: String,
    pub recipient_address: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default)]
    pub signature: String,
}

impl TransactionJson {
    /// The form fields of the original `POST /transactions/new`, where the value is called
    /// `amount`; `nonce` only when there is one.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        let mut fields = vec![
            ("sender_address", self.sender_address.as_str()),
            ("recipient_address", self.recipient_address.as_str()),
            ("amount", self.value.as_str()),
            ("signature", self.signature.as_str()),
        ];
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce", nonce.as_str()));
        }
        fields
    }
}

fn check_nonce(nonce: &str) -> Result<(), TxParseError> {
    let ok = !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_LEN
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(TxParseError::Nonce) }
}

fn decode_signature(text: &str) -> Result<Vec<u8>, TxParseError> {
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TxParseError::SignatureNotHex);
    }
    if text.len() % 2 == 1 {
        return Err(TxParseError::SignatureOddLength);
    }
    if text.len() > 2 * MAX_SIGNATURE_LEN {
        return Err(TxParseError::SignatureTooLong);
    }
    crate::wallet::decode_checked_hex(text).map_err(|_| TxParseError::SignatureNotHex)
}

impl Transaction {
    /// Builds a transaction from parsed parties and the user's text for the value.
    ///
    /// # Errors
    /// [`TxParseError`] for a bad value, nonce or signature text. A wallet sender needs a
    /// signature; the chain as sender has none.
    pub fn new(
        sender: Sender,
        recipient: Address,
        value: &str,
        nonce: Option<&str>,
        signature: &str,
    ) -> Result<Self, TxParseError> {
        let amount = Amount::parse_value(value)?;
        if let Some(nonce) = nonce {
            check_nonce(nonce)?;
        }
        if signature.is_empty() && matches!(sender, Sender::Wallet(_)) {
            return Err(TxParseError::SignatureEmpty);
        }
        let signature = decode_signature(signature)?;
        Ok(Self::assemble(
            sender, recipient, amount, value, nonce, signature,
        ))
    }

    fn assemble(
        sender: Sender,
        recipient: Address,
        amount: Amount,
        value: &str,
        nonce: Option<&str>,
        signature: Vec<u8>,
    ) -> Self {
        let mut tx = Transaction {
            sender,
            recipient,
            amount,
            value: value.into(),
            nonce: nonce.map(Into::into),
            signature: signature.into_boxed_slice(),
            id: TxId([0; 32]),
        };
        let mut hasher = HashWriter(Sha256::new());
        tx.write_message(&mut hasher, MessageStyle::Classic)
            .expect("hashing never fails");
        tx.id = TxId(hasher.0.finalize().into());
        tx
    }

    /// Parses a transaction from its text fields (form or JSON).
    ///
    /// # Errors
    /// The first malformed field, by name.
    pub fn from_fields(
        sender: &str,
        recipient: &str,
        value: &str,
        nonce: Option<&str>,
        signature: &str,
    ) -> Result<Self, TxParseError> {
        let sender = if sender == THE_BLOCKCHAIN {
            Sender::Blockchain
        } else {
            Sender::Wallet(
                Address::parse_field(sender, "sender_address").map_err(TxParseError::Sender)?,
            )
        };
        let recipient = Address::parse_field(recipient, "recipient_address")
            .map_err(TxParseError::Recipient)?;
        Self::new(sender, recipient, value, nonce, signature)
    }

    /// Signs a payment of `value` (the user's text) to `recipient`.
    ///
    /// With `nonce: None` the message is the original client's three-field message and the
    /// signature equals the original client's byte for byte.
    ///
    /// # Errors
    /// [`TxParseError`] for a bad value or nonce.
    pub fn sign(
        key: &PrivateKey,
        recipient: &Address,
        value: &str,
        nonce: Option<&str>,
    ) -> Result<Self, TxParseError> {
        let amount = Amount::parse_value(value)?;
        if let Some(nonce) = nonce {
            check_nonce(nonce)?;
        }
        let mut tx = Self::assemble(
            Sender::Wallet(key.address().clone()),
            recipient.clone(),
            amount,
            value,
            nonce,
            Vec::new(),
        );
        tx.signature = key
            .sign(tx.message(MessageStyle::Classic).as_bytes())
            .into_boxed_slice();
        Ok(tx)
    }

    /// Mints `amount` to `recipient`: a block reward or a genesis allocation. `tag` makes
    /// each mint unique (the block number, or the allocation's index).
    pub fn mint(recipient: Address, amount: Amount, tag: &str) -> Self {
        let value = amount.to_string();
        Self::assemble(
            Sender::Blockchain,
            recipient,
            amount,
            &value,
            Some(tag),
            Vec::new(),
        )
    }

    /// The message the sender signed, in `style`.
    pub fn message(&self, style: MessageStyle) -> String {
        let mut message = String::with_capacity(
            96 + self.sender.as_str().len()
                + self.recipient.as_hex().len()
                + self.value.len()
                + self.nonce.as_deref().map_or(0, |n| n.len() + 16),
        );
        self.write_message(&mut message, style)
            .expect("a String takes any text");
        message
    }

    /// Writes the message the sender signed, in `style`, to `out` (a `String` or a hash).
    fn write_message<W: fmt::Write>(&self, out: &mut W, style: MessageStyle) -> fmt::Result {
        let fields = [
            ("sender_address", self.sender.as_str()),
            ("recipient_address", self.recipient.as_hex()),
            ("value", &*self.value),
            ("nonce", self.nonce.as_deref().unwrap_or_default()),
        ];
        let count = if self.nonce.is_some() { 4 } else { 3 };
        write_ordered_dict(out, &fields[..count], style)
    }

    pub fn id(&self) -> TxId {
        self.id
    }
    pub fn sender(&self) -> &Sender {
        &self.sender
    }
    pub fn recipient(&self) -> &Address {
        &self.recipient
    }
    pub fn amount(&self) -> Amount {
        self.amount
    }
    /// The value exactly as the sender typed and signed it.
    pub fn value_text(&self) -> &str {
        &self.value
    }
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    pub fn is_mint(&self) -> bool {
        self.sender == Sender::Blockchain
    }

    /// The hash a block's transaction root commits to: the id and the signature.
    pub fn leaf_hash(&self) -> [u8; 32] {
        crate::merkle::leaf_hash(&self.id, &self.signature)
    }

    /// The wire form.
    pub fn to_json(&self) -> TransactionJson {
        TransactionJson {
            sender_address: self.sender.as_str().to_owned(),
            recipient_address: self.recipient.as_hex().to_owned(),
            value: self.value.to_string(),
            nonce: self.nonce.as_deref().map(str::to_owned),
            signature: hex::encode(&self.signature),
        }
    }
}

impl TryFrom<&TransactionJson> for Transaction {
    type Error = TxParseError;
    fn try_from(json: &TransactionJson) -> Result<Self, Self::Error> {
        Transaction::from_fields(
            &json.sender_address,
            &json.recipient_address,
            &json.value,
            json.nonce.as_deref(),
            &json.signature,
        )
    }
}

impl Serialize for Transaction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Transaction", 6)?;
        s.serialize_field("sender_address", self.sender.as_str())?;
        s.serialize_field("recipient_address", self.recipient.as_hex())?;
        s.serialize_field("value", &*self.value)?;
        if let Some(nonce) = &self.nonce {
            s.serialize_field("nonce", &**nonce)?;
        }
        with_hex(&self.signature, |hex| s.serialize_field("signature", hex))?;
        s.serialize_field("id", &self.id)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Transaction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = TransactionJson::deserialize(deserializer)?;
        Transaction::try_from(&json).map_err(serde::de::Error::custom)
    }
}

/// Checks the rules a submitted transaction must meet on its own: a wallet sender other
/// than the recipient, and a signature by the sender over the message (in either Python
/// style).
///
/// # Errors
/// The [`TxError`] of the first broken rule.
pub fn check_stateless(tx: &Transaction) -> Result<(), TxError> {
    let Sender::Wallet(sender) = &tx.sender else {
        return Err(TxError::MintingForbidden);
    };
    if *sender == tx.recipient {
        return Err(TxError::SenderIsRecipient);
    }
    let expected = sender.signature_len();
    if tx.signature.len() != expected {
        return Err(TxError::SignatureLength {
            expected,
            got: tx.signature.len(),
            bits: sender.bits(),
        });
    }
    // One exponentiation, then a comparison per message style the signer may have used.
    let signed = sender.open_signature(&tx.signature).is_some_and(|opened| {
        [MessageStyle::Classic, MessageStyle::Python312]
            .into_iter()
            .any(|style| {
                let mut hasher = HashWriter(Sha1::new());
                tx.write_message(&mut hasher, style)
                    .expect("hashing never fails");
                opened.signs(&hasher.0.finalize().into())
            })
    });
    if signed {
        Ok(())
    } else {
        Err(TxError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wallet::PrivateKey;

    fn keys() -> (PrivateKey, PrivateKey) {
        let mut rng = rand::rng();
        (
            PrivateKey::generate(&mut rng, 1024).unwrap(),
            PrivateKey::generate(&mut rng, 1024).unwrap(),
        )
    }

    #[test]
    fn signed_transactions_verify_and_tampering_fails() {
        let (alice, bob) = keys();
        let tx = Transaction::sign(&alice, bob.address(), "5", Some("n1")).unwrap();
        assert_eq!(check_stateless(&tx), Ok(()));

        let mut json = tx.to_json();
        json.value = "50".into();
        let tampered = Transaction::try_from(&json).unwrap();
        assert_eq!(check_stateless(&tampered), Err(TxError::BadSignature));

        let mut json = tx.to_json();
        json.nonce = Some("n2".into());
        assert_eq!(
            check_stateless(&Transaction::try_from(&json).unwrap()),
            Err(TxError::BadSignature)
        );

        let mut json = tx.to_json();
        json.signature.truncate(json.signature.len() - 2);
        assert!(matches!(
            check_stateless(&Transaction::try_from(&json).unwrap()),
            Err(TxError::SignatureLength {
                expected: 128,
                got: 127,
                ..
            })
        ));
    }

    #[test]
    fn python_312_messages_verify_too() {
        let (alice, bob) = keys();
        let unsigned = Transaction::sign(&alice, bob.address(), "5", None).unwrap();
        let signature = alice.sign(unsigned.message(MessageStyle::Python312).as_bytes());
        let tx = Transaction::new(
            Sender::Wallet(alice.address().clone()),
            bob.address().clone(),
            "5",
            None,
            &hex::encode(signature),
        )
        .unwrap();
        assert_eq!(check_stateless(&tx), Ok(()));
        assert_eq!(tx.id(), unsigned.id(), "one identity whatever the style");
    }

    #[test]
    fn nonce_changes_identity() {
        let (alice, bob) = keys();
        let a = Transaction::sign(&alice, bob.address(), "5", Some("1")).unwrap();
        let b = Transaction::sign(&alice, bob.address(), "5", Some("2")).unwrap();
        let c = Transaction::sign(&alice, bob.address(), "5", None).unwrap();
        assert_ne!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
        assert!(
            a.message(MessageStyle::Classic)
                .ends_with("('value', '5'), ('nonce', '1')])")
        );
    }

    #[test]
    fn stateless_rules() {
        let (alice, _) = keys();
        let to_self = Transaction::sign(&alice, alice.address(), "5", None).unwrap();
        assert_eq!(check_stateless(&to_self), Err(TxError::SenderIsRecipient));
        let mint = Transaction::mint(alice.address().clone(), Amount::from_coins(1).unwrap(), "1");
        assert_eq!(check_stateless(&mint), Err(TxError::MintingForbidden));
        let posted =
            Transaction::from_fields(THE_BLOCKCHAIN, alice.address().as_hex(), "5", None, "00")
                .unwrap();
        assert_eq!(check_stateless(&posted), Err(TxError::MintingForbidden));
    }

    #[test]
    fn parse_errors_name_the_field() {
        let (alice, bob) = keys();
        let (a, b) = (alice.address().as_hex(), bob.address().as_hex());
        let err = |s: &str, r: &str, v: &str, n: Option<&str>, sig: &str| {
            Transaction::from_fields(s, r, v, n, sig).unwrap_err()
        };
        assert!(matches!(
            err("deadbeef", b, "5", None, "00"),
            TxParseError::Sender(_)
        ));
        assert!(matches!(
            err(a, "", "5", None, "00"),
            TxParseError::Recipient(_)
        ));
        assert!(matches!(
            err(a, b, "abc", None, "00"),
            TxParseError::Amount(_)
        ));
        assert!(matches!(
            err(a, b, "5", Some("a b"), "00"),
            TxParseError::Nonce
        ));
        assert!(matches!(
            err(a, b, "5", None, ""),
            TxParseError::SignatureEmpty
        ));
        assert!(matches!(
            err(a, b, "5", None, "zz"),
            TxParseError::SignatureNotHex
        ));
        assert!(matches!(
            err(a, b, "5", None, "abc"),
            TxParseError::SignatureOddLength
        ));
        assert!(
            err(a, b, "abc", None, "00")
                .to_string()
                .starts_with("amount:")
        );
    }

    #[test]
    fn json_round_trip() {
        let (alice, bob) = keys();
        let tx = Transaction::sign(&alice, bob.address(), "0.25", Some("x")).unwrap();
        let text = serde_json::to_string(&tx).unwrap();
        let back: Transaction = serde_json::from_str(&text).unwrap();
        assert_eq!(back, tx);
        assert!(text.contains(&format!("\"id\":\"{}\"", tx.id())));
    }
}
