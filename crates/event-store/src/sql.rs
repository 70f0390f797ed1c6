//! SQL both backends share.

/// A bound on the stream versions that can lie at or before a cut, so a
/// query for a stream up to a log position scans only those versions'
/// index entries instead of the whole rest of the stream: the event after
/// version `after` sits at a position past `after`'s own, so version `v`
/// sits at or past `position(after) + (v - after)`, and `v` is at most
/// `after + (cut - position(after))`. When `after` is not a version of the
/// stream (0, or past its end) the bound is the cut itself: a version never
/// exceeds its own position. Since `position(after) >= after`, the bound
/// never exceeds the cut, so it cannot overflow. Arguments: the
/// placeholders of the stream, `after` and the cut.
macro_rules! versions_up_to_the_cut {
    ($stream:literal, $after:literal, $cut:literal) => {
        concat!(
            "stream_version <= ",
            $after,
            " + (",
            $cut,
            " - coalesce((SELECT position FROM events \
             WHERE stream_id = ",
            $stream,
            " AND stream_version = ",
            $after,
            "), ",
            $after,
            "))"
        )
    };
}
pub(crate) use versions_up_to_the_cut;

/// A count or position as SQL's 64-bit integer. Positions and versions past
/// `i64::MAX` cannot exist, so a larger bound means "no bound", not a
/// negative number.
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
