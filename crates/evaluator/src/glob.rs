//! Compiled string patterns: the wildcards `*` and `?` plus policy variables.
//!
//! A pattern is split once at its `*`s into *segments* (runs of literal text,
//! `?` and variables). Matching anchors the first segment at the start of the
//! input (unless the pattern starts with `*`), the last one at the end (unless
//! it ends with `*`), and finds each segment in between by a leftmost search
//! in what remains, in order. Leftmost-first is exact: every segment matches
//! a fixed number of characters, so taking the earliest occurrence leaves the
//! most room for the segments after it.
//!
//! **Cost.** With `n` the input length and `m` a segment's length once its
//! variables are resolved: the anchored segments cost O(m) each; a segment of
//! literal text and variables is found with Knuth–Morris–Pratt in O(n + m);
//! a segment containing `?` with a bit-parallel shift-and over characters in
//! O(n × ⌈m / 64⌉). The searches of successive segments scan disjoint parts
//! of the input, so a whole match costs O(n × ⌈m / 64⌉ + pattern length) for
//! the longest `?`-segment `m`, and O(n + pattern length) without `?` —
//! never the O(pattern × input) of a backtracking glob.
//!
//! Variables are resolved through a callback and compared as literal text, so
//! a substituted value can never act as a wildcard. A value longer than
//! [`MAX_VARIABLE_VALUE_LEN`] bytes counts as no value (the pattern then
//! matches nothing), which bounds what a request can make a pattern expand to.
//! Matching allocates nothing, except for a segment between two `*`s that
//! contains a variable (its text and search tables are built per match) and
//! for a `?`-segment of over 512 characters (its search state).

use iam_domain::policy::variables::{parse_template, TemplatePart};

/// The longest variable value (in bytes) a pattern substitutes. AWS's own
/// values are far shorter (tag values 256 characters, names 64–128,
/// session names 64); a longer value — a crafted request header, say — is
/// treated as no value, so the pattern matches nothing, exactly as for a
/// missing variable (docs/policy-semantics.md).
pub const MAX_VARIABLE_VALUE_LEN: usize = 4096;

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// Literal bytes (already lowercased when the pattern is case-insensitive).
    Lit(Box<str>),
    /// `*`: any run of characters, including `/` and `:`.
    Star,
    /// `?`: exactly one character.
    One,
    /// A policy variable, by index into the pattern's variable table.
    Var(u16),
}

/// A policy variable reference: the lowercased key and an optional default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VarRef {
    pub key: Box<str>,
    pub default: Option<Box<str>>,
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    kind: PatternKind,
    /// Whether ASCII case is ignored (actions, `StringEqualsIgnoreCase`).
    fold: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternKind {
    /// Exactly `*`: matches everything without looking at the input.
    Any,
    /// No wildcards and no variables: a plain comparison.
    Exact(Box<str>),
    /// The general case: the non-empty segments between `*`s, in order.
    Segments {
        segments: Box<[Segment]>,
        /// Whether the pattern starts with `*` (else the first segment is
        /// anchored at the start of the input).
        star_first: bool,
        /// Whether the pattern ends with `*` (else the last segment is
        /// anchored at the end).
        star_last: bool,
        /// Whether any segment holds a variable.
        has_vars: bool,
    },
}

/// A run of literals, `?` and variables between two `*`s.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    /// Only `Lit`, `One` and `Var` tokens, never two `Lit`s in a row.
    tokens: Box<[Token]>,
    /// How a segment between two `*`s is searched for.
    search: Search,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Search {
    /// Anchored at the start or the end of the input: never searched for.
    Anchored,
    /// One literal: Knuth–Morris–Pratt with this failure table.
    Literal(Box<[u32]>),
    /// Literals and variables: KMP over the resolved text, built per match.
    Resolved,
    /// Literals and `?`: bit-parallel shift-and over characters.
    Bits(ShiftAnd),
    /// Literals, `?` and variables: shift-and tables built per match.
    ResolvedBits,
}

/// A bit-parallel (shift-and) searcher for a segment of `len` characters,
/// each a given character or `?`: bit `k` of the state says whether the
/// last `k + 1` input characters match the segment's first `k + 1`, and one
/// input character updates the whole state in ⌈len / 64⌉ word operations.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShiftAnd {
    len: usize,
    words: usize,
    /// For each ASCII character, `words` words: the positions holding it.
    ascii: Box<[u64]>,
    /// The same for the segment's other characters, sorted by character.
    others: Box<[(char, Box<[u64]>)]>,
    /// The positions holding `?` (any character).
    any: Box<[u64]>,
}

