//! Tracking codes (查询码): the resident's secret key to a complaint. 60 random bits written as
//! 12 Crockford base32 characters in three groups (`K7Q4-9XM2-H3TA`): easy to read out on the
//! phone, impossible to guess.

use rand::RngCore;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Number of symbols in a code (12 × 5 = 60 random bits).
pub const CODE_LEN: usize = 12;

/// A tracking code in canonical form: 12 upper-case Crockford symbols, no separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingCode(String);

impl TrackingCode {
    /// A fresh code from the operating system's random generator.
    pub fn generate() -> TrackingCode {
        let mut bits = rand::rng().next_u64() & ((1u64 << 60) - 1);
        let mut out = [0u8; CODE_LEN];
        for slot in out.iter_mut().rev() {
            *slot = ALPHABET[(bits & 31) as usize];
            bits >>= 5;
        }
        // The alphabet is ASCII, so this cannot fail; keep the fallback total anyway.
        TrackingCode(String::from_utf8_lossy(&out).into_owned())
    }

    /// Parse what a person typed: case-insensitive, `-` and spaces ignored, `O`→`0`,
    /// `I`/`L`→`1`. `None` when it is not 12 valid symbols.
    pub fn parse(input: &str) -> Option<TrackingCode> {
        let mut out = String::with_capacity(CODE_LEN);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' | '\u{3000}' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return None;
            }
            out.push(c);
            if out.len() > CODE_LEN {
                return None;
            }
        }
        (out.len() == CODE_LEN).then_some(TrackingCode(out))
    }

    /// Canonical form (what the database stores).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Display form with dashes: `K7Q4-9XM2-H3TA`.
    pub fn display(&self) -> String {
        format!("{}-{}-{}", &self.0[0..4], &self.0[4..8], &self.0[8..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_round_trip_and_differ() {
        let a = TrackingCode::generate();
        let b = TrackingCode::generate();
        assert_ne!(a, b);
        assert_eq!(TrackingCode::parse(&a.display()), Some(a.clone()));
        assert_eq!(a.display().len(), 14);
    }

    #[test]
    fn lenient_input() {
        let c = TrackingCode::parse("k7q4-9xm2-h3ta").unwrap();
        assert_eq!(c.as_str(), "K7Q49XM2H3TA");
        assert_eq!(TrackingCode::parse("K7Q4 9XM2 H3TA"), Some(c));
        assert_eq!(
            TrackingCode::parse("OIL0-0000-0000").unwrap().as_str(),
            "011000000000"
        );
    }

    #[test]
    fn bad_input() {
        assert_eq!(TrackingCode::parse(""), None);
        assert_eq!(TrackingCode::parse("K7Q4-9XM2-H3T"), None);
        assert_eq!(TrackingCode::parse("K7Q4-9XM2-H3TAA"), None);
        assert_eq!(TrackingCode::parse("K7Q4-9XM2-H3TU"), None);
        assert_eq!(TrackingCode::parse("查询码查询码查询码查询码"), None);
    }
}
