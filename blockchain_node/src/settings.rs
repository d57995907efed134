//! Run-time settings: what the operator changes on the Configure page or through
//! `/settings`, kept in the database so a restart finds them.
//!
//! ```text
//! stored settings (or defaults) ──► flags given on the command line win ──► Node
//!   POST /settings {"mining_threads": 1} ──► SettingsPatch::parse ──► Settings::apply
//!                                            (every field named on error; all or nothing)
//! ```
//!
//! Network parameters (reward, network difficulty, allocations) are not settings: they
//! name the network and live in the genesis block. The one consensus-related setting, the
//! difficulty this node mines at, may only be raised above the network's: a harder block
//! carries more work, so it wins a tie between two blocks at the same height.

use blockchain_core::{Address, Amount, Difficulty};
use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

/// Longest block interval accepted, in seconds (one day).
pub const MAX_BLOCK_INTERVAL: f64 = 86_400.0;
/// Hardest difficulty this node will mine at: 2^40 tries, hours on a laptop. Anything
/// harder would leave a Mine click running for days.
pub const MAX_MINING_DIFFICULTY: u32 = 40;

/// What the node does, as the operator set it.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Mine in the background whenever the pool holds transactions.
    pub background_mining: bool,
    /// The fewest seconds between two background blocks.
    pub block_interval: f64,
    /// Where rewards go; `None` is the node's own wallet.
    pub reward_address: Option<Address>,
    pub mining_threads: usize,
    /// The difficulty of the blocks this node mines: at least the network's.
    pub mining_difficulty: Difficulty,
    /// What `POST /faucet` pays an address from the node's wallet; zero turns it off.
    pub faucet_amount: Amount,
    /// The faucet's switch, besides its amount.
    pub faucet_enabled: bool,
}

/// The faucet's amount until the operator sets one: a block reward at the default.
pub const DEFAULT_FAUCET_AMOUNT: &str = "1";

/// A setting that cannot be applied, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct SettingError {
    pub field: &'static str,
    pub message: String,
}

impl SettingError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        SettingError {
            field,
            message: message.into(),
        }
    }
}

/// Limits that depend on the machine and the network.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_threads: usize,
    pub network_difficulty: Difficulty,
}

/// A change to some settings. `reward_address: Some(None)` means "back to the node's own
/// wallet".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsPatch {
    pub background_mining: Option<bool>,
    pub block_interval: Option<f64>,
    pub reward_address: Option<Option<Address>>,
    pub mining_threads: Option<usize>,
    pub mining_difficulty: Option<u32>,
    pub faucet_amount: Option<Amount>,
    pub faucet_enabled: Option<bool>,
}

impl Settings {
    /// The settings of a node nobody has configured yet.
    pub fn defaults(limits: Limits) -> Self {
        Settings {
            background_mining: false,
            block_interval: 5.0,
            reward_address: None,
            mining_threads: limits.max_threads,
            mining_difficulty: limits.network_difficulty,
            faucet_amount: Amount::parse_decimal(DEFAULT_FAUCET_AMOUNT).expect("valid"),
            faucet_enabled: true,
        }
    }

    /// What the faucet pays, or `None` when it is off (switched off, or an amount of 0).
    pub fn faucet(&self) -> Option<Amount> {
        (self.faucet_enabled && self.faucet_amount.units() > 0).then_some(self.faucet_amount)
    }

    /// Applies `patch`, checking every field against `limits`; on any error nothing changes.
    ///
    /// # Errors
    /// The first field out of range, named.
    pub fn apply(&self, patch: &SettingsPatch, limits: Limits) -> Result<Settings, SettingError> {
        let mut next = self.clone();
        if let Some(on) = patch.background_mining {
            next.background_mining = on;
        }
        if let Some(seconds) = patch.block_interval {
            if !(0.0..=MAX_BLOCK_INTERVAL).contains(&seconds) {
                return Err(SettingError::new(
                    "block_interval",
                    format!("must be 0 to {MAX_BLOCK_INTERVAL} seconds, not {seconds}"),
                ));
            }
            next.block_interval = seconds;
        }
        if let Some(address) = &patch.reward_address {
            next.reward_address = address.clone();
        }
        if let Some(threads) = patch.mining_threads {
            if !(1..=limits.max_threads).contains(&threads) {
                return Err(SettingError::new(
                    "mining_threads",
                    format!(
                        "must be 1 to {} (this machine's cores), not {threads}",
                        limits.max_threads
                    ),
                ));
            }
            next.mining_threads = threads;
        }
        if let Some(bits) = patch.mining_difficulty {
            let min = limits.network_difficulty.bits();
            if !(min..=MAX_MINING_DIFFICULTY.max(min)).contains(&bits) {
                return Err(SettingError::new(
                    "mining_difficulty",
                    format!(
                        "must be {min} (the network's difficulty) to {} bits, not {bits}",
                        MAX_MINING_DIFFICULTY.max(min)
                    ),
                ));
            }
            next.mining_difficulty = Difficulty::new(bits)
                .map_err(|e| SettingError::new("mining_difficulty", e.to_string()))?;
        }
        if let Some(amount) = patch.faucet_amount {
            next.faucet_amount = amount;
        }
        if let Some(on) = patch.faucet_enabled {
            next.faucet_enabled = on;
        }
        Ok(next)
    }

