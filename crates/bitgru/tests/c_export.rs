//! The exported C99 source compiles warning-free with gcc and reproduces the Rust integer kernel
//! bit for bit (logits and argmax) on random genomes and sequences.
mod support;

use bitgru::io::c_export::{export_c, CSource};
use bitgru::model::argmax_i32;
use bitgru::synth::{random_model, random_sequences};
use bitgru::{BitRange, Calibration, Error, Genome, QuantGru, Scratch, N_GENES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The flags of the brief plus stricter ones, so that the generated code stays clean for
/// embedded toolchains that enable them.
const CFLAGS: &[&str] = &[
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O2",
    "-Wconversion",
    "-Wsign-conversion",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wvla",
    "-Wcast-qual",
    "-Wundef",
];

/// A unique temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "bitgru_c_export_{tag}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn prepared(seed: u64, i: usize, h: usize, c: usize, genome: &Genome) -> QuantGru {
    let m = random_model(seed, i, h, c);
    let cal_seqs = random_sequences(seed ^ 0xCA1, 48, 16, i);
    let refs: Vec<&[f32]> = cal_seqs.iter().map(|v| v.as_slice()).collect();
    let cal = Calibration::compute(&m, &refs).unwrap();
    QuantGru::prepare(&m, &cal, genome).unwrap()
}

/// Input code sequences: quantized N(0,1) features of varying length, features scaled up to
/// drive the input quantizer and the gates into saturation, uniform random codes over the
/// full i8 range, constant extreme codes, and one empty sequence.
fn inputs(q: &QuantGru, seed: u64, n: usize) -> Vec<Vec<i8>> {
    let i = q.input_size;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![Vec::new(), vec![127; 50 * i], vec![-128; 50 * i]];
    let mut alt = Vec::new();
    for t in 0..40 {
        alt.extend(std::iter::repeat_n(if t % 2 == 0 { 127 } else { -128 }, i));
    }
    out.push(alt);
    let mut k = 0u64;
    while out.len() < n {
        k += 1;
        let steps = rng.gen_range(1..=40);
        match k % 4 {
            0 | 1 => {
                let x = &random_sequences(seed.wrapping_add(k), 1, steps, i)[0];
                out.push(q.quantize_input(x).unwrap());
            }
            2 => {
                let x: Vec<f32> = random_sequences(seed.wrapping_add(k), 1, steps, i)[0]
                    .iter()
                    .map(|v| v * 6.0)
                    .collect();
                out.push(q.quantize_input(&x).unwrap());
            }
            _ => out.push((0..steps * i).map(|_| rng.gen::<i8>()).collect()),
        }
    }
    out
}

/// Rust reference: logits (the zero state's head for an empty sequence) and argmax.
fn rust_logits(q: &QuantGru, x: &[i8], s: &mut Scratch) -> Vec<i32> {
    if x.is_empty() {
        q.head_logits(&vec![0i8; q.hidden])
    } else {
        q.run(x, s).unwrap()
    }
}

/// Reads `n`, then per sequence `steps` and `steps * INPUT_SIZE` codes; runs the model with
/// `_run` and with `_reset`/`_step`/`_logits` (must agree), prints the logits and the argmax.
fn harness(p: &str) -> String {
    let up = p.to_ascii_uppercase();
    format!(
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "{p}.h"

int main(int argc, char **argv)
{{
    FILE *f;
    long n, k, t, steps, v;
    size_t c, len;
    int8_t *x;
    int32_t a[{up}_CLASSES], b[{up}_CLASSES];
    {p}_state_t st;
    if (argc != 2) {{
        return 2;
    }}
    f = fopen(argv[1], "r");
    if (f == NULL || fscanf(f, "%ld", &n) != 1) {{
        return 2;
    }}
    printf("genome %s\n", {p}_genome);
    for (k = 0; k < n; ++k) {{
        if (fscanf(f, "%ld", &steps) != 1 || steps < 0) {{
            return 2;
        }}
        len = (size_t)steps * {up}_INPUT_SIZE;
        x = (int8_t *)malloc(len + 1u);
        if (x == NULL) {{
            return 2;
        }}
        for (c = 0; c < len; ++c) {{
            if (fscanf(f, "%ld", &v) != 1 || v < -128 || v > 127) {{
                return 2;
            }}
            x[c] = (int8_t)v;
        }}
        {p}_run(x, (size_t)steps, a);
        {p}_reset(&st);
        for (t = 0; t < steps; ++t) {{
            {p}_step(&st, &x[(size_t)t * {up}_INPUT_SIZE]);
        }}
        {p}_logits(&st, b);
        if (memcmp(a, b, sizeof a) != 0) {{
            fprintf(stderr, "run and step disagree on sequence %ld\n", k);
            return 3;
        }}
        for (c = 0; c < {up}_CLASSES; ++c) {{
            printf("%ld ", (long)a[c]);
        }}
        printf("%lu\n", (unsigned long){p}_argmax(a));
        free(x);
    }}
    fclose(f);
    return 0;
}}
"#
    )
}

