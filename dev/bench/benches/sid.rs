//! `Sid` (`src/sid.rs`): parsing the string form, printing it, reading the binary form.
//!
//! **Baseline**: a naive codec over the same text or bytes, into a plain
//! `(authority, [u32; 15], count)`: split on `-` and parse each number; print each number;
//! check the revision and length of the bytes and read them. It is laxer than `Sid` (no
//! lower-case `s-`, no hexadecimal authority, leading zeros accepted, no limits beyond the
//! array's), so the ratio is what the strict parser (T-2) costs over the loop anyone would
//! write. A reader choosing between `Sid` and their own parsing needs exactly that.
//!
//! ```sh
//! cargo bench -p bits-helper-token-bench --bench sid -- --warm-up-time 1 --measurement-time 2
//! ```

use bits_helper_token::*;
use criterion::{Criterion, black_box, criterion_group, criterion_main};
use std::fmt::Write;

// ---- the baseline: a naive codec ------------------------------------------------------

fn baseline_parse(s: &str) -> Option<(u64, [u32; 15], usize)> {
    let rest = s.strip_prefix("S-1-")?;
    let mut parts = rest.split('-');
    let authority: u64 = parts.next()?.parse().ok()?;
    let mut subs = [0u32; 15];
    let mut n = 0;
    for p in parts {
        *subs.get_mut(n)? = p.parse().ok()?;
        n += 1;
    }
    (n > 0).then_some((authority, subs, n))
}

fn baseline_from_bytes(b: &[u8]) -> Option<(u64, [u32; 15], usize)> {
    let n = usize::from(*b.get(1)?);
    if b.len() != 8 + 4 * n || b[0] != 1 || n == 0 || n > 15 {
        return None;
    }
    let authority = b[2..8].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x));
    let mut subs = [0u32; 15];
    for (i, c) in b[8..].chunks_exact(4).enumerate() {
        subs[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Some((authority, subs, n))
}

// ---- benches ---------------------------------------------------------------------------

fn sids(c: &mut Criterion) {
    let long = "S-1-5-21-1004336348-1177238915-682003330-1001";
    let parsed: Sid = long.parse().unwrap();
    let bytes = parsed.to_bytes();
    // Both read the same SID from both forms.
    let same = (5, parsed.sub_authorities().to_vec());
    for got in [baseline_parse(long), baseline_from_bytes(&bytes)] {
        let (authority, subs, n) = got.expect("the baseline reads it");
        assert_eq!((authority, subs[..n].to_vec()), same);
    }

    let mut g = c.benchmark_group("sid/parse_domain_user");
    g.bench_function("model", |b| b.iter(|| black_box(long).parse::<Sid>()));
    g.bench_function("baseline", |b| b.iter(|| baseline_parse(black_box(long))));
    g.finish();

    let mut g = c.benchmark_group("sid/parse_short");
    g.bench_function("model", |b| b.iter(|| black_box("S-1-5-18").parse::<Sid>()));
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_parse(black_box("S-1-5-18")))
    });
    g.finish();

    let mut g = c.benchmark_group("sid/display_domain_user");
    let mut out = String::with_capacity(64);
    g.bench_function("model", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "{}", black_box(&parsed)).unwrap();
            out.len()
        })
    });
    let (authority, subs, n) = baseline_parse(long).unwrap();
    g.bench_function("baseline", |b| {
        b.iter(|| {
            out.clear();
            write!(out, "S-1-{}", black_box(authority)).unwrap();
            for s in &black_box(subs)[..n] {
                write!(out, "-{s}").unwrap();
            }
            out.len()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sid/from_bytes_domain_user");
    g.bench_function("model", |b| {
        b.iter(|| Sid::from_bytes(black_box(&bytes[..])))
    });
    g.bench_function("baseline", |b| {
        b.iter(|| baseline_from_bytes(black_box(&bytes[..])))
    });
    g.finish();
}

criterion_group!(benches, sids);
criterion_main!(benches);