    /// The stored and served form.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(SettingsJson {
            background_mining: self.background_mining,
            block_interval: self.block_interval,
            reward_address: self.reward_address.as_ref().map(Address::as_hex),
            mining_threads: self.mining_threads,
            mining_difficulty: self.mining_difficulty.bits(),
            faucet_amount: self.faucet_amount.to_string(),
            faucet_enabled: self.faucet_enabled,
        })
        .expect("settings serialize")
    }

    /// Reads what [`Settings::to_json`] wrote, re-checked against today's limits (the
    /// machine may have fewer cores now): a field that no longer fits falls back to its
    /// default, the others stay.
    pub fn from_stored(json: &[u8], limits: Limits) -> Settings {
        let mut settings = Settings::defaults(limits);
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(json) else {
            return settings;
        };
        for (name, value) in fields {
            let one = Value::Object(Map::from_iter([(name, value)]));
            if let Some(next) = SettingsPatch::parse(&one)
                .ok()
                .and_then(|patch| settings.apply(&patch, limits).ok())
            {
                settings = next;
            }
        }
        settings
    }
}

#[derive(Serialize)]
struct SettingsJson<'a> {
    background_mining: bool,
    block_interval: f64,
    reward_address: Option<&'a str>,
    mining_threads: usize,
    mining_difficulty: u32,
    faucet_amount: String,
    faucet_enabled: bool,
}

impl SettingsPatch {
    /// Parses a JSON object of settings. Numbers and booleans may also come as strings
    /// (as an HTML form sends them); unknown names are refused so a typo is not ignored.
    ///
    /// # Errors
    /// The first field that is unknown or of the wrong kind, named.
    pub fn parse(value: &Value) -> Result<SettingsPatch, SettingError> {
        let Value::Object(map) = value else {
            return Err(SettingError::new(
                "body",
                "settings are a JSON object, for example {\"mining_threads\": 1}",
            ));
        };
        let mut patch = SettingsPatch::default();
        for (name, value) in map {
            match name.as_str() {
                "background_mining" => {
                    patch.background_mining = Some(boolean("background_mining", value)?);
                }
                "block_interval" => {
                    patch.block_interval = Some(number("block_interval", value)?);
                }
                "reward_address" => {
                    patch.reward_address = Some(reward_address(value)?);
                }
                "mining_threads" => {
                    patch.mining_threads = Some(whole("mining_threads", value)?);
                }
                "mining_difficulty" => {
                    let bits = whole("mining_difficulty", value)?;
                    patch.mining_difficulty = Some(u32::try_from(bits).unwrap_or(u32::MAX));
                }
                "faucet_amount" => patch.faucet_amount = Some(faucet_amount(value)?),
                "faucet_enabled" => {
                    patch.faucet_enabled = Some(boolean("faucet_enabled", value)?);
                }
                other => {
                    return Err(SettingError {
                        field: "body",
                        message: format!(
                            "unknown setting {:?}; the settings are {}",
                            other.chars().take(40).collect::<String>(),
                            NAMES.join(", ")
                        ),
                    });
                }
            }
        }
        Ok(patch)
    }

    pub fn is_empty(&self) -> bool {
        *self == SettingsPatch::default()
    }
}

const NAMES: [&str; 7] = [
    "background_mining",
    "block_interval",
    "reward_address",
    "mining_threads",
    "mining_difficulty",
    "faucet_amount",
    "faucet_enabled",
];

