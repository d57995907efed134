//! The signed message, byte for byte as the original Python client builds it.
//!
//! The client signs `str()` of an `OrderedDict`. Python 3.6–3.11 print it as
//! `OrderedDict([('sender_address', '…'), ('recipient_address', '…'), ('value', '…')])`;
//! Python 3.12+ as `OrderedDict({'sender_address': '…', …})`. We sign the first form and
//! accept both. Our client adds a fourth field, `nonce`, in the same style, so that paying
//! the same amount to the same recipient twice gives two different transactions.

use std::fmt;

/// How Python printed the ordered mapping that was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStyle {
    /// Python 3.6 to 3.11: `OrderedDict([('k', 'v'), …])`. The canonical form.
    Classic,
    /// Python 3.12 and later: `OrderedDict({'k': 'v', …})`.
    Python312,
}

/// Builds the message for ordered `(key, value)` fields in `style`.
pub fn ordered_dict(fields: &[(&str, &str)], style: MessageStyle) -> String {
    let mut out = String::with_capacity(
        64 + fields
            .iter()
            .map(|(k, v)| k.len() + v.len() + 8)
            .sum::<usize>(),
    );
    write_ordered_dict(&mut out, fields, style).expect("a String takes any text");
    out
}

/// Writes the message for ordered `(key, value)` fields in `style` to `out`, piece by
/// piece: into a `String`, or straight into a hash function (see [`HashWriter`]) so that
/// hashing a message needs no copy of it.
///
/// # Errors
/// Only those of `out`.
pub fn write_ordered_dict<W: fmt::Write>(
    out: &mut W,
    fields: &[(&str, &str)],
    style: MessageStyle,
) -> fmt::Result {
    out.write_str(match style {
        MessageStyle::Classic => "OrderedDict([",
        MessageStyle::Python312 => "OrderedDict({",
    })?;
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.write_str(", ")?;
        }
        match style {
            MessageStyle::Classic => {
                out.write_char('(')?;
                write_repr(out, key)?;
                out.write_str(", ")?;
                write_repr(out, value)?;
                out.write_char(')')?;
            }
            MessageStyle::Python312 => {
                write_repr(out, key)?;
                out.write_str(": ")?;
                write_repr(out, value)?;
            }
        }
    }
    out.write_str(match style {
        MessageStyle::Classic => "])",
        MessageStyle::Python312 => "})",
    })
}

/// A hash function as a [`fmt::Write`]: text written to it is hashed as UTF-8.
#[derive(Default)]
pub struct HashWriter<D>(pub D);

impl<D: sha2::digest::Update> fmt::Write for HashWriter<D> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.update(text.as_bytes());
        Ok(())
    }
}

/// Python's `repr()` of a `str`.
pub fn python_repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_repr(&mut out, text).expect("a String takes any text");
    out
}

fn write_repr<W: fmt::Write>(out: &mut W, text: &str) -> fmt::Result {
    // Printable ASCII without quotes or backslashes (every address, signature, amount and
    // nonce) is its own repr between single quotes.
    if text
        .bytes()
        .all(|b| (0x20..=0x7e).contains(&b) && b != b'\\' && b != b'\'')
    {
        out.write_char('\'')?;
        out.write_str(text)?;
        return out.write_char('\'');
    }
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.write_char(quote)?;
    for c in text.chars() {
        match c {
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if c == quote => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c if is_python_printable(c) => out.write_char(c)?,
            c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32)?,
            c if (c as u32) < 0x10000 => write!(out, "\\u{:04x}", c as u32)?,
            c => write!(out, "\\U{:08x}", c as u32)?,
        }
    }
    out.write_char(quote)
}

/// Approximates Python's `str.isprintable()`: control characters, separators other than
/// the ASCII space, and unassigned or private-use characters are not printable. Only the
/// ASCII and Latin-1 ranges matter for our fields; beyond them we follow the common cases.
fn is_python_printable(c: char) -> bool {
    let code = c as u32;
    match code {
        0x20..=0x7e => true,
        0..=0x1f | 0x7f..=0xa0 | 0xad => false,
        0x2028 | 0x2029 | 0x1680 | 0x2000..=0x200f | 0x202a..=0x202f | 0x205f..=0x2064 => false,
        0x3000 | 0xfeff | 0xfff9..=0xfffb => false,
        0xd800..=0xf8ff => false,
        _ => !c.is_control(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        assert_eq!(python_repr("abc"), "'abc'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("both ' and \""), "'both \\' and \"'");
        assert_eq!(python_repr("back\\slash"), "'back\\\\slash'");
        assert_eq!(python_repr("a\nb\tc\r"), "'a\\nb\\tc\\r'");
        assert_eq!(python_repr("\u{1}\u{7f}"), "'\\x01\\x7f'");
        assert_eq!(python_repr("é€"), "'é€'");
        assert_eq!(python_repr("\u{2028}"), "'\\u2028'");
        assert_eq!(python_repr("say \"hi\""), "'say \"hi\"'");
        assert_eq!(python_repr(""), "''");
    }

    #[test]
    fn both_python_styles() {
        let fields = [
            ("sender_address", "ab"),
            ("recipient_address", "cd"),
            ("value", "5"),
        ];
        assert_eq!(
            ordered_dict(&fields, MessageStyle::Classic),
            "OrderedDict([('sender_address', 'ab'), ('recipient_address', 'cd'), ('value', '5')])"
        );
        assert_eq!(
            ordered_dict(&fields, MessageStyle::Python312),
            "OrderedDict({'sender_address': 'ab', 'recipient_address': 'cd', 'value': '5'})"
        );
    }

    #[test]
    fn hashing_a_written_message_hashes_its_text() {
        use sha2::{Digest, Sha256};
        let fields = [("sender_address", "it's"), ("value", "5\n")];
        for style in [MessageStyle::Classic, MessageStyle::Python312] {
            let mut hasher = HashWriter(Sha256::new());
            write_ordered_dict(&mut hasher, &fields, style).unwrap();
            assert_eq!(
                hasher.0.finalize(),
                Sha256::digest(ordered_dict(&fields, style).as_bytes())
            );
        }
    }
}