/// Above this many state words (a `?`-segment over 512 characters) the
/// state is allocated per search rather than held on the stack.
const INLINE_STATE_WORDS: usize = 8;

impl ShiftAnd {
    /// `items`: `Some(c)` a character (already lowercase with `fold`),
    /// `None` a `?`.
    fn new(items: &[Option<char>]) -> ShiftAnd {
        let len = items.len();
        let words = len.div_ceil(64).max(1);
        let mut ascii = vec![0u64; 128 * words];
        let mut others: Vec<(char, Box<[u64]>)> = Vec::new();
        let mut any = vec![0u64; words];
        for (k, item) in items.iter().enumerate() {
            let (w, bit) = (k / 64, 1u64 << (k % 64));
            match item {
                None => any[w] |= bit,
                Some(c) if c.is_ascii() => ascii[*c as usize * words + w] |= bit,
                Some(c) => {
                    let at = match others.binary_search_by(|(o, _)| o.cmp(c)) {
                        Ok(at) => at,
                        Err(at) => {
                            others.insert(at, (*c, vec![0u64; words].into_boxed_slice()));
                            at
                        }
                    };
                    others[at].1[w] |= bit;
                }
            }
        }
        ShiftAnd {
            len,
            words,
            ascii: ascii.into_boxed_slice(),
            others: others.into_boxed_slice(),
            any: any.into_boxed_slice(),
        }
    }

    /// The end (byte offset in `hay`) of the leftmost occurrence. Every
    /// occurrence spans `len` characters, so the first to end is the
    /// leftmost. O(hay × ⌈len / 64⌉).
    fn find_end(&self, hay: &str, fold: bool) -> Option<usize> {
        if self.len == 0 {
            return Some(0);
        }
        let mut inline = [0u64; INLINE_STATE_WORDS];
        let mut heap = Vec::new();
        let state: &mut [u64] = if self.words <= INLINE_STATE_WORDS {
            &mut inline[..self.words]
        } else {
            heap.resize(self.words, 0);
            &mut heap
        };
        let (last_w, last_bit) = ((self.len - 1) / 64, 1u64 << ((self.len - 1) % 64));
        for (i, c) in hay.char_indices() {
            let c = if fold { c.to_ascii_lowercase() } else { c };
            let masks: Option<&[u64]> = if c.is_ascii() {
                let at = c as usize * self.words;
                Some(&self.ascii[at..at + self.words])
            } else {
                self.others
                    .binary_search_by(|(o, _)| o.cmp(&c))
                    .ok()
                    .map(|at| &*self.others[at].1)
            };
            let mut carry = 1u64;
            for (w, d) in state.iter_mut().enumerate() {
                let shifted = (*d << 1) | carry;
                carry = *d >> 63;
                *d = shifted & (masks.map_or(0, |m| m[w]) | self.any[w]);
            }
            if state[last_w] & last_bit != 0 {
                return Some(i + c.len_utf8());
            }
        }
        None
    }
}

/// Whether `*` and `?` in policy text are wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wildcards {
    On,
    Off,
}

