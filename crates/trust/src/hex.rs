//! Strict lowercase hexadecimal: every byte string has exactly one accepted spelling.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0x0f) as usize] as char);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("odd number of hex digits ({0})")]
    OddLength(usize),
    #[error("character {found:?} at position {position} is not a lowercase hex digit")]
    BadDigit { position: usize, found: char },
    #[error("expected {expected} bytes, found {found}")]
    Length { expected: usize, found: usize },
}

fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decodes lowercase hex; uppercase digits, whitespace, prefixes and odd lengths are errors.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(HexError::OddLength(b.len()));
    }
    let bad = |position: usize| HexError::BadDigit {
        position,
        found: s
            .get(position..)
            .and_then(|r| r.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    };
    let mut out = Vec::with_capacity(b.len() / 2);
    for (i, pair) in b.chunks_exact(2).enumerate() {
        let hi = digit(pair[0]).ok_or_else(|| bad(2 * i))?;
        let lo = digit(pair[1]).ok_or_else(|| bad(2 * i + 1))?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

/// Decodes lowercase hex of exactly `N` bytes.
pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    let v = decode(s)?;
    let found = v.len();
    v.try_into()
        .map_err(|_| HexError::Length { expected: N, found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode("00abff").unwrap(), vec![0x00, 0xab, 0xff]);
        assert!(decode("00ABff").is_err());
        assert!(decode("0").is_err());
        assert!(decode(" 0").is_err());
        assert!(decode("0g").is_err());
        assert!(decode("é0").is_err());
        assert!(decode("0é0").is_err());
        assert_eq!(decode_array::<2>("0102").unwrap(), [1, 2]);
        assert!(decode_array::<2>("010203").is_err());
    }
}