/// A faucet amount in coins, as text or a number; 0 turns the faucet off.
fn faucet_amount(value: &Value) -> Result<Amount, SettingError> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    Amount::parse_decimal(&text).map_err(|e| {
        SettingError::new(
            "faucet_amount",
            format!("must be coins as a plain decimal, 0 for off ({e})"),
        )
    })
}

fn boolean(field: &'static str, value: &Value) -> Result<bool, SettingError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if matches!(s.as_str(), "true" | "on" | "1" | "yes") => Ok(true),
        Value::String(s) if matches!(s.as_str(), "false" | "off" | "0" | "no") => Ok(false),
        _ => Err(SettingError::new(field, "must be true or false")),
    }
}

fn number(field: &'static str, value: &Value) -> Result<f64, SettingError> {
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    parsed
        .filter(|n| n.is_finite())
        .ok_or_else(|| SettingError::new(field, "must be a number of seconds"))
}

fn whole(field: &'static str, value: &Value) -> Result<usize, SettingError> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    parsed
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .ok_or_else(|| SettingError::new(field, "must be a whole number"))
}

fn reward_address(value: &Value) -> Result<Option<Address>, SettingError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Address::parse_field(s.trim(), "reward_address")
            .map(Some)
            .map_err(|e| SettingError::new("reward_address", e.to_string())),
        _ => Err(SettingError::new(
            "reward_address",
            "must be a public key in hex, or empty for this node's wallet",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits {
            max_threads: 4,
            network_difficulty: Difficulty::new(14).unwrap(),
        }
    }

    #[test]
    fn a_patch_applies_all_or_nothing_and_names_the_field_out_of_range() {
        let settings = Settings::defaults(limits());
        let patch =
            SettingsPatch::parse(&json!({"mining_threads": 2, "block_interval": "0.5"})).unwrap();
        let next = settings.apply(&patch, limits()).unwrap();
        assert_eq!((next.mining_threads, next.block_interval), (2, 0.5));

        for (body, field) in [
            (json!({"mining_threads": 0}), "mining_threads"),
            (json!({"mining_threads": 5}), "mining_threads"),
            (json!({"mining_difficulty": 13}), "mining_difficulty"),
            (json!({"mining_difficulty": 41}), "mining_difficulty"),
            (json!({"block_interval": -1}), "block_interval"),
        ] {
            let patch = SettingsPatch::parse(&body).unwrap();
            let error = settings.apply(&patch, limits()).unwrap_err();
            assert_eq!(error.field, field, "{body}");
        }
        let both =
            SettingsPatch::parse(&json!({"background_mining": true, "mining_threads": 9})).unwrap();
        assert!(settings.apply(&both, limits()).is_err());
    }

    #[test]
    fn parsing_names_unknown_and_mistyped_fields() {
        let cases = [
            (json!({"threads": 1}), "body"),
            (json!({"mining_threads": "two"}), "mining_threads"),
            (json!({"background_mining": "maybe"}), "background_mining"),
            (json!({"block_interval": "NaN"}), "block_interval"),
            (json!({"reward_address": "xyz"}), "reward_address"),
            (json!([1]), "body"),
        ];
        for (body, field) in cases {
            assert_eq!(
                SettingsPatch::parse(&body).unwrap_err().field,
                field,
                "{body}"
            );
        }
        let back_to_wallet = SettingsPatch::parse(&json!({"reward_address": ""})).unwrap();
        assert_eq!(back_to_wallet.reward_address, Some(None));
    }

    #[test]
    fn stored_settings_round_trip_and_fall_back_field_by_field() {
        let mut settings = Settings::defaults(limits());
        settings.background_mining = true;
        settings.mining_threads = 3;
        settings.mining_difficulty = Difficulty::new(16).unwrap();
        let stored = serde_json::to_vec(&settings.to_json()).unwrap();
        assert_eq!(Settings::from_stored(&stored, limits()), settings);

        // On a machine with fewer cores the thread count falls back; the rest stays.
        let smaller = Limits {
            max_threads: 2,
            ..limits()
        };
        let restored = Settings::from_stored(&stored, smaller);
        assert_eq!(restored.mining_threads, 2);
        assert!(restored.background_mining);
        assert_eq!(restored.mining_difficulty.bits(), 16);
        assert_eq!(
            Settings::from_stored(b"not json", limits()),
            Settings::defaults(limits())
        );
    }
}
