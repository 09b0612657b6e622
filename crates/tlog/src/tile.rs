//! C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths and entry bundles.
//!
//! A tile is up to 256 consecutive hashes of one tree level (level `L` of
//! the tiling is level `8L` of the tree); tile `N` of level `L` holds the
//! hashes of the perfect subtrees `N·256 … N·256+W−1` at tree level `8L`.
//! Entry bundles hold the leaves themselves, each prefixed by its length as
//! a big-endian u16. Paths:
//!
//! ```text
//! tile/<L>/<N>[.p/<W>]          hashes
//! tile/entries/<N>[.p/<W>]      leaves
//! ```
//!
//! `<N>` is written in groups of three digits, all but the last prefixed by
//! `x` (1234067 is `x001/x234/067`); `.p/<W>` marks a partial tile of `W`
//! (1 to 255) entries.

use std::fmt;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u32 = 8;

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Hashes at tiling level `L` (tree level `8L`), `L` in 0..=63.
    Hashes(u8),
    /// Leaves.
    Entries,
}

/// One tile or entry bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    /// Hashes or entries.
    pub kind: TileKind,
    /// Index within its level.
    pub index: u64,
    /// Number of entries, 1 to 256 (256 is a full tile).
    pub width: u16,
}

impl TilePath {
    /// Parses a path after the log's prefix, e.g. `tile/0/x001/234.p/5`.
    /// Only the canonical spelling is accepted.
    pub fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("tile/")?;
        let (first, rest) = rest.split_once('/')?;
        let kind = if first == "entries" {
            TileKind::Entries
        } else {
            let level: u8 = first.parse().ok()?;
            if level > 63 {
                return None;
            }
            TileKind::Hashes(level)
        };
        let (n_part, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let w: u16 = w.parse().ok()?;
                if !(1..TILE_WIDTH as u16).contains(&w) {
                    return None;
                }
                (n, w)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let mut index: u64 = 0;
        for group in n_part.split('/') {
            let digits = group.strip_prefix('x').unwrap_or(group);
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let g: u64 = digits.parse().ok()?;
            index = index.checked_mul(1000)?.checked_add(g)?;
        }
        let parsed = Self { kind, index, width };
        // Canonical form only: one spelling per tile.
        (parsed.to_string() == path).then_some(parsed)
    }

    /// The first entry (at this tile's level) the tile holds.
    pub fn first(&self) -> u64 {
        self.index.saturating_mul(TILE_WIDTH)
    }

