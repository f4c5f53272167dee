//! Standard Webhooks signatures.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), the `webhook-signature`
/// header of the Standard Webhooks specification.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebhookSecret;

    /// The example of the Standard Webhooks specification (spec/standard-webhooks.md).
    #[test]
    fn matches_the_specifications_example() {
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let signature = sign(
            secret.key(),
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn an_independent_implementation_verifies_it() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = WebhookSecret::parse(secret).expect("secret");
        let body = br#"{"type":"workflow.state_changed","data":{}}"#;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(key.key(), "evt_1", timestamp, body);
        let verifier = standardwebhooks::Webhook::new(secret).expect("verifier");
        let mut headers = http_headers();
        headers.insert("webhook-id", "evt_1".parse().expect("header"));
        headers.insert(
            "webhook-timestamp",
            timestamp.to_string().parse().expect("header"),
        );
        headers.insert("webhook-signature", signature.parse().expect("header"));
        verifier.verify(body, &headers).expect("verifies");
        headers.insert("webhook-id", "evt_2".parse().expect("header"));
        assert!(
            verifier.verify(body, &headers).is_err(),
            "a changed id must not verify"
        );
    }

    fn http_headers() -> reqwest::header::HeaderMap {
        reqwest::header::HeaderMap::new()
    }

    #[test]
    fn bad_secrets_are_refused_without_repeating_them() {
        for text in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_not*base64",
            "whsec_c2hvcnQ=",
        ] {
            let error = WebhookSecret::parse(text).expect_err("refused").to_string();
            assert!(!error.contains(text), "{error}");
        }
    }
}
