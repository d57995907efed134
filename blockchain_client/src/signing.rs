//! Signing a payment from the text a person typed: the one place where form fields or
//! command-line flags become core types.
//!
//! Every error names the field it is about (`sender_address`, `sender_private_key`,
//! `recipient_address`, `amount`, `nonce`) so the page can point at it, and never contains
//! the private key.

use blockchain_core::message::MessageStyle;
use blockchain_core::{Address, PrivateKey, Transaction, TxParseError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Characters in the nonce our client makes for each transaction.
pub const NONCE_HEX_LEN: usize = 16;

/// Which nonce a transaction gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NonceChoice {
    /// A fresh random nonce, so paying the same amount twice makes two transactions.
    Random,
    /// The caller's nonce.
    Given(String),
    /// No nonce: the original client's three-field message, signed byte for byte as it does.
    /// Such a transaction can be made only once between two wallets for a given amount.
    Without,
    /// No nonce, for an original tutorial node: the three-field message in the style that
    /// node's Python prints it ([`MessageStyle::Classic`] is [`NonceChoice::Without`]).
    ForOriginalNode(MessageStyle),
}

/// What a person asks to sign. The sender is optional on the command line (it defaults to
/// the key's address); the web form always sends it.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    pub sender: Option<&'a str>,
    pub private_key: &'a str,
    pub recipient: &'a str,
    pub amount: &'a str,
}

/// A field that cannot be signed as given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct FieldError {
    /// The form field name.
    pub field: &'static str,
    /// What is wrong, in words, starting with the field name.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            field,
            message: message.into(),
        }
    }
}

/// The transaction as the original client shows it before submitting: what was signed.
/// Fields are in alphabetical order, as the original's JSON is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsignedTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub recipient_address: String,
    pub sender_address: String,
    pub value: String,
}

/// The original client's `/generate/transaction` answer: `{"signature", "transaction"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    pub signature: String,
    pub transaction: UnsignedTransaction,
}

impl SignedTransaction {
    /// The form fields the node's `POST /transactions/new` expects.
    pub fn form_fields(&self) -> Vec<(&'static str, &str)> {
        let tx = &self.transaction;
        let mut fields = vec![
            ("sender_address", tx.sender_address.as_str()),
            ("recipient_address", tx.recipient_address.as_str()),
            ("amount", tx.value.as_str()),
            ("signature", self.signature.as_str()),
        ];
        if let Some(nonce) = &tx.nonce {
            fields.push(("nonce", nonce.as_str()));
        }
        fields
    }
}

/// Makes a random nonce of [`NONCE_HEX_LEN`] hex digits.
pub fn random_nonce() -> String {
    hex::encode(rand::random::<[u8; NONCE_HEX_LEN / 2]>())
}

