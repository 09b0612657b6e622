//! Query strings, read the same way by every route that takes one: only
//! the parameters a route names, numbers as plain decimal digits, and a
//! `400 bad_query` that says which parameter is wrong.

use crate::error::ApiError;

/// The value of the parameter `name` in `query` (the first, if repeated).
pub fn value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `v`, the value of the parameter `name`, as a non-negative integer:
/// decimal digits only (no sign, space or exponent), at most `u64::MAX`.
pub fn u64_value(name: &str, v: &str) -> Result<u64, ApiError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("{name} must be a non-negative integer"),
        ));
    }
    v.parse()
        .map_err(|_| ApiError::bad_request("bad_query", format!("{name} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_digits_are_a_number() {
        assert_eq!(u64_value("n", "0").ok(), Some(0));
        assert_eq!(u64_value("n", "18446744073709551615").ok(), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1e3",
            "0x10",
            "18446744073709551616",
            "١",
        ] {
            assert!(u64_value("n", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_value_is_found_by_its_name_only() {
        assert_eq!(value("size=3&index=1", "index"), Some("1"));
        assert_eq!(value("size=3&size=4", "size"), Some("3"));
        assert_eq!(value("sizes=3", "size"), None);
        assert_eq!(value("size", "size"), None);
        assert_eq!(value("", "size"), None);
    }
}
