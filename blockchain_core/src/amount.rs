//! Exact fixed-point amounts.
//!
//! An amount is a whole number of base units, 10⁻⁸ of a coin (as satoshis are of a bitcoin),
//! so sums and balances are exact. Floats never appear: the user's text is parsed digit by
//! digit, and the original text is kept next to the amount wherever it was signed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Decimal places of a coin.
pub const DECIMALS: u32 = 8;
/// Base units in one coin.
pub const UNITS_PER_COIN: u64 = 10u64.pow(DECIMALS);
/// The largest amount any single value or balance may hold: one billion coins.
pub const MAX_COINS: u64 = 1_000_000_000;

/// A positive or zero number of base units, at most [`Amount::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("no amount given")]
    Empty,
    #[error(
        "{0:?} is not a plain decimal number (digits, optionally a point and up to 8 decimals)"
    )]
    NotDecimal(String),
    #[error("{0:?} has more than 8 decimal places")]
    TooPrecise(String),
    #[error("{0:?} is larger than the maximum of {MAX_COINS} coins")]
    TooLarge(String),
    #[error("the amount must be greater than zero")]
    Zero,
}

impl Amount {
    pub const ZERO: Amount = Amount(0);
    pub const MAX: Amount = Amount(MAX_COINS * UNITS_PER_COIN);

    /// Makes an amount from base units.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] above [`Amount::MAX`].
    pub fn from_units(units: u64) -> Result<Self, AmountError> {
        if units > Self::MAX.0 {
            return Err(AmountError::TooLarge(units.to_string()));
        }
        Ok(Amount(units))
    }

    /// Makes an amount of whole coins.
    ///
    /// # Errors
    /// [`AmountError::TooLarge`] above [`Amount::MAX`].
    pub fn from_coins(coins: u64) -> Result<Self, AmountError> {
        coins
            .checked_mul(UNITS_PER_COIN)
            .ok_or_else(|| AmountError::TooLarge(coins.to_string()))
            .and_then(Self::from_units)
    }

    /// The amount in base units.
    pub fn units(self) -> u64 {
        self.0
    }

    /// Parses a value to transfer: a plain decimal greater than zero.
    ///
    /// Accepted: `5`, `0.25`, `12.50000000`. Refused, each with its reason: ``, ` 5`,
    /// `+5`, `-5`, `0`, `abc`, `1e3`, `0x10`, `NaN`, `inf`, `.5`, `5.`, more than eight
    /// decimals, more than [`MAX_COINS`].
    ///
    /// # Errors
    /// The [`AmountError`] that names the problem.
    pub fn parse_value(text: &str) -> Result<Self, AmountError> {
        let amount = Self::parse_decimal(text)?;
        if amount.0 == 0 {
            return Err(AmountError::Zero);
        }
        Ok(amount)
    }

    /// Parses a plain decimal that may be zero (balances, configuration).
    ///
    /// # Errors
    /// As [`Amount::parse_value`], except that zero is accepted.
    pub fn parse_decimal(text: &str) -> Result<Self, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        let not_decimal = || AmountError::NotDecimal(clip(text));
        let (whole, fraction) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(not_decimal());
        }
        let fraction = fraction.unwrap_or("");
        if fraction.len() > DECIMALS as usize {
            return Err(AmountError::TooPrecise(clip(text)));
        }
        let too_large = || AmountError::TooLarge(clip(text));
        let whole_digits = whole.trim_start_matches('0');
        if whole_digits.len() > 10 {
            return Err(too_large());
        }
        let coins: u64 = if whole_digits.is_empty() {
            0
        } else {
            whole_digits.parse().map_err(|_| too_large())?
        };
        let mut units = 0u64;
        for i in 0..DECIMALS as usize {
            let digit = fraction
                .as_bytes()
                .get(i)
                .map_or(0, |b| u64::from(b - b'0'));
            units = units * 10 + digit;
        }
        let total = coins
            .checked_mul(UNITS_PER_COIN)
            .and_then(|c| c.checked_add(units))
            .ok_or_else(too_large)?;
        Self::from_units(total).map_err(|_| too_large())
    }

    /// Adds, or `None` past [`Amount::MAX`].
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0
            .checked_add(other.0)
            .filter(|&u| u <= Self::MAX.0)
            .map(Amount)
    }

    /// Subtracts, or `None` below zero.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }
}