/// Parses the request, checks that the key belongs to the sender, and signs.
///
/// # Errors
/// A [`FieldError`] naming the first field that is missing or malformed, a key that does
/// not match the sender, or a payment to oneself.
pub fn sign(request: SignRequest<'_>, nonce: NonceChoice) -> Result<SignedTransaction, FieldError> {
    let sender = request
        .sender
        .map(|text| {
            Address::parse_field(text.trim(), "sender_address")
                .map_err(|e| FieldError::new("sender_address", e.to_string()))
        })
        .transpose()?;
    let key = PrivateKey::from_hex(request.private_key)
        .map_err(|e| FieldError::new("sender_private_key", format!("sender_private_key: {e}")))?;
    if let Some(sender) = &sender
        && sender != key.address()
    {
        return Err(FieldError::new(
            "sender_address",
            format!(
                "sender_address does not belong to the private key (the key's address is {})",
                key.address().short()
            ),
        ));
    }
    let recipient = Address::parse_field(request.recipient.trim(), "recipient_address")
        .map_err(|e| FieldError::new("recipient_address", e.to_string()))?;
    if &recipient == key.address() {
        return Err(FieldError::new(
            "recipient_address",
            "recipient_address is the sender's own address; pay another wallet",
        ));
    }
    let (nonce, style) = match nonce {
        NonceChoice::Random => (Some(random_nonce()), MessageStyle::Classic),
        NonceChoice::Given(nonce) => (Some(nonce), MessageStyle::Classic),
        NonceChoice::Without => (None, MessageStyle::Classic),
        NonceChoice::ForOriginalNode(style) => (None, style),
    };
    let tx = Transaction::sign(&key, &recipient, request.amount.trim(), nonce.as_deref()).map_err(
        |e| match e {
            TxParseError::Amount(_) => FieldError::new("amount", e.to_string()),
            TxParseError::Nonce => FieldError::new("nonce", e.to_string()),
            other => FieldError::new("transaction", other.to_string()),
        },
    )?;
    let mut json = tx.to_json();
    if style != MessageStyle::Classic {
        json.signature = hex::encode(key.sign(tx.message(style).as_bytes()));
    }
    Ok(SignedTransaction {
        signature: json.signature,
        transaction: UnsignedTransaction {
            nonce: json.nonce,
            recipient_address: json.recipient_address,
            sender_address: json.sender_address,
            value: json.value,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::transaction::check_stateless;

    fn key() -> PrivateKey {
        PrivateKey::generate(&mut rand::rng(), 1024).unwrap()
    }

    fn request<'a>(
        sender: &'a str,
        private_key: &'a str,
        recipient: &'a str,
        amount: &'a str,
    ) -> SignRequest<'a> {
        SignRequest {
            sender: Some(sender),
            private_key,
            recipient,
            amount,
        }
    }

    #[test]
    fn signs_a_transaction_the_node_accepts() {
        let (alice, bob) = (key(), key());
        let secret = alice.to_hex();
        let signed = sign(
            request(
                alice.address().as_hex(),
                &secret,
                bob.address().as_hex(),
                "2.5",
            ),
            NonceChoice::Random,
        )
        .unwrap();
        let nonce = signed.transaction.nonce.clone().unwrap();
        assert_eq!(nonce.len(), NONCE_HEX_LEN);
        let tx = Transaction::from_fields(
            &signed.transaction.sender_address,
            &signed.transaction.recipient_address,
            &signed.transaction.value,
            Some(&nonce),
            &signed.signature,
        )
        .unwrap();
        check_stateless(&tx).unwrap();
        let json = serde_json::to_string(&signed).unwrap();
        assert!(json.starts_with(r#"{"signature":"#), "{json}");
        assert!(!json.contains(&secret[10..60]));
    }

    #[test]
    fn random_nonces_differ() {
        assert_ne!(random_nonce(), random_nonce());
    }

    #[test]
    fn errors_name_the_field() {
        let (alice, bob) = (key(), key());
        let secret = alice.to_hex();
        let (a, b) = (alice.address().as_hex(), bob.address().as_hex());
        let cases = [
            (request("", &secret, b, "1"), "sender_address"),
            (request("zz", &secret, b, "1"), "sender_address"),
            (request(b, &secret, b, "1"), "sender_address"),
            (request(a, "", b, "1"), "sender_private_key"),
            (request(a, "deadbeef", b, "1"), "sender_private_key"),
            (request(a, &secret, "", "1"), "recipient_address"),
            (request(a, &secret, a, "1"), "recipient_address"),
            (request(a, &secret, b, "abc"), "amount"),
            (request(a, &secret, b, "-5"), "amount"),
            (request(a, &secret, b, "0"), "amount"),
        ];
        for (req, field) in cases {
            let err = sign(req, NonceChoice::Random).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.message.contains(field), "{err}");
            assert!(!err.message.contains(&secret[10..60]));
        }
        let err = sign(
            request(a, &secret, b, "1"),
            NonceChoice::Given("no spaces".into()),
        );
        assert_eq!(err.unwrap_err().field, "nonce");
    }

    #[test]
    fn original_nodes_get_the_message_their_python_prints() {
        let (alice, bob) = (key(), key());
        let secret = alice.to_hex();
        let (a, b) = (alice.address().as_hex(), bob.address().as_hex());
        let sign_as = |choice| sign(request(a, &secret, b, "3"), choice).unwrap();
        let classic = sign_as(NonceChoice::ForOriginalNode(MessageStyle::Classic));
        assert_eq!(classic, sign_as(NonceChoice::Without));
        let new_style = sign_as(NonceChoice::ForOriginalNode(MessageStyle::Python312));
        assert_eq!(new_style.transaction, classic.transaction);
        assert_eq!(new_style.transaction.nonce, None);
        let tx = Transaction::sign(&alice, bob.address(), "3", None).unwrap();
        for (signed, style) in [
            (&classic, MessageStyle::Classic),
            (&new_style, MessageStyle::Python312),
        ] {
            let message = tx.message(style);
            let signature = hex::decode(&signed.signature).unwrap();
            assert!(alice.address().verifies(message.as_bytes(), &signature));
        }
        assert_ne!(classic.signature, new_style.signature);
    }

    #[test]
    fn the_sender_may_be_left_out() {
        let (alice, bob) = (key(), key());
        let secret = alice.to_hex();
        let signed = sign(
            SignRequest {
                sender: None,
                private_key: &secret,
                recipient: bob.address().as_hex(),
                amount: "1",
            },
            NonceChoice::Without,
        )
        .unwrap();
        assert_eq!(signed.transaction.sender_address, alice.address().as_hex());
        assert_eq!(signed.transaction.nonce, None);
        let fields = signed.form_fields();
        assert_eq!(fields.len(), 4);
        assert_eq!(fields[2], ("amount", "1"));
    }
}