fn write_sources(dir: &Path, src: &CSource) {
    std::fs::write(dir.join(&src.header_name), &src.header).unwrap();
    std::fs::write(dir.join(&src.source_name), &src.source).unwrap();
}

/// Exports `q`, compiles it with the harness and checks the C logits against the Rust kernel.
fn check_against_rust(q: &QuantGru, prefix: &str, seed: u64, n_seq: usize) {
    let src = export_c(q, prefix).unwrap();
    let tmp = TempDir::new(prefix);
    let dir = tmp.path();
    write_sources(dir, &src);
    std::fs::write(dir.join("harness.c"), harness(prefix)).unwrap();
    let exe = dir.join("harness");
    let out = Command::new("gcc")
        .args(CFLAGS)
        .arg("-o")
        .arg(&exe)
        .arg(dir.join("harness.c"))
        .arg(dir.join(&src.source_name))
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc failed for genome {}:\n{}",
        q.genome,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "gcc printed diagnostics for genome {}:\n{}",
        q.genome,
        String::from_utf8_lossy(&out.stderr)
    );

    let seqs = inputs(q, seed, n_seq);
    let mut text = format!("{}\n", seqs.len());
    for x in &seqs {
        text.push_str(&(x.len() / q.input_size).to_string());
        for v in x {
            text.push(' ');
            text.push_str(&v.to_string());
        }
        text.push('\n');
    }
    let input_path = dir.join("input.txt");
    std::fs::write(&input_path, text).unwrap();
    let run = Command::new(&exe)
        .arg(&input_path)
        .output()
        .expect("run harness");
    assert!(
        run.status.success(),
        "harness failed ({:?}) for genome {}: {}",
        run.status,
        q.genome,
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(format!("genome {}", q.genome).as_str()));

    let mut s = Scratch::for_model(q);
    let mut n_checked = 0;
    for (k, x) in seqs.iter().enumerate() {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("missing output line {k}"));
        let nums: Vec<i64> = line
            .split_whitespace()
            .map(|t| t.parse().unwrap())
            .collect();
        assert_eq!(nums.len(), q.classes + 1, "line {k}: {line:?}");
        let want = rust_logits(q, x, &mut s);
        let got: Vec<i32> = nums[..q.classes].iter().map(|&v| v as i32).collect();
        assert_eq!(
            got,
            want,
            "genome {}: logits differ on sequence {k} ({} steps)",
            q.genome,
            x.len() / q.input_size
        );
        assert_eq!(
            nums[q.classes] as usize,
            argmax_i32(&want),
            "argmax, seq {k}"
        );
        n_checked += 1;
    }
    assert_eq!(lines.next(), None, "extra output");
    assert!(n_checked >= 100);
}

#[test]
fn c_matches_rust_uniform_genomes() {
    if !support::require_gcc("c_matches_rust_uniform_genomes") {
        return;
    }
    for (k, bits) in [8u8, 2, 4].into_iter().enumerate() {
        let g = Genome::uniform(bits).unwrap();
        let q = prepared(11 + k as u64, 6, 16, 4, &g);
        check_against_rust(&q, &format!("gru_u{bits}"), 100 + k as u64, 120);
    }
}

#[test]
fn c_matches_rust_mixed_genomes() {
    if !support::require_gcc("c_matches_rust_mixed_genomes") {
        return;
    }
    let fixed = [
        "22222288888888888",
        "88888822222222222",
        "84268426842684268",
    ];
    for (k, s) in fixed.iter().enumerate() {
        let g: Genome = s.parse().unwrap();
        let q = prepared(21 + k as u64, 13, 32, 10, &g);
        check_against_rust(&q, &format!("mixed{k}"), 200 + k as u64, 110);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0xC0DE);
    for k in 0..4 {
        let mut bits = [0u8; N_GENES];
        for b in &mut bits {
            *b = rng.gen_range(2..=8);
        }
        let g = Genome::new(bits, BitRange::FULL).unwrap();
        let (i, h, c) = [(5, 8, 3), (10, 24, 6), (3, 12, 2), (16, 20, 5)][k];
        let q = prepared(31 + k as u64, i, h, c, &g);
        check_against_rust(&q, &format!("Rand_{k}"), 300 + k as u64, 100);
    }
}

#[test]
fn c_matches_rust_tiny_shapes() {
    if !support::require_gcc("c_matches_rust_tiny_shapes") {
        return;
    }
    let g: Genome = "37528364728364725".parse().unwrap();
    for (k, (i, h, c)) in [(1, 1, 1), (1, 1, 2), (2, 3, 1)].into_iter().enumerate() {
        let q = prepared(41 + k as u64, i, h, c, &g);
        check_against_rust(&q, &format!("tiny{k}"), 400 + k as u64, 100);
    }
}

