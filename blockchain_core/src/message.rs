//! The signed message, byte for byte as the original Python client builds it.
//!
//! The client signs `str()` of an `OrderedDict`. Python 3.6–3.11 print it as
//! `OrderedDict([('sender_address', '…'), ('recipient_address', '…'), ('value', '…')])`;
//! Python 3.12+ as `OrderedDict({'sender_address': '…', …})`. We sign the first form and
//! accept both. Our client adds a fourth field, `nonce`, in the same style, so that paying
//! the same amount to the same recipient twice gives two different transactions.

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
    match style {
        MessageStyle::Classic => out.push_str("OrderedDict(["),
        MessageStyle::Python312 => out.push_str("OrderedDict({"),
    }
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match style {
            MessageStyle::Classic => {
                out.push('(');
                push_repr(&mut out, key);
                out.push_str(", ");
                push_repr(&mut out, value);
                out.push(')');
            }
            MessageStyle::Python312 => {
                push_repr(&mut out, key);
                out.push_str(": ");
                push_repr(&mut out, value);
            }
        }
    }
    match style {
        MessageStyle::Classic => out.push_str("])"),
        MessageStyle::Python312 => out.push_str("})"),
    }
    out
}

/// Python's `repr()` of a `str`.
pub fn python_repr(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_repr(&mut out, text);
    out
}

fn push_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_python_printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
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
}
