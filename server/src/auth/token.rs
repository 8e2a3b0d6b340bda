//! Access tokens (JWT, HS256 pinned, about 15 minutes, `exp`/`iss`/`aud` checked) and opaque
//! refresh tokens (random, stored only as SHA-256, rotated on every use).

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lifetime of an access token, in seconds.
pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
/// Lifetime of a refresh token from its issue, in milliseconds (60 days: a device offline for
/// weeks still refreshes quietly; each use issues a new one).
pub const REFRESH_TTL_MS: i64 = 60 * 24 * 3600 * 1000;

/// Clock skew tolerated on `exp` and `iat`, in seconds (several processes share one database,
/// each with its own system clock).
pub const LEEWAY_SECONDS: i64 = 5;

const ISSUER: &str = "anju";
const AUDIENCE: &str = "anju-api";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Issuer, always `anju`.
    pub iss: String,
    /// Audience, always `anju-api`.
    pub aud: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// The user's token version when issued; a password change or disable bumps it.
    pub tv: i32,
    /// The device the token was issued to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
}

/// Signing and verification keys with the validation rules pinned.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    /// Keys from a secret (at least 32 bytes).
    pub fn new(secret: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // `exp` and `iat` are checked in `verify` against the server's own clock, the one
        // tokens are issued with; jsonwebtoken would compare them with the system time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed access token for `user_id`, valid for [`ACCESS_TTL_SECONDS`] from `now_ms`.
    pub fn issue(
        &self,
        user_id: &str,
        token_version: i32,
        device_id: Option<&str>,
        now_ms: i64,
    ) -> Result<String, anyhow::Error> {
        let iat = now_ms / 1000;
        let claims = Claims {
            sub: user_id.to_string(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            exp: iat + ACCESS_TTL_SECONDS,
            iat,
            tv: token_version,
            did: device_id.map(str::to_string),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| anyhow::anyhow!("jwt encode: {e}"))
    }

    /// The claims of a valid token at `now_ms` (the same server clock tokens are issued on);
    /// `None` for anything tampered, expired, issued in the future beyond [`LEEWAY_SECONDS`],
    /// of another algorithm (including `none`), issuer or audience.
    pub fn verify(&self, token: &str, now_ms: i64) -> Option<Claims> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let now = now_ms.div_euclid(1000);
        let expired = claims.exp + LEEWAY_SECONDS < now;
        let from_the_future = claims.iat > now + LEEWAY_SECONDS;
        (!expired && !from_the_future).then_some(claims)
    }
}

/// A new opaque refresh token (256 random bits, base64url).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How a secret token is stored: hex SHA-256.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random secret for signing (256 bits, base64url).
pub fn new_secret() -> String {
    new_refresh_token()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_tampered_ones_do_not() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let now = jiff::Timestamp::now().as_millisecond();
        let t = keys.issue("u1", 3, Some("d1"), now).unwrap();
        let c = keys.verify(&t, now).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.tv, c.did.as_deref()),
            ("u1", 3, Some("d1"))
        );
        let mut tampered = t.clone();
        tampered.pop();
        tampered.push(if t.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify(&tampered, now).is_none());
        assert!(JwtKeys::new(&[8u8; 32]).verify(&t, now).is_none());
    }

    /// An instant far from the real date, in another year, so these tests say nothing about
    /// the machine's clock.
    const ISSUED_AT: i64 = 2_035_000_000_000; // 2034-06-27

    #[test]
    fn a_token_lives_exactly_its_ttl_on_the_issuing_clock() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let t = keys.issue("u1", 0, None, ISSUED_AT).unwrap();
        let ttl_ms = ACCESS_TTL_SECONDS * 1000;
        assert!(keys.verify(&t, ISSUED_AT).is_some());
        assert!(keys.verify(&t, ISSUED_AT + ttl_ms).is_some());
        assert!(
            keys.verify(&t, ISSUED_AT + ttl_ms + LEEWAY_SECONDS * 1000)
                .is_some()
        );
        assert!(
            keys.verify(&t, ISSUED_AT + ttl_ms + (LEEWAY_SECONDS + 1) * 1000)
                .is_none()
        );
        // Checked against the given clock, not the machine's: an hour "ago" by the machine is
        // still expired on the issuing clock an hour later.
        let real_now = jiff::Timestamp::now().as_millisecond();
        let old = keys.issue("u1", 0, None, real_now - 3_600_000).unwrap();
        assert!(keys.verify(&old, real_now).is_none());
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let keys = JwtKeys::new(&[7u8; 32]);
        let t = keys.issue("u1", 0, None, ISSUED_AT).unwrap();
        assert!(keys.verify(&t, ISSUED_AT - LEEWAY_SECONDS * 1000).is_some());
        assert!(
            keys.verify(&t, ISSUED_AT - (LEEWAY_SECONDS + 1) * 1000)
                .is_none()
        );
    }
}