/// A harness that includes the generated `.c` (so that its `static` helpers are visible) and
/// evaluates the rounding, rescale and saturation primitives on operands read from a file.
fn primitives_harness(p: &str) -> String {
    format!(
        r#"#include <stdio.h>
#include "{p}.c"

int main(int argc, char **argv)
{{
    FILE *f;
    char op;
    long long a, b, c, d;
    unsigned sh;
    if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {{
        return 2;
    }}
    while (fscanf(f, " %c", &op) == 1) {{
        if (op == 'r') {{
            if (fscanf(f, "%lld %u", &a, &sh) != 2) {{
                return 2;
            }}
            printf("%lld\n", (long long){p}_round_shift((int64_t)a, (uint8_t)sh));
        }} else if (op == 'm') {{
            {p}_mult_t m;
            if (fscanf(f, "%lld %lld %u", &a, &b, &sh) != 3) {{
                return 2;
            }}
            m.mult = (int32_t)b;
            m.shift = (uint8_t)sh;
            printf("%lld\n", (long long){p}_apply(&m, (int64_t)a));
        }} else if (op == 'd') {{
            {p}_dual_t m;
            if (fscanf(f, "%lld %lld %lld %lld %u", &a, &b, &c, &d, &sh) != 5) {{
                return 2;
            }}
            m.ma = (int64_t)c;
            m.mb = (int64_t)d;
            m.shift = (uint8_t)sh;
            printf("%lld\n", (long long){p}_apply2(&m, (int64_t)a, (int64_t)b));
        }} else if (op == 's') {{
            if (fscanf(f, "%lld %lld %lld", &a, &b, &c) != 3) {{
                return 2;
            }}
            printf("%ld\n", (long){p}_sat((int64_t)a, (int32_t)b, (int32_t)c));
        }} else {{
            return 2;
        }}
    }}
    fclose(f);
    return 0;
}}
"#
    )
}

/// The C rounding shift (ties away from zero, negative operands included), the multipliers
/// and the saturations agree with `bitgru::fixed` on random operands and on exact ties. The
/// end-to-end tests rarely hit an exact tie (the mantissas are ~2^30), so ties are checked here.
#[test]
fn c_primitives_match_rust() {
    use bitgru::fixed::{round_shift, sat_signed, sat_unsigned, DualMultiplier, Multiplier};
    if !support::require_gcc("c_primitives_match_rust") {
        return;
    }
    let q = prepared(3, 4, 5, 2, &Genome::uniform(6).unwrap());
    let p = "prim";
    let src = export_c(&q, p).unwrap();
    let tmp = TempDir::new(p);
    let dir = tmp.path();
    write_sources(dir, &src);
    std::fs::write(dir.join("prim_main.c"), primitives_harness(p)).unwrap();
    let exe = dir.join("prim_main");
    let out = Command::new("gcc")
        .args(CFLAGS)
        .arg("-o")
        .arg(&exe)
        .arg(dir.join("prim_main.c"))
        .output()
        .expect("run gcc");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    let (mut cmds, mut want) = (String::new(), Vec::<i64>::new());
    let mut ties = 0;
    for k in 0..20_000 {
        let shift: u32 = if k % 2 == 0 {
            rng.gen_range(0..=62)
        } else {
            rng.gen_range(0..=6)
        };
        // round_shift: random values and exact ties k·2^s ± 2^(s−1), both signs.
        // (|x| + 2^(s−1) stays below 2^63, the domain of the Rust function.)
        let rs = shift.min(61);
        let x: i64 = match k % 3 {
            0 => rng.gen_range(-(1i64 << 61)..(1i64 << 61)),
            1 => rng.gen_range(-1000..=1000),
            _ if rs > 0 => {
                ties += 1;
                let lim = 1i64 << (61 - rs).min(10);
                let m: i64 = rng.gen_range(-lim..lim);
                let half = 1i64 << (rs - 1);
                (m << rs) + if rng.gen() { half } else { -half }
            }
            _ => rng.gen_range(-5..=5),
        };
        cmds.push_str(&format!("r {x} {rs}\n"));
        want.push(round_shift(x, rs));

        // Multiplier: |x| < 2^31, mult in [0, 2^31); small mults and shifts make ties common.
        let m = Multiplier {
            mult: if k % 2 == 0 {
                rng.gen_range(0..i32::MAX)
            } else {
                rng.gen_range(0..64)
            },
            shift,
        };
        let x: i64 = rng.gen_range(-(1i64 << 31) + 1..(1i64 << 31));
        cmds.push_str(&format!("m {x} {} {}\n", m.mult, m.shift));
        want.push(m.apply(x));

        // DualMultiplier: 8-bit codes, mantissas below 2^40.
        let d = DualMultiplier {
            mult_a: if k % 2 == 0 {
                rng.gen_range(0..1i64 << 40)
            } else {
                rng.gen_range(0..64)
            },
            mult_b: if k % 2 == 0 {
                rng.gen_range(0..1i64 << 40)
            } else {
                rng.gen_range(0..64)
            },
            shift,
        };
        let (a, b): (i64, i64) = (rng.gen_range(-128..=127), rng.gen_range(-128..=127));
        cmds.push_str(&format!(
            "d {a} {b} {} {} {}\n",
            d.mult_a, d.mult_b, d.shift
        ));
        want.push(d.apply(a, b));

        // Saturations at 2..=8 bits.
        let bits: u8 = rng.gen_range(2..=8);
        let v: i64 = rng.gen_range(-(1i64 << 40)..(1i64 << 40)) >> rng.gen_range(0..40);
        let hi = (1i64 << (bits - 1)) - 1;
        cmds.push_str(&format!("s {v} {} {hi}\n", -hi - 1));
        want.push(sat_signed(v, bits) as i64);
        cmds.push_str(&format!("s {v} 0 {}\n", (1i64 << bits) - 1));
        want.push(sat_unsigned(v, bits) as i64);
    }
    assert!(ties > 1000);
    let input = dir.join("prim.txt");
    std::fs::write(&input, cmds).unwrap();
    let run = Command::new(&exe)
        .arg(&input)
        .output()
        .expect("run primitives");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got: Vec<i64> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "primitive #{k} differs");
    }
}

