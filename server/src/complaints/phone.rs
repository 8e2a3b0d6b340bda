//! Mainland China mobile numbers (手机号) for callbacks.

/// An 11-digit mainland mobile number `1[3-9]xxxxxxxxx`, normalised (no `+86`, no separators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilePhone(String);

impl MobilePhone {
    /// Parse a number as people type it: spaces and dashes ignored, an optional `+86`/`86`/`0086`
    /// prefix. `None` unless what remains is `1[3-9]` followed by nine digits.
    pub fn parse(input: &str) -> Option<MobilePhone> {
        let digits: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let rest = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| {
                (digits.len() == 13)
                    .then(|| digits.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&digits);
        let b = rest.as_bytes();
        let ok = b.len() == 11
            && b.iter().all(u8::is_ascii_digit)
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1]);
        ok.then(|| MobilePhone(rest.to_string()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_numbers() {
        for n in [
            "13812345678",
            "+86 138 1234 5678",
            "8613812345678",
            "0086-19912345678",
            "138-1234-5678",
        ] {
            assert!(MobilePhone::parse(n).is_some(), "{n}");
        }
        assert_eq!(
            MobilePhone::parse("+8613812345678").unwrap().as_str(),
            "13812345678"
        );
    }

    #[test]
    fn invalid_numbers() {
        for n in [
            "",
            "12345",
            "12812345678",
            "1381234567",
            "138123456789",
            "abcdefghijk",
            "010-12345678",
            "１３８１２３４５６７８",
        ] {
            assert!(MobilePhone::parse(n).is_none(), "{n}");
        }
    }
}
