//! The wallet client: a web app on :8080 and a command line, both on the core crate.
//!
//! ```text
//!  browser ──form──▶ http (pages, /wallet/new, /generate/transaction)
//!     │                   │  signing: fields → core types → signed transaction (key forgotten)
//!     │                   ▼
//!     │              JSON {"transaction", "signature"}
//!     └──form POST──▶ node /transactions/new   (the browser submits, as the original does)
//!
//!  browser ──▶ http /api/chain, /api/wallet ──node──▶ node /chain, /balance, /transactions/get
//! ```
//!
//! The command line ([`cli`]) shares [`signing`] and [`node`] with the web app. Private keys
//! are parsed, used to sign and dropped: never logged, never stored.

pub mod cli;
pub mod history;
pub mod http;
pub mod node;
pub mod proof;
pub mod signing;

pub use http::{AppState, router};