/// Keeps error messages short when someone posts a megabyte as an amount.
fn clip(text: &str) -> String {
    const MAX: usize = 40;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl fmt::Display for Amount {
    /// Writes the shortest exact decimal: `5`, `0.25`, `12.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / UNITS_PER_COIN;
        let fraction = self.0 % UNITS_PER_COIN;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:08}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_decimal(s)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_decimal(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_decimals() {
        assert_eq!(Amount::parse_value("5").unwrap().units(), 500_000_000);
        assert_eq!(Amount::parse_value("0.25").unwrap().units(), 25_000_000);
        assert_eq!(Amount::parse_value("12.5").unwrap().units(), 1_250_000_000);
        assert_eq!(Amount::parse_value("0.00000001").unwrap().units(), 1);
        assert_eq!(Amount::parse_value("1000000000").unwrap(), Amount::MAX);
    }

    #[test]
    fn refuses_each_bad_form_with_its_reason() {
        use AmountError::*;
        type Expect = fn(&AmountError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("", |e| matches!(e, Empty)),
            ("abc", |e| matches!(e, NotDecimal(_))),
            ("-5", |e| matches!(e, NotDecimal(_))),
            ("+5", |e| matches!(e, NotDecimal(_))),
            (" 5", |e| matches!(e, NotDecimal(_))),
            ("5 ", |e| matches!(e, NotDecimal(_))),
            ("1e3", |e| matches!(e, NotDecimal(_))),
            ("0x10", |e| matches!(e, NotDecimal(_))),
            ("NaN", |e| matches!(e, NotDecimal(_))),
            ("inf", |e| matches!(e, NotDecimal(_))),
            (".5", |e| matches!(e, NotDecimal(_))),
            ("5.", |e| matches!(e, NotDecimal(_))),
            ("1.2.3", |e| matches!(e, NotDecimal(_))),
            ("٣", |e| matches!(e, NotDecimal(_))),
            ("0", |e| matches!(e, Zero)),
            ("0.00000000", |e| matches!(e, Zero)),
            ("5.123456789", |e| matches!(e, TooPrecise(_))),
            ("1000000000.00000001", |e| matches!(e, TooLarge(_))),
            ("18446744073709551616", |e| matches!(e, TooLarge(_))),
            ("99999999999999999999999999999", |e| {
                matches!(e, TooLarge(_))
            }),
        ];
        for (text, expected) in cases {
            let err = Amount::parse_value(text).expect_err(text);
            assert!(expected(&err), "{text:?} gave {err:?}");
        }
    }

    #[test]
    fn error_messages_stay_short_for_huge_input() {
        let huge = "9".repeat(1 << 20);
        let message = Amount::parse_value(&huge).unwrap_err().to_string();
        assert!(message.len() < 200, "{}", message.len());
    }

    #[test]
    fn displays_shortest_exact_form() {
        for text in ["5", "0.25", "12.5", "0.00000001", "1000000000"] {
            assert_eq!(Amount::parse_value(text).unwrap().to_string(), text);
        }
        assert_eq!(Amount::parse_value("12.50").unwrap().to_string(), "12.5");
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(units in 0u64..=Amount::MAX.units()) {
            let amount = Amount::from_units(units).unwrap();
            prop_assert_eq!(Amount::parse_decimal(&amount.to_string()).unwrap(), amount);
        }

        #[test]
        fn parse_then_display_round_trips(whole in 0u64..MAX_COINS, fraction in 0u64..UNITS_PER_COIN) {
            let text = Amount::from_units(whole * UNITS_PER_COIN + fraction).unwrap().to_string();
            let amount = Amount::parse_decimal(&text).unwrap();
            prop_assert_eq!(amount.units(), whole * UNITS_PER_COIN + fraction);
            prop_assert_eq!(amount.to_string(), text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = Amount::parse_value(&text);
        }
    }
}