impl Pattern {
    /// Compile `text`. Variables are registered in `vars` (shared per statement
    /// so the same key is resolved once per request).
    pub(crate) fn compile(
        text: &str,
        wildcards: Wildcards,
        fold: bool,
        variables: bool,
        vars: &mut Vec<VarRef>,
    ) -> Pattern {
        let norm = |s: &str| -> String {
            if fold {
                s.to_ascii_lowercase()
            } else {
                s.to_owned()
            }
        };
        if wildcards == Wildcards::On && text == "*" {
            return Pattern {
                kind: PatternKind::Any,
                fold,
            };
        }
        let parts = parse_template(text, variables);
        let mut tokens: Vec<Token> = Vec::new();
        let push_lit = |tokens: &mut Vec<Token>, s: &str| {
            if s.is_empty() {
                return;
            }
            if let Some(Token::Lit(prev)) = tokens.last_mut() {
                let mut joined = String::with_capacity(prev.len() + s.len());
                joined.push_str(prev);
                joined.push_str(s);
                *prev = joined.into_boxed_str();
            } else {
                tokens.push(Token::Lit(s.into()));
            }
        };
        for part in parts {
            match part {
                TemplatePart::Text(t) => {
                    let t = norm(&t);
                    if wildcards == Wildcards::Off {
                        push_lit(&mut tokens, &t);
                        continue;
                    }
                    let mut start = 0;
                    for (i, c) in t.char_indices() {
                        if c == '*' || c == '?' {
                            push_lit(&mut tokens, &t[start..i]);
                            if c == '*' {
                                if tokens.last() != Some(&Token::Star) {
                                    tokens.push(Token::Star);
                                }
                            } else {
                                tokens.push(Token::One);
                            }
                            start = i + 1;
                        }
                    }
                    push_lit(&mut tokens, &t[start..]);
                }
                TemplatePart::Literal(c) => push_lit(&mut tokens, c.encode_utf8(&mut [0; 4])),
                TemplatePart::Variable { key, default } => {
                    let key = key.to_ascii_lowercase();
                    let idx = match vars
                        .iter()
                        .position(|v| *v.key == *key && v.default.as_deref() == default.as_deref())
                    {
                        Some(i) => i,
                        None => {
                            vars.push(VarRef {
                                key: key.into(),
                                default: default.map(Into::into),
                            });
                            vars.len() - 1
                        }
                    };
                    tokens.push(Token::Var(u16::try_from(idx).unwrap_or(u16::MAX)));
                }
            }
        }
        let kind = match tokens.as_slice() {
            [] => PatternKind::Exact("".into()),
            [Token::Lit(s)] => PatternKind::Exact(s.clone()),
            [Token::Star] => PatternKind::Any,
            _ => {
                let star_first = tokens.first() == Some(&Token::Star);
                let star_last = tokens.last() == Some(&Token::Star);
                let has_vars = tokens.iter().any(|t| matches!(t, Token::Var(_)));
                let pieces: Vec<&[Token]> = tokens
                    .split(|t| *t == Token::Star)
                    .filter(|s| !s.is_empty())
                    .collect();
                let last = pieces.len().saturating_sub(1);
                let segments = pieces
                    .iter()
                    .enumerate()
                    .map(|(k, piece)| {
                        let anchored = (k == 0 && !star_first) || (k == last && !star_last);
                        Segment::new(piece, anchored)
                    })
                    .collect();
                PatternKind::Segments {
                    segments,
                    star_first,
                    star_last,
                    has_vars,
                }
            }
        };
        Pattern { kind, fold }
    }

    /// The literal text every match must start with (empty when the pattern
    /// starts with a wildcard or a variable). Used by the resource index.
    pub(crate) fn literal_prefix(&self) -> &str {
        match &self.kind {
            PatternKind::Any => "",
            PatternKind::Exact(s) => s,
            PatternKind::Segments {
                segments,
                star_first: false,
                ..
            } => match segments.first().and_then(|s| s.tokens.first()) {
                Some(Token::Lit(s)) => s,
                _ => "",
            },
            PatternKind::Segments { .. } => "",
        }
    }

    /// Match `input`. `resolve(i)` gives the value of variable `i`, or `None`
    /// when it has no value, in which case the pattern matches nothing (as
    /// it does when the value is longer than [`MAX_VARIABLE_VALUE_LEN`]).
    pub(crate) fn matches<'a>(
        &self,
        input: &str,
        resolve: &dyn Fn(u16) -> Option<&'a str>,
    ) -> bool {
        let fold = self.fold;
        match &self.kind {
            PatternKind::Any => true,
            PatternKind::Exact(s) => {
                if fold {
                    s.len() == input.len()
                        && s.as_bytes()
                            .iter()
                            .zip(input.as_bytes())
                            .all(|(a, b)| *a == b.to_ascii_lowercase())
                } else {
                    **s == *input
                }
            }
            PatternKind::Segments {
                segments,
                star_first,
                star_last,
                has_vars,
            } => {
                if *has_vars {
                    let usable = segments
                        .iter()
                        .flat_map(|s| s.tokens.iter())
                        .all(|t| match t {
                            Token::Var(i) => {
                                resolve(*i).is_some_and(|v| v.len() <= MAX_VARIABLE_VALUE_LEN)
                            }
                            _ => true,
                        });
                    if !usable {
                        return false;
                    }
                }
                let m = Matcher {
                    text: input,
                    input: input.as_bytes(),
                    fold,
                    resolve,
                };
                let (mut lo, mut hi) = (0, input.len());
                let mut middle: &[Segment] = segments;
                if !*star_first {
                    let Some((first, rest)) = middle.split_first() else {
                        return true;
                    };
                    match m.forward(first, lo, hi) {
                        Some(end) => lo = end,
                        None => return false,
                    }
                    middle = rest;
                    if !*star_last && middle.is_empty() {
                        // No `*` at all: the one segment is the whole input.
                        return lo == hi;
                    }
                }
                if !*star_last {
                    let Some((last, rest)) = middle.split_last() else {
                        return true;
                    };
                    match m.backward(last, lo, hi) {
                        Some(start) => hi = start,
                        None => return false,
                    }
                    middle = rest;
                }
                for seg in middle {
                    match m.search(seg, lo, hi) {
                        Some(end) => lo = end,
                        None => return false,
                    }
                }
                true
            }
        }
    }
}

