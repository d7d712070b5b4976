//! Page numbers of the paginated lists (`/jobs`, `/datasets`, `/strategies`): `?page=` read
//! once, and page counts and neighbours kept in `1..=MAX_PAGE`.

/// Highest page number a list asks for or links to (20 million rows at 20 a page); larger
/// `?page=` values are clamped to it.
pub const MAX_PAGE: u32 = 1_000_000;

/// The page in `?page=`: 1 when missing, malformed or 0, at most [`MAX_PAGE`] (so
/// `?page=4294967295` is page 1,000,000, not an overflow).
pub fn parse_page(raw: Option<&str>) -> u32 {
    raw.and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .map_or(1, |p| p.min(u64::from(MAX_PAGE)) as u32)
}

/// Pages needed for `total` rows at `per_page` a page: at least 1, at most [`MAX_PAGE`].
pub fn page_count(total: i64, per_page: u32) -> u32 {
    let total = u64::try_from(total).unwrap_or(0);
    let pages = total.div_ceil(u64::from(per_page.max(1)));
    pages.clamp(1, u64::from(MAX_PAGE)) as u32
}

/// The previous and next page of `page`, kept in `1..=MAX_PAGE`.
pub fn neighbours(page: u32) -> (u32, u32) {
    let page = page.clamp(1, MAX_PAGE);
    (
        page.saturating_sub(1).max(1),
        page.saturating_add(1).min(MAX_PAGE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_clamped_not_overflowed() {
        assert_eq!(parse_page(None), 1);
        assert_eq!(parse_page(Some("")), 1);
        assert_eq!(parse_page(Some("0")), 1);
        assert_eq!(parse_page(Some("-3")), 1);
        assert_eq!(parse_page(Some("x")), 1);
        assert_eq!(parse_page(Some("7")), 7);
        assert_eq!(parse_page(Some("99999999999")), MAX_PAGE);
        assert_eq!(parse_page(Some("4294967295")), MAX_PAGE);
        assert_eq!(parse_page(Some("18446744073709551615")), MAX_PAGE);
        assert_eq!(neighbours(1), (1, 2));
        assert_eq!(neighbours(0), (1, 2));
        assert_eq!(neighbours(u32::MAX), (MAX_PAGE - 1, MAX_PAGE));
        assert_eq!(neighbours(MAX_PAGE), (MAX_PAGE - 1, MAX_PAGE));
    }

    #[test]
    fn page_count_saturates() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(-5, 20), 1);
        assert_eq!(page_count(41, 20), 3);
        assert_eq!(page_count(41, 0), 41);
        // More rows than u32 can count: the old `total as u32` wrapped around.
        assert_eq!(page_count(i64::MAX, 1), MAX_PAGE);
        assert_eq!(page_count(1 << 32, 20), MAX_PAGE);
    }
}
