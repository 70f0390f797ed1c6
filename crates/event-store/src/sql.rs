//! SQL both backends share.

/// A bound on the stream versions that can lie at or before a cut, so a
/// query for a stream up to a log position scans only those versions'
/// index entries instead of the whole rest of the stream: the event after
/// version `after` sits at a position past `after`'s own, so version `v`
/// sits at or past `position(after) + (v - after)`, and `v` is at most
/// `after + (cut - position(after))`. Arguments: the placeholders of the
/// stream, `after` and the cut.
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
            "), 0))"
        )
    };
}
pub(crate) use versions_up_to_the_cut;