    /// The tree level of the hashes (0 for entries).
    pub fn tree_level(&self) -> u32 {
        match self.kind {
            TileKind::Hashes(l) => u32::from(l) * TILE_HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// How many leaves the tree needs for this tile to exist: the end of the
    /// range its entries span. `None` if that does not fit in a u64.
    pub fn needs_leaves(&self) -> Option<u64> {
        let end = self.first().checked_add(u64::from(self.width))?;
        let level = self.tree_level();
        if level >= 64 {
            return (end == 0).then_some(0);
        }
        end.checked_mul(1u64 << level)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hashes(l) => write!(f, "tile/{l}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            if i + 1 < groups.len() {
                write!(f, "x{g:03}/")?;
            } else {
                write!(f, "{g:03}")?;
            }
        }
        if u64::from(self.width) != TILE_WIDTH {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

/// The entry bundles (full, then possibly one partial) that hold leaves
/// `from..to` of a tree of `size >= to` leaves.
///
/// Lazy, because the bounds come from a signed checkpoint that a hostile
/// log chooses: a size of 2^63 names 2^55 bundles, and a reader should
/// fail on the first one the log cannot serve, not run out of memory
/// listing them. Any bounds in u64 work, up to `u64::MAX`.
pub fn bundles(from: u64, to: u64, size: u64) -> impl Iterator<Item = TilePath> {
    // The last bundle holds leaf `to - 1`.
    let range = (from < to && to <= size).then(|| from / TILE_WIDTH..=(to - 1) / TILE_WIDTH);
    range.into_iter().flatten().map(move |n| {
        // `n * 256 <= to - 1 < size`: neither overflows, and the width is
        // 1 to 256.
        let start = n * TILE_WIDTH;
        TilePath {
            kind: TileKind::Entries,
            index: n,
            width: (size - start).min(TILE_WIDTH) as u16,
        }
    })
}

/// [`bundles`], collected: for ranges known to be small.
pub fn bundles_for(from: u64, to: u64, size: u64) -> Vec<TilePath> {
    bundles(from, to, size).collect()
}

/// Encodes leaves as an entry bundle. `None` if a leaf is longer than 65535
/// bytes.
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Some(out)
}

/// Decodes an entry bundle; `None` unless it is exactly a sequence of
/// length-prefixed entries.
pub fn decode_bundle(mut data: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (len, rest) = data.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return None;
        }
        out.push(rest[..len].to_vec());
        data = &rest[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_written_and_read_as_the_spec_shows() {
        let cases = [
            ("tile/0/000", TileKind::Hashes(0), 0, 256),
            ("tile/3/x001/x234/067.p/1", TileKind::Hashes(3), 1234067, 1),
            ("tile/3/x001/x234/067", TileKind::Hashes(3), 1234067, 256),
            ("tile/entries/x001/000.p/255", TileKind::Entries, 1000, 255),
            ("tile/63/999", TileKind::Hashes(63), 999, 256),
        ];
        for (path, kind, index, width) in cases {
            let t = TilePath { kind, index, width };
            assert_eq!(t.to_string(), path);
            assert_eq!(TilePath::parse(path), Some(t), "{path}");
        }
    }

    #[test]
    fn non_canonical_or_impossible_paths_are_refused() {
        for bad in [
            "tile/0/0",
            "tile/0/x000/001",
            "tile/00/000",
            "tile/64/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/001/002",
            "tile/entries/x01/000",
            "tile/data/000",
            "tile/0/-01",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tiles/0/000",
            "tile/0/000/",
        ] {
            assert_eq!(TilePath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_tile_needs_the_leaves_it_spans() {
        let t = TilePath::parse("tile/1/000.p/2").unwrap();
        assert_eq!(t.needs_leaves(), Some(512));
        let e = TilePath::parse("tile/entries/001.p/3").unwrap();
        assert_eq!(e.needs_leaves(), Some(259));
        let huge = TilePath::parse("tile/63/001").unwrap();
        assert_eq!(huge.needs_leaves(), None);
    }

    #[test]
    fn bundles_cover_a_range_with_full_tiles_and_one_partial_tail() {
        let b = bundles_for(200, 600, 600);
        let paths: Vec<String> = b.iter().map(ToString::to_string).collect();
        assert_eq!(
            paths,
            [
                "tile/entries/000",
                "tile/entries/001",
                "tile/entries/002.p/88"
            ]
        );
        assert!(bundles_for(5, 5, 10).is_empty());
        assert!(bundles_for(0, 11, 10).is_empty());
    }

    #[test]
    fn bundles_at_the_top_of_u64_neither_overflow_nor_run_forever() {
        // Found by the property tests: the last leaves of a tree of
        // u64::MAX leaves (a size a hostile log can sign) overflowed
        // `(n + 1) * 256`: a panic in debug builds, and in release ones an
        // endless loop of wrapped indexes, each pushed until memory ran out.
        let top = u64::MAX / TILE_WIDTH;
        let last = bundles_for(u64::MAX - 1, u64::MAX, u64::MAX);
        assert_eq!(
            last,
            [TilePath {
                kind: TileKind::Entries,
                index: top,
                width: 255,
            }]
        );
        assert_eq!(
            last[0].to_string(),
            "tile/entries/x072/x057/x594/x037/x927/935.p/255"
        );
        let tail: Vec<(u64, u16)> = bundles(u64::MAX - 300, u64::MAX, u64::MAX)
            .map(|t| (t.index, t.width))
            .collect();
        assert_eq!(tail, [(top - 1, 256), (top, 255)]);
        // The whole range is named lazily, not listed: 2^56 bundles.
        let first: Vec<u64> = bundles(0, u64::MAX, u64::MAX)
            .take(3)
            .map(|t| t.index)
            .collect();
        assert_eq!(first, [0, 1, 2]);
    }

    #[test]
    fn bundles_round_trip_and_truncation_is_refused() {
        let entries: Vec<&[u8]> = vec![b"a", b"", b"hello"];
        let data = encode_bundle(entries.iter().copied()).unwrap();
        assert_eq!(data, b"\x00\x01a\x00\x00\x00\x05hello");
        assert_eq!(
            decode_bundle(&data).unwrap(),
            vec![b"a".to_vec(), vec![], b"hello".to_vec()]
        );
        assert_eq!(decode_bundle(&data[..data.len() - 1]), None);
        assert_eq!(decode_bundle(&[0]), None);
        assert!(encode_bundle([vec![0u8; 70_000].as_slice()]).is_none());
    }
}