/// Identifier-like tokens of a C text (comments included).
fn tokens(text: &str) -> Vec<&str> {
    text.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn sources_are_integer_only_and_self_contained() {
    for g in [
        "88888888888888888",
        "22222222222222222",
        "84268426842684268",
    ] {
        let g: Genome = g.parse().unwrap();
        let q = prepared(5, 7, 9, 3, &g);
        let src = export_c(&q, "kws").unwrap();
        assert_eq!(src.header_name, "kws.h");
        assert_eq!(src.source_name, "kws.c");
        for (name, text) in [("header", &src.header), ("source", &src.source)] {
            let toks = tokens(text);
            for banned in ["float", "double", "malloc", "calloc", "free", "math"] {
                assert!(
                    !toks.contains(&banned),
                    "{name} contains the token {banned:?}"
                );
            }
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("#include"))
            {
                let inc = line.trim_start().trim_start_matches("#include").trim();
                assert!(
                    ["<stdint.h>", "<stddef.h>", "<string.h>", "\"kws.h\""].contains(&inc),
                    "{name} includes {inc}"
                );
            }
            assert!(text.contains(&g.to_string()), "{name} lacks the genome");
        }
        for decl in [
            "void kws_reset(kws_state_t *s);",
            "void kws_step(kws_state_t *s, const int8_t x[KWS_INPUT_SIZE]);",
            "void kws_run(const int8_t *x, size_t steps, int32_t logits[KWS_CLASSES]);",
            "void kws_logits(const kws_state_t *s, int32_t out[KWS_CLASSES]);",
            "size_t kws_argmax(const int32_t logits[KWS_CLASSES]);",
            "#define KWS_INPUT_SIZE 7",
            "#define KWS_HIDDEN 9",
            "#define KWS_CLASSES 3",
            "int8_t h[KWS_HIDDEN];",
        ] {
            assert!(src.header.contains(decl), "header lacks {decl:?}");
        }
        for s in q.input_scales.iter() {
            assert!(src.header.contains(&format!("{s:e}")), "input scale {s}");
        }
        assert!(src.source.contains(&format!(
            "const char kws_genome[KWS_N_GENES + 1] = \"{g}\";"
        )));
        // Deterministic output.
        assert_eq!(export_c(&q, "kws").unwrap(), src);
    }
}

#[test]
fn bad_prefix_is_rejected() {
    let q = prepared(1, 3, 4, 2, &Genome::uniform(8).unwrap());
    let long = "a".repeat(200);
    for bad in [
        "",
        "1model",
        "my-model",
        "my model",
        "model.v2",
        "int",
        "static",
        "_hidden",
        "modèle",
        "a/b",
        long.as_str(),
    ] {
        match export_c(&q, bad) {
            Err(Error::Invalid { what, .. }) => assert_eq!(what, "C prefix", "{bad:?}"),
            other => panic!("prefix {bad:?} should be rejected, got {other:?}"),
        }
    }
    for ok in ["m", "kws_v2", "Model_8bit"] {
        assert!(export_c(&q, ok).is_ok(), "{ok}");
    }
}
