//! RFC 8058 one-click unsubscribe tokens: `<insurer>-<employer>-<HMAC>`, signed with the app's key
//! material (the same key as sessions and CSRF tokens, under its own label), so the token alone is
//! the authority to set that employer's opt-out and nothing else.
use crate::store::insurers::InsurerId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept in the token (128 bits).
const MAC_BYTES: usize = 16;

fn mac(key: &[u8], insurer: InsurerId, employer: i64) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(b"unsubscribe\x1f");
    m.update(insurer.0.to_string().as_bytes());
    m.update(b"\x1f");
    m.update(employer.to_string().as_bytes());
    m
}

/// The token of (insurer, employer).
pub fn token(key: &[u8], insurer: InsurerId, employer: i64) -> String {
    let tag = mac(key, insurer, employer).finalize().into_bytes();
    format!(
        "{}-{}-{}",
        insurer.0,
        employer,
        hex::encode(&tag[..MAC_BYTES])
    )
}

/// (insurer, employer) of a genuine token; `None` for anything else (compared in constant time).
pub fn verify(key: &[u8], token: &str) -> Option<(InsurerId, i64)> {
    let mut parts = token.trim().splitn(3, '-');
    let insurer: i64 = parts.next()?.parse().ok()?;
    let employer: i64 = parts.next()?.parse().ok()?;
    let tag = hex::decode(parts.next()?).ok()?;
    if tag.len() != MAC_BYTES {
        return None;
    }
    mac(key, InsurerId(insurer), employer)
        .verify_truncated_left(&tag)
        .ok()?;
    Some((InsurerId(insurer), employer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_key_and_unchanged() {
        let t = token(b"key", InsurerId(3), 42);
        assert_eq!(verify(b"key", &t), Some((InsurerId(3), 42)));
        assert_eq!(verify(b"other", &t), None);
        let forged = t.replacen("3-42-", "3-43-", 1);
        assert_eq!(verify(b"key", &forged), None);
        let other_insurer = t.replacen("3-42-", "4-42-", 1);
        assert_eq!(verify(b"key", &other_insurer), None);
        assert_eq!(verify(b"key", "3-42-zz"), None);
        assert_eq!(verify(b"key", &t[..t.len() - 2]), None);
        assert_eq!(verify(b"key", ""), None);
    }
}
