//! `POST /faucet`: coins for a student's wallet without the operator.
//!
//! ```text
//!  address (form or JSON) ─► parsed (400) ─► faucet on? (403) ─► this address or this
//!  client paid within the window? (429, Retry-After) ─► Node::pay_from_own_wallet ─► 201
//!                                                       └─ the node's wallet is short: 503
//! ```
//!
//! The node pays from its own wallet with a signed transaction, so the coins arrive with
//! the next block like any payment, and the explorer shows who paid. Who was paid when is
//! kept in memory only: a restart forgets it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use blockchain_api::{ErrorBody, FaucetPaid, FaucetRequest};

use super::AppState;
use super::error::ApiError;
use super::fields::Fields;
use crate::node::FaucetError;

/// The most addresses and clients remembered at once; past it the oldest are forgotten
/// first (they are the nearest to the end of their window anyway).
const MAX_REMEMBERED: usize = 100_000;

/// Who the faucet paid lately: each address and each client address once per window.
pub struct FaucetLimits {
    window: Duration,
    paid: Mutex<Paid>,
}

#[derive(Default)]
struct Paid {
    addresses: HashMap<String, Instant>,
    clients: HashMap<IpAddr, Instant>,
}

/// Why a request must wait: which of the two limits, and for how long.
#[derive(Debug, PartialEq, Eq)]
pub struct TooSoon {
    pub what: &'static str,
    pub wait: Duration,
}

