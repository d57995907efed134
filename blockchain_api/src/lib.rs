//! The node's HTTP contract: one type for each route's request and answer, and their
//! OpenAPI schemas.
//!
//! The node answers with these types, its peer client and the wallet app read with them,
//! and the node's `GET /openapi.json` is derived from them (utoipa), so the three cannot
//! drift apart.
//!
//! ```text
//! blockchain_core (Transaction, Block: the tutorial's wire forms)
//!        │
//! blockchain_api (answers, requests, schemas)  ──►  /openapi.json
//!        │                     │
//! node handlers          peer client, wallet app
//! ```
//!
//! Wire order: answers that the node used to build with `serde_json::json!` had their keys
//! sorted (serde_json without `preserve_order` keeps a `BTreeMap`), as the original
//! tutorial's Flask `jsonify` sorts them. Their fields are declared here in that order, and
//! transactions inside them are written with sorted keys ([`SortedKeys`]), so the bytes
//! on the wire stay as they were. `/chain`, `/history` and blocks keep core's own order.

pub mod answers;
pub mod events;
pub mod faucet;
pub mod proofs;
pub mod requests;
pub mod schemas;
pub mod tree;

pub use answers::*;
pub use events::*;
pub use faucet::*;
pub use proofs::*;
pub use requests::*;
pub use tree::*;
