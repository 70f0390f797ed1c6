//! The worst policy and request iamd accepts, timed per evaluation.
//!
//! `cargo bench -p iam-evaluator --bench adversarial` (std only, no
//! criterion: it must also build on old commits for a before/after figure).
//!
//! The policy is a role inline policy at the 10,240-character quota (counted
//! without whitespace, as AWS does), made of the shapes that are expensive
//! for wildcard matching: long `?`-segments between stars (`*a?a?…a?b*`),
//! long literal segments (`*aa…ab*?`), `*?*?*…` runs, and variables that
//! expand to the request's 256-character tag values (`*${aws:RequestTag/…}*?`),
//! against inputs that are long runs of `a`, so that a backtracking glob
//! compares almost a whole segment at every position. No pattern matches,
//! so every one is tried. The request carries 50 tags of
//! 128-character keys and 256-character values (`aws:TagKeys` and
//! `aws:RequestTag/…`) and a 2,048-character resource ARN.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::DateTime;
use iam_domain::policy::PolicyDocument;
use iam_evaluator::{Authorizer, CompiledPolicy, Context, PolicySet, Principal, Request};

/// Role inline policy quota (characters other than whitespace).
const LIMIT: usize = 10_240;

fn size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

fn tag_key(i: usize) -> String {
    let head = format!("k{i:02}-");
    format!("{head}{}", "a".repeat(128 - head.len()))
}

fn tag_value(i: usize) -> String {
    // Long runs of `a` make each tried position of a backtracking glob
    // compare almost the whole value.
    format!("{}{}", "a".repeat(253), i + 100)
}

/// `*a?a?…a?b*`: a `?`-segment of `2k + 1` characters.
fn question_segment(prefix: &str, k: usize) -> String {
    format!("{prefix}*{}b*", "a?".repeat(k))
}

/// `*aa…ab*?`: a long literal segment (the trailing `?` kept the old
/// matcher off its literal-only fast path).
fn literal_segment(prefix: &str, k: usize) -> String {
    format!("{prefix}*{}b*?", "a".repeat(k))
}

/// `*?*?*…*?b*?`: many short segments.
fn star_question(prefix: &str, k: usize) -> String {
    format!("{prefix}{}b*?", "*?".repeat(k))
}

fn policy() -> String {
    let arn = "arn:aws:s3:::";
    // Candidate patterns per statement; added round-robin until the quota.
    let resources: Vec<String> = (0..)
        .map(|i| match i % 3 {
            0 => question_segment(arn, 120),
            1 => literal_segment(arn, 240),
            _ => star_question(arn, 120),
        })
        .take(40)
        .collect();
    let tag_keys: Vec<String> = (0..)
        .map(|i| match i % 3 {
            0 => question_segment("", 40),
            1 => literal_segment("", 80),
            _ => star_question("", 40),
        })
        .take(40)
        .collect();
    let with_vars: Vec<String> = (0..40)
        .map(|i| format!("*${{aws:RequestTag/{}}}*?", tag_key(i % 50)))
        .collect();
    let render = |r: &[String], t: &[String], v: &[String]| -> String {
        let q = |xs: &[String]| serde_json::to_string(xs).unwrap_or_default();
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
{{"Effect":"Allow","Action":"s3:*","Resource":{}}},
{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"ForAnyValue:StringLike":{{"aws:TagKeys":{}}}}}}},
{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"ForAnyValue:StringLike":{{"aws:TagKeys":{}}}}}}}]}}"#,
            q(r),
            q(t),
            q(v)
        )
    };
    let (mut r, mut t, mut v) = (1, 1, 1);
    loop {
        let mut grew = false;
        for which in 0..3 {
            let (nr, nt, nv) = match which {
                0 => (r + 1, t, v),
                1 => (r, t + 1, v),
                _ => (r, t, v + 1),
            };
            if nr > resources.len() || nt > tag_keys.len() || nv > with_vars.len() {
                continue;
            }
            if size(&render(&resources[..nr], &tag_keys[..nt], &with_vars[..nv])) <= LIMIT {
                (r, t, v) = (nr, nt, nv);
                grew = true;
            }
        }
        if !grew {
            return render(&resources[..r], &tag_keys[..t], &with_vars[..v]);
        }
    }
}

