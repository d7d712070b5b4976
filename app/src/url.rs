//! Query-string text shared by the pages that build links (the grid explorer's views, the trade
//! pages) and the upload's URL.

/// Percent-encodes everything but RFC 3986's unreserved characters (the same text on the server
/// and in the browser).
pub fn encode(s: &str) -> String {
    encode_keeping(s, b"")
}

/// [`encode`], keeping `/` as it is: a path in a query value (`/signin?next=/jobs/…`) stays
/// readable.
pub fn encode_path(s: &str) -> String {
    encode_keeping(s, b"/")
}

fn encode_keeping(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay_as_they_are() {
        assert_eq!(encode("SPY 1m/2024"), "SPY%201m%2F2024");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(encode("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode_path("/jobs/a b?c"), "/jobs/a%20b%3Fc");
    }
}