impl Segment {
    fn new(tokens: &[Token], anchored: bool) -> Segment {
        let search = match tokens {
            _ if anchored => Search::Anchored,
            [Token::Lit(s)] => Search::Literal(kmp_table(s.as_bytes())),
            _ if !tokens.contains(&Token::One) => Search::Resolved,
            _ if tokens.iter().any(|t| matches!(t, Token::Var(_))) => Search::ResolvedBits,
            _ => Search::Bits(ShiftAnd::new(&shift_and_items(tokens, |_| "", false))),
        };
        Segment {
            tokens: tokens.into(),
            search,
        }
    }
}

/// One match in progress: the input, the case rule and the variables.
struct Matcher<'i, 'r, 'a> {
    text: &'i str,
    input: &'i [u8],
    fold: bool,
    resolve: &'r dyn Fn(u16) -> Option<&'a str>,
}

/// Whether two byte strings are equal (ASCII case-insensitively with `fold`).
fn same(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Length in bytes of the UTF-8 character starting with `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

impl<'a> Matcher<'_, '_, 'a> {
    /// The text of a literal or variable token (variables were checked to
    /// have a value before matching started).
    fn text<'t>(&self, t: &'t Token) -> &'t [u8]
    where
        'a: 't,
    {
        match t {
            Token::Lit(s) => s.as_bytes(),
            Token::Var(i) => (self.resolve)(*i).unwrap_or("").as_bytes(),
            Token::One | Token::Star => &[],
        }
    }

    /// Match `seg` starting exactly at `at`, not past `hi`; the end on success.
    fn forward(&self, seg: &Segment, mut at: usize, hi: usize) -> Option<usize> {
        for t in seg.tokens.iter() {
            if *t == Token::One {
                if at >= hi {
                    return None;
                }
                at += char_len(self.input[at]).min(hi - at);
            } else {
                let s = self.text(t);
                if hi - at < s.len() || !same(&self.input[at..at + s.len()], s, self.fold) {
                    return None;
                }
                at += s.len();
            }
        }
        Some(at)
    }

    /// Match `seg` ending exactly at `hi`, not before `lo`; the start on
    /// success.
    fn backward(&self, seg: &Segment, lo: usize, mut hi: usize) -> Option<usize> {
        for t in seg.tokens.iter().rev() {
            if *t == Token::One {
                if hi <= lo {
                    return None;
                }
                hi -= 1;
                // Step back over UTF-8 continuation bytes to the character's start.
                while hi > lo && self.input[hi] & 0xC0 == 0x80 {
                    hi -= 1;
                }
            } else {
                let s = self.text(t);
                if hi - lo < s.len() || !same(&self.input[hi - s.len()..hi], s, self.fold) {
                    return None;
                }
                hi -= s.len();
            }
        }
        Some(hi)
    }

    /// The leftmost occurrence of `seg` within `lo..hi`; its end.
    fn search(&self, seg: &Segment, lo: usize, hi: usize) -> Option<usize> {
        let hay = &self.input[lo..hi];
        match &seg.search {
            // INVARIANT: `matches` never searches for an anchored segment.
            Search::Anchored => self.bits_end(
                &ShiftAnd::new(&shift_and_items(
                    &seg.tokens,
                    |i| (self.resolve)(i).unwrap_or(""),
                    self.fold,
                )),
                lo,
                hi,
            ),
            Search::Literal(table) => {
                let [Token::Lit(needle)] = &*seg.tokens else {
                    return None;
                };
                kmp_find(hay, needle.as_bytes(), table, self.fold).map(|at| lo + at + needle.len())
            }
            Search::Resolved => {
                let len: usize = seg.tokens.iter().map(|t| self.text(t).len()).sum();
                if len > hay.len() {
                    return None;
                }
                let mut needle = Vec::with_capacity(len);
                for t in seg.tokens.iter() {
                    needle.extend_from_slice(self.text(t));
                }
                if self.fold {
                    needle.make_ascii_lowercase();
                }
                let table = kmp_table(&needle);
                kmp_find(hay, &needle, &table, self.fold).map(|at| lo + at + len)
            }
            Search::Bits(bits) => self.bits_end(bits, lo, hi),
            Search::ResolvedBits => {
                let items =
                    shift_and_items(&seg.tokens, |i| (self.resolve)(i).unwrap_or(""), self.fold);
                if items.len() > hi - lo {
                    return None;
                }
                self.bits_end(&ShiftAnd::new(&items), lo, hi)
            }
        }
    }

    fn bits_end(&self, bits: &ShiftAnd, lo: usize, hi: usize) -> Option<usize> {
        // INVARIANT: `lo` and `hi` are character boundaries (starts and
        // ends of matched segments, or the input's ends).
        let hay = self.text.get(lo..hi)?;
        bits.find_end(hay, self.fold).map(|end| lo + end)
    }
}

/// The characters of a `?`-segment for [`ShiftAnd`]: `None` for `?`,
/// variables resolved by `value` (and lowercased with `fold`, as the
/// pattern's own text already is).
fn shift_and_items<'t>(
    tokens: &'t [Token],
    value: impl Fn(u16) -> &'t str,
    fold: bool,
) -> Vec<Option<char>> {
    let mut items = Vec::new();
    for t in tokens {
        match t {
            Token::One => items.push(None),
            Token::Lit(s) => items.extend(s.chars().map(Some)),
            Token::Var(i) => items.extend(
                value(*i)
                    .chars()
                    .map(|c| Some(if fold { c.to_ascii_lowercase() } else { c })),
            ),
            Token::Star => {}
        }
    }
    items
}

/// The Knuth–Morris–Pratt failure table of `needle`: entry `k` is the length
/// of the longest proper prefix of `needle[..=k]` that is also its suffix.
fn kmp_table(needle: &[u8]) -> Box<[u32]> {
    let mut table = vec![0u32; needle.len()];
    let mut k = 0usize;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = table[k - 1] as usize;
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        // INVARIANT: k < needle.len(), and policy texts are far below 4 GiB.
        table[i] = u32::try_from(k).unwrap_or(u32::MAX);
    }
    table.into_boxed_slice()
}

/// The first position of `needle` in `hay`, in O(hay + needle) (ASCII
/// case-insensitively with `fold`; the needle is then already lowercase).
fn kmp_find(hay: &[u8], needle: &[u8], table: &[u32], fold: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > hay.len() {
        return None;
    }
    let mut k = 0usize;
    for (i, &b) in hay.iter().enumerate() {
        let b = if fold { b.to_ascii_lowercase() } else { b };
        while k > 0 && needle[k] != b {
            k = table[k - 1] as usize;
        }
        if needle[k] == b {
            k += 1;
            if k == needle.len() {
                return Some(i + 1 - k);
            }
        }
    }
    None
}
#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, input: &str) -> bool {
        let mut vars = Vec::new();
        Pattern::compile(pat, Wildcards::On, false, true, &mut vars)
            .matches(input, &|_| Some("alice"))
    }

    #[test]
    fn globs() {
        assert!(m("*", "anything"));
        assert!(m("a*c", "abc"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("a*c", "acd"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"));
        assert!(m("*log*", "arn:aws:s3:::my-logs"));
        assert!(m("home/${aws:username}/*", "home/alice/x"));
        assert!(!m("home/${aws:username}/*", "home/bob/x"));
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "axb"));
        assert!(m("**a", "bba"));
    }

    #[test]
    fn fold() {
        let mut vars = Vec::new();
        let p = Pattern::compile("S3:Get*", Wildcards::On, true, false, &mut vars);
        assert!(p.matches("s3:getobject", &|_| None));
        assert!(p.matches("S3:GETOBJECT", &|_| None));
    }

    #[test]
    fn missing_variable_never_matches() {
        let mut vars = Vec::new();
        let p = Pattern::compile("x/${aws:username}*", Wildcards::On, false, true, &mut vars);
        assert!(!p.matches("x/", &|_| None));
    }

    /// A slow, obviously correct glob matcher over characters.
    fn reference(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|k| reference(rest, &s[k..])),
            Some(('?', rest)) => !s.is_empty() && reference(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && reference(rest, &s[1..]),
        }
    }

    /// A pattern atom for the dynamic-programming reference.
    #[derive(Clone, Copy, PartialEq)]
    enum Ref {
        Char(char),
        One,
        Star,
    }

    /// The textbook O(pattern × input) dynamic-programming matcher: `ok[j]`
    /// says whether the pattern read so far matches the first `j` characters.
    fn dp(pattern: &[Ref], input: &[char], fold: bool) -> bool {
        let mut ok = vec![false; input.len() + 1];
        ok[0] = true;
        for a in pattern {
            let mut next = vec![false; input.len() + 1];
            for j in 0..=input.len() {
                next[j] = match a {
                    Ref::Star => ok[j] || (j > 0 && next[j - 1]),
                    Ref::One => j > 0 && ok[j - 1],
                    Ref::Char(c) => {
                        j > 0
                            && ok[j - 1]
                            && if fold {
                                c.eq_ignore_ascii_case(&input[j - 1])
                            } else {
                                *c == input[j - 1]
                            }
                    }
                };
            }
            ok = next;
        }
        ok[input.len()]
    }

    /// The reference atoms of policy text where `V` stands for the variable
    /// `${aws:username}`, whose value `var` is literal text.
    fn reference_atoms(p: &str, var: &str) -> Vec<Ref> {
        let mut out = Vec::new();
        for c in p.chars() {
            match c {
                '*' => out.push(Ref::Star),
                '?' => out.push(Ref::One),
                'V' => out.extend(var.chars().map(Ref::Char)),
                c => out.push(Ref::Char(c)),
            }
        }
        out
    }

    fn compile_with_var(p: &str, fold: bool) -> Pattern {
        let text = p.replace('V', "${aws:username}");
        let mut vars = Vec::new();
        Pattern::compile(&text, Wildcards::On, fold, true, &mut vars)
    }

    #[test]
    fn segments_anchor_and_search_in_order() {
        assert!(m("ab*?*?*cd", "abxycd"));
        assert!(!m("ab*?*?*cd", "abxcd"));
        assert!(m("a?*b?", "aéxbé"));
        assert!(!m("?a", "a"));
        assert!(m("*a?a*", "xxaéa"));
        // The suffix may not overlap the prefix.
        assert!(!m("aba*aba", "ababa"));
        assert!(m("aba*aba", "abaaba"));
        // KMP needs its failure table here: the first try fails mid-way.
        assert!(m("*aab*", "aaab"));
        assert!(m("x*${aws:username}?*", "xxalice!"));
        assert!(!m("x*${aws:username}?*", "xxalice"));
        assert!(m("*${aws:username}*", "aaaalicea"));
    }

    #[test]
    fn long_variable_values_match_nothing() {
        let mut vars = Vec::new();
        let p = Pattern::compile("*${aws:username}*", Wildcards::On, false, true, &mut vars);
        let at_cap = "a".repeat(MAX_VARIABLE_VALUE_LEN);
        let over = "a".repeat(MAX_VARIABLE_VALUE_LEN + 1);
        let input = "a".repeat(MAX_VARIABLE_VALUE_LEN + 10);
        assert!(p.matches(&input, &|_| Some(at_cap.as_str())));
        assert!(!p.matches(&input, &|_| Some(over.as_str())));
        // Also for an exact (wildcard-free) comparison.
        let p = Pattern::compile("${aws:username}", Wildcards::Off, false, true, &mut vars);
        assert!(p.matches(&at_cap, &|_| Some(at_cap.as_str())));
        assert!(!p.matches(&over, &|_| Some(over.as_str())));
    }

    #[test]
    fn literal_prefix_for_the_index() {
        let lp = |p: &str| {
            let mut vars = Vec::new();
            Pattern::compile(p, Wildcards::On, false, true, &mut vars)
                .literal_prefix()
                .to_owned()
        };
        assert_eq!(lp("arn:aws:s3:::b/*"), "arn:aws:s3:::b/");
        assert_eq!(lp("arn:aws:s3:::b/${aws:username}"), "arn:aws:s3:::b/");
        assert_eq!(lp("arn:aws:s3:::b"), "arn:aws:s3:::b");
        assert_eq!(lp("*b"), "");
        assert_eq!(lp("?b"), "");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2048, ..Default::default() })]
        /// The segment matcher agrees with the DP reference on longer random
        /// patterns and inputs over a small alphabet (so that partial
        /// matches, overlaps and repeated segments are frequent), with a
        /// variable whose value may itself contain `*` and `?` (literal
        /// there), with and without case folding.
        #[test]
        fn agrees_with_dp_reference(
            p in "[abAV*?é]{0,14}",
            s in "[abAé*?]{0,24}",
            var in "[ab*?é]{0,3}",
            fold in proptest::bool::ANY,
        ) {
            let compiled = compile_with_var(&p, fold);
            let mut atoms = reference_atoms(&p, &var);
            if fold {
                // The pattern's own text is folded; the variable's value is
                // compared case-insensitively too.
                for a in &mut atoms {
                    if let Ref::Char(c) = a {
                        *c = c.to_ascii_lowercase();
                    }
                }
            }
            let sc: Vec<char> = s.chars().collect();
            let expected = dp(&atoms, &sc, fold);
            proptest::prop_assert_eq!(
                compiled.matches(&s, &|_| Some(var.as_str())), expected,
                "pattern {:?} (V = {:?}, fold {}) vs {:?}", p, var, fold, s);
        }

        /// Inputs that are repetitions of the pattern's own pieces, where
        /// occurrences overlap and a naive first guess often fails.
        #[test]
        fn agrees_with_dp_reference_on_repetitive_inputs(
            p in "[ab*?]{0,10}",
            reps in proptest::collection::vec("(a|b|ab|aab|ba)", 0..12),
        ) {
            let s: String = reps.concat();
            let compiled = compile_with_var(&p, false);
            let sc: Vec<char> = s.chars().collect();
            proptest::prop_assert_eq!(
                compiled.matches(&s, &|_| None),
                dp(&reference_atoms(&p, ""), &sc, false),
                "{:?} vs {:?}", p, s);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]
        /// `?`-segments longer than one 64-bit state word (the carry between
        /// words), found in long inputs.
        #[test]
        fn long_question_segments_agree_with_dp_reference(
            seg in "[ab?é]{60,140}",
            s in "[abé]{100,300}",
            fold in proptest::bool::ANY,
        ) {
            for p in [format!("*{seg}*"), format!("a*{seg}*b*"), format!("*{seg}")] {
                let compiled = compile_with_var(&p, fold);
                let sc: Vec<char> = s.chars().collect();
                proptest::prop_assert_eq!(
                    compiled.matches(&s, &|_| None),
                    dp(&reference_atoms(&p, ""), &sc, fold),
                    "{:?} vs {:?}", p, s);
            }
        }
    }

    #[test]
    fn question_segment_longer_than_the_inline_state() {
        // 600 characters: the search state (10 words) lives on the heap.
        let seg: String = "a?".repeat(300);
        let hit = format!("xx{}yy", "ab".repeat(300));
        let miss = format!("xx{}yy", "ab".repeat(299));
        let p = format!("x*{seg}*y");
        assert!(m(&p, &hit));
        assert!(!m(&p, &miss));
        let sc: Vec<char> = hit.chars().collect();
        assert!(dp(&reference_atoms(&p, ""), &sc, false));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]
        /// Every fast path agrees with the reference matcher.
        #[test]
        fn agrees_with_reference(p in "[ab*?é]{0,8}", s in "[abé]{0,10}") {
            let mut vars = Vec::new();
            let compiled = Pattern::compile(&p, Wildcards::On, false, false, &mut vars);
            let pc: Vec<char> = p.chars().collect();
            let sc: Vec<char> = s.chars().collect();
            proptest::prop_assert_eq!(compiled.matches(&s, &|_| None), reference(&pc, &sc), "{} vs {}", p, s);
        }
    }
}