fn request() -> Request {
    let mut ctx = Context::new();
    let mut keys = Vec::new();
    for i in 0..50 {
        ctx.insert(&format!("aws:RequestTag/{}", tag_key(i)), tag_value(i));
        keys.push(tag_key(i));
    }
    ctx.insert_many("aws:TagKeys", keys);
    let arn = format!("arn:aws:s3:::{}", "a".repeat(2048 - "arn:aws:s3:::".len()));
    let now = DateTime::from_timestamp(1_768_478_400, 0).unwrap_or_default();
    Request::new(
        Principal::parse("arn:aws:iam::111122223333:role/r"),
        "s3:PutObject",
        &arn,
        None,
        ctx,
        now,
    )
}

/// An ordinary policy set for comparison: 100 policies in the shape of the
/// `iam-bench` wildcard fixture (`arn:aws:s3:::*bucket-N/*`, which defeats
/// the resource index, plus a variable and a `?`), and a request that the
/// last one allows.
fn ordinary() -> (Authorizer, Request) {
    let policies = (0..100)
        .map(|i| {
            let json = format!(
                r#"{{"Version":"2012-10-17","Statement":[
{{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::*bucket-{i}","arn:aws:s3:::*bucket-{i}/*"]}},
{{"Effect":"Allow","Action":"s3:Put*","Resource":"arn:aws:s3:::*bucket-{i}/home/${{aws:username}}/*"}},
{{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::*bucket-{i}/r??orts/*"}}]}}"#
            );
            CompiledPolicy::compile(&PolicyDocument::parse(&json).expect("parses"))
        })
        .collect();
    let now = DateTime::from_timestamp(1_768_478_400, 0).unwrap_or_default();
    let req = Request::new(
        Principal::parse("arn:aws:iam::111122223333:user/alice"),
        "s3:GetObject",
        "arn:aws:s3:::bucket-99/reports/2026.csv",
        None,
        Context::new(),
        now,
    );
    (Authorizer::new(PolicySet::new(policies)), req)
}

/// Times `auth` on `req` for at least 2 s (and 3 samples); each sample is a
/// batch of evaluations lasting about a millisecond, so the clock's
/// resolution does not matter.
fn time(label: &str, auth: &Authorizer, req: &Request) {
    let mut buf = Vec::with_capacity(64);
    let t = Instant::now();
    let outcome = auth.evaluate_into(req, &mut buf);
    let once = t.elapsed().max(Duration::from_nanos(1));
    println!("{label}: outcome {}", outcome.as_str());
    let batch = u32::try_from((1_000_000 / once.as_nanos()).clamp(1, 100_000)).unwrap_or(1);
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || start.elapsed() < Duration::from_secs(2) {
        let t = Instant::now();
        for _ in 0..batch {
            black_box(auth.evaluate_into(black_box(req), &mut buf));
        }
        times.push(t.elapsed() / batch);
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1);
    println!(
        "{label}: {} samples of {batch}, per evaluation min {:?}, median {:?}, mean {:?}",
        times.len(),
        times[0],
        times[times.len() / 2],
        mean
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    let json = policy();
    let doc = PolicyDocument::parse(&json).expect("the adversarial policy parses");
    println!(
        "policy: {} characters without whitespace ({} raw), {} statements",
        size(&json),
        json.len(),
        doc.statements().len()
    );
    let auth = Authorizer::new(PolicySet::new(vec![CompiledPolicy::compile(&doc)]));
    time("adversarial", &auth, &request());
    let (auth, req) = ordinary();
    time("ordinary (100 wildcard policies)", &auth, &req);
}
