//! Instants as the messages and the webhook body write them: RFC 3339, in UTC as observed.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// `time` in RFC 3339 (`2026-11-23T09:30:00Z`); the Unix seconds for the rare instant RFC 3339
/// cannot write (a year outside 0000–9999), so a message never loses its time.
pub fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_rfc3339_and_unix_seconds_out_of_its_range() {
        assert_eq!(
            rfc3339(time::macros::datetime!(2026-11-23 09:30:00 UTC)),
            "2026-11-23T09:30:00Z"
        );
        let far = OffsetDateTime::from_unix_timestamp(-62_167_219_200 - 86_400).expect("instant");
        assert_eq!(rfc3339(far), far.unix_timestamp().to_string());
    }
}