impl FaucetLimits {
    pub fn new(window: Duration) -> Self {
        FaucetLimits {
            window,
            paid: Mutex::new(Paid::default()),
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Claims the window for `address` and `client`, or says which was paid too lately.
    /// A claim whose payment fails is given back with [`FaucetLimits::release`].
    ///
    /// # Errors
    /// [`TooSoon`]: the address or the client was paid within the window.
    pub fn claim(
        &self,
        address: &str,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), TooSoon> {
        let mut paid = self
            .paid
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = self.window;
        paid.addresses
            .retain(|_, at| now.duration_since(*at) < window);
        paid.clients
            .retain(|_, at| now.duration_since(*at) < window);
        let wait = |at: &Instant| window.saturating_sub(now.duration_since(*at));
        if let Some(at) = paid.addresses.get(address) {
            return Err(TooSoon {
                what: "this address",
                wait: wait(at),
            });
        }
        if let Some(at) = client.and_then(|c| paid.clients.get(&c)) {
            return Err(TooSoon {
                what: "this client",
                wait: wait(at),
            });
        }
        if paid.addresses.len() >= MAX_REMEMBERED {
            forget_oldest(&mut paid.addresses);
        }
        if paid.clients.len() >= MAX_REMEMBERED {
            forget_oldest(&mut paid.clients);
        }
        paid.addresses.insert(address.to_owned(), now);
        if let Some(client) = client {
            paid.clients.insert(client, now);
        }
        Ok(())
    }

    /// Gives back a claim whose payment did not happen.
    pub fn release(&self, address: &str, client: Option<IpAddr>) {
        let mut paid = self
            .paid
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        paid.addresses.remove(address);
        if let Some(client) = client {
            paid.clients.remove(&client);
        }
    }
}

fn forget_oldest<K: Clone + Eq + std::hash::Hash>(map: &mut HashMap<K, Instant>) {
    if let Some(oldest) = map
        .iter()
        .min_by_key(|(_, at)| **at)
        .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

/// `POST /faucet`: pays the faucet's amount from the node's own wallet to `address`, at
/// most once per address and once per client address in the window (`--faucet-window`).
#[utoipa::path(post, path = "/faucet", tag = "faucet",
    request_body(content(
        (FaucetRequest = "application/x-www-form-urlencoded"),
        (FaucetRequest = "multipart/form-data"),
        (FaucetRequest = "application/json"),
    )),
    responses(
        (status = 201, description = "Paid: the payment is in the pool and arrives with the next block", body = FaucetPaid),
        (status = 400, description = "A missing or malformed address, or the node's own wallet", body = ErrorBody),
        (status = 403, description = "The operator turned the faucet off", body = ErrorBody),
        (status = 406, description = "The payment broke a rule (the recipient's balance would pass the most there can be)", body = ErrorBody),
        (status = 415, description = "Neither a form nor JSON", body = ErrorBody),
        (status = 429, description = "This address or this client was paid within the window (Retry-After says when to ask again), or the node's wallet holds its whole share of the pool", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The disk failed", body = ErrorBody),
        (status = 503, description = "The faucet is empty (the node's wallet holds less than it pays) or the pool is full", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait"))),
    ))]
pub async fn faucet(State(app): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let fields = Fields::from_request(request, &()).await?;
    let hex = fields.require("address")?;
    let address = app.address(hex, "address")?;
    if address == app.node.wallet {
        return Err(ApiError::BadRequest(
            "address: that is this node's own wallet, which the faucet pays from".into(),
        ));
    }
    let Some(amount) = app.node.settings().faucet() else {
        return Err(ApiError::Forbidden(
            "the faucet is off on this node (its operator set faucet_enabled to false or faucet_amount to 0)".into(),
        ));
    };
    let limits = &app.faucet;
    if let Err(too_soon) = limits.claim(address.as_hex(), client, Instant::now()) {
        return Ok(too_soon_answer(&too_soon, limits.window()));
    }
    match app.node.pay_from_own_wallet(&address, amount).await {
        Ok((tx, block_index)) => {
            tracing::info!(to = %address.short(), %amount, "the faucet paid");
            let body = FaucetPaid {
                address: address.as_hex().to_owned(),
                amount,
                block_index,
                message: format!(
                    "The faucet sent {amount} {}; the payment arrives with block {block_index}",
                    if amount.to_string() == "1" {
                        "coin"
                    } else {
                        "coins"
                    }
                ),
                next_in_s: limits.window().as_secs(),
                sender_address: app.node.wallet.as_hex().to_owned(),
                transaction_id: tx.id(),
            };
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Err(error) => {
            limits.release(address.as_hex(), client);
            Err(match error {
                FaucetError::Empty { .. } => ApiError::Busy(error.to_string()),
                FaucetError::Submit(error) => error.into(),
                FaucetError::Key(reason) => {
                    tracing::error!(%reason, "the faucet cannot sign");
                    ApiError::Storage
                }
            })
        }
    }
}

/// 429 with `Retry-After` and the time the faucet will pay again, in words.
fn too_soon_answer(too_soon: &TooSoon, window: Duration) -> Response {
    let seconds = too_soon.wait.as_secs().max(1);
    // The time of day is enough within a window, and keeps the words short enough for a
    // wallet page to show whole.
    let at = humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(seconds))
        .to_string();
    let at = at.get(11..19).unwrap_or(&at);
    let body = ErrorBody {
        error: format!(
            "the faucet pays {} once every {} s: try again in {seconds} s (at {at} UTC)",
            too_soon.what,
            window.as_secs()
        ),
        field: None,
        message: "Too many requests".to_owned(),
    };
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, seconds.to_string())],
        Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_and_a_client_are_paid_once_per_window() {
        let limits = FaucetLimits::new(Duration::from_secs(600));
        let start = Instant::now();
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert_eq!(limits.claim("a", Some(one), start), Ok(()));
        let later = start + Duration::from_secs(60);
        let again = limits.claim("a", Some(two), later).unwrap_err();
        assert_eq!(
            (again.what, again.wait),
            ("this address", Duration::from_secs(540))
        );
        let same_client = limits.claim("b", Some(one), later).unwrap_err();
        assert_eq!(same_client.what, "this client");
        // Past the window both are paid again.
        assert_eq!(
            limits.claim("a", Some(one), start + Duration::from_secs(600)),
            Ok(())
        );
    }

    #[test]
    fn a_released_claim_may_be_made_again() {
        let limits = FaucetLimits::new(Duration::from_secs(600));
        let now = Instant::now();
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        limits.claim("a", Some(client), now).unwrap();
        limits.release("a", Some(client));
        assert_eq!(limits.claim("a", Some(client), now), Ok(()));
    }
}
