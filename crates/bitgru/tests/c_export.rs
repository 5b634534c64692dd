//! The exported C99 source compiles warning-free with gcc and reproduces the Rust integer kernel
//! bit for bit (logits and argmax) on random genomes and sequences.
mod support;

use bitgru::io::c_export::{export_c, export_c_with, CExportOptions, CSource, Storage};
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

/// Rust reference: the logits, or `None` for an empty sequence, which the Rust kernel refuses
/// (issue 10: the C `_run` refuses it too, returning -1 and leaving the logits untouched).
fn rust_logits(q: &QuantGru, x: &[i8], s: &mut Scratch) -> Option<Vec<i32>> {
    if x.is_empty() {
        let e = q.run(x, s).unwrap_err().to_string();
        assert!(e.contains("positive multiple"), "{e}");
        None
    } else {
        Some(q.run(x, s).unwrap())
    }
}

/// A function `check_<p>(FILE *f)` that reads `n`, then per sequence `steps` and
/// `steps * INPUT_SIZE` codes; runs the model with `_run` and with `_reset`/`_step`/`_logits`
/// (must agree) and prints the logits and the argmax, or `empty` when `_run` refuses a
/// zero-length sequence without touching the logits.
fn harness_fn(p: &str) -> String {
    let up = p.to_ascii_uppercase();
    format!(
        r#"
static int check_{p}(FILE *f)
{{
    long n, k, t, steps, v;
    size_t c, len;
    int8_t *x;
    int32_t a[{up}_CLASSES], b[{up}_CLASSES];
    {p}_state_t st;
    if (fscanf(f, "%ld", &n) != 1) {{
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
        memset(a, 0x5A, sizeof a);
        memset(b, 0x5A, sizeof b);
        if ({p}_run(x, (size_t)steps, a) != 0) {{
            free(x);
            if (steps != 0 || memcmp(a, b, sizeof a) != 0) {{
                fprintf(stderr, "run refused or wrote logits on sequence %ld\n", k);
                return 3;
            }}
            printf("empty\n");
            continue;
        }}
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
    return 0;
}}
"#
    )
}

fn write_sources(dir: &Path, src: &CSource) {
    std::fs::write(dir.join(&src.header_name), &src.header).unwrap();
    std::fs::write(dir.join(&src.source_name), &src.source).unwrap();
}

/// One model of a multi-model check.
struct Case {
    q: QuantGru,
    prefix: String,
    storage: Storage,
    seed: u64,
    n_seq: usize,
    /// Sequences checked besides the generated ones.
    extra: Vec<Vec<i8>>,
}

impl Case {
    fn new(q: QuantGru, prefix: &str, storage: Storage, seed: u64, n_seq: usize) -> Case {
        Case {
            q,
            prefix: prefix.into(),
            storage,
            seed,
            n_seq,
            extra: Vec::new(),
        }
    }
}

/// Runs `cmd` and returns its stdout; panics with stderr on failure or on any diagnostic.
fn run_clean(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{what} failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Symbol sizes of the read-only data of an object file (`nm -S`: types r / R).
fn rodata_symbols(obj: &Path) -> Vec<(String, u64)> {
    let out = run_clean(Command::new("nm").arg("-S").arg(obj), "nm");
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && (f[2] == "r" || f[2] == "R"))
                .then(|| (f[3].to_string(), u64::from_str_radix(f[1], 16).unwrap()))
        })
        .collect()
}

/// Size of the `.rodata*` sections of an object file (`size -A`).
fn rodata_section(obj: &Path) -> u64 {
    let out = run_clean(Command::new("size").arg("-A").arg(obj), "size");
    out.lines()
        .filter(|l| l.starts_with(".rodata"))
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Exports every case, compiles them all with one harness in a single gcc invocation, checks
/// the C logits against the Rust kernel and the compiled read-only data against the stated
/// storage sizes.
fn check_against_rust(cases: &[Case]) {
    let tmp = TempDir::new(&cases[0].prefix);
    let dir = tmp.path();
    let mut main = String::from("#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n");
    let mut sources = Vec::new();
    for c in cases {
        let opt = CExportOptions {
            storage: c.storage,
            class_names: vec![],
        };
        let src = export_c_with(&c.q, &c.prefix, &opt).unwrap();
        write_sources(dir, &src);
        sources.push(src.source_name.clone());
        main.push_str(&format!("#include \"{}\"\n", src.header_name));
    }
    for c in cases {
        main.push_str(&harness_fn(&c.prefix));
    }
    main.push_str(
        "\nint main(int argc, char **argv)\n{\n    FILE *f;\n    int r;\n    \
         if (argc != 2 || (f = fopen(argv[1], \"r\")) == NULL) {\n        return 2;\n    }\n",
    );
    for c in cases {
        main.push_str(&format!(
            "    if ((r = check_{}(f)) != 0) {{\n        return r;\n    }}\n",
            c.prefix
        ));
    }
    main.push_str("    fclose(f);\n    return 0;\n}\n");
    std::fs::write(dir.join("harness.c"), main).unwrap();
    sources.push("harness.c".into());
    // One gcc for every translation unit (objects kept for the size check), one link.
    run_clean(
        Command::new("gcc")
            .current_dir(dir)
            .args(CFLAGS)
            .arg("-c")
            .args(&sources),
        "gcc -c",
    );
    let objects: Vec<String> = sources.iter().map(|s| s.replace(".c", ".o")).collect();
    run_clean(
        Command::new("gcc")
            .current_dir(dir)
            .arg("-o")
            .arg("harness")
            .args(&objects),
        "gcc link",
    );

    // Read-only data: every tensor array has exactly the stated size, the whole is at most the
    // stated read-only data (gcc may fold the small multiplier tables into code) plus
    // alignment, and the packed tensors are the size metric's stored part plus the tail
    // padding of each bit stream.
    for (c, obj) in cases.iter().zip(&objects) {
        let st = bitgru::size::storage(&c.q.genome, c.q.dims());
        let syms = rodata_symbols(&dir.join(obj));
        // Tensor arrays in the order of `bitgru::size::tensors`: each has exactly its stated
        // size; gcc may fold only a tiny table (at most 16 bytes) into code.
        let names = [
            "w_ir", "b_ir", "w_iz", "b_iz", "w_in", "b_in", "w_hr", "b_hr", "w_hz", "b_hz", "w_hn",
            "b_hn", "lut_r", "lut_z", "lut_n", "w_fc", "b_fc",
        ];
        let mut want_tensors = 0;
        for (name, (n, bits)) in names
            .iter()
            .zip(bitgru::size::tensors(&c.q.genome, c.q.dims()))
        {
            let want = match c.storage {
                Storage::Packed => (n * bits as u64).div_ceil(8),
                Storage::Unpacked => n * (bits as u64).div_ceil(8),
            };
            want_tensors += want;
            let sym = format!("{}_{name}", c.prefix);
            match syms.iter().find(|(s, _)| *s == sym) {
                Some((_, got)) => assert_eq!(*got, want, "{sym}: bytes"),
                None => assert!(want <= 16, "{sym} ({want} bytes) is missing"),
            }
        }
        let total: u64 = syms.iter().map(|(_, b)| b).sum();
        let want_total = match c.storage {
            Storage::Packed => st.c_rodata_packed,
            Storage::Unpacked => st.c_rodata_unpacked,
        };
        assert_eq!(want_tensors + bitgru::size::C_CONSTANT_BYTES, want_total);
        assert!(
            total <= want_total,
            "{}: {total} bytes of symbols, stated {want_total}",
            c.prefix
        );
        let section = rodata_section(&dir.join(obj));
        assert!(
            section >= total && section <= want_total + 32 * 16,
            "{}: .rodata {section} bytes, stated {want_total}",
            c.prefix
        );
        if c.storage == Storage::Packed {
            assert!(st.padding_bytes <= 9, "{}", c.prefix);
            assert_eq!(
                st.c_rodata_packed,
                st.metric_stored_bytes + st.padding_bytes + bitgru::size::C_CONSTANT_BYTES
            );
        }
    }

    let mut text = String::new();
    let all: Vec<Vec<Vec<i8>>> = cases
        .iter()
        .map(|c| {
            let mut v = inputs(&c.q, c.seed, c.n_seq);
            v.extend(c.extra.iter().cloned());
            v
        })
        .collect();
    for (c, seqs) in cases.iter().zip(&all) {
        text.push_str(&format!("{}\n", seqs.len()));
        for x in seqs {
            text.push_str(&(x.len() / c.q.input_size).to_string());
            for v in x {
                text.push(' ');
                text.push_str(&v.to_string());
            }
            text.push('\n');
        }
    }
    let input_path = dir.join("input.txt");
    std::fs::write(&input_path, text).unwrap();
    let stdout = run_clean(
        Command::new(dir.join("harness")).arg(&input_path),
        "harness",
    );
    let mut lines = stdout.lines();
    for (c, seqs) in cases.iter().zip(&all) {
        let q = &c.q;
        assert_eq!(lines.next(), Some(format!("genome {}", q.genome).as_str()));
        let mut s = Scratch::for_model(q);
        for (k, x) in seqs.iter().enumerate() {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("{}: missing output line {k}", c.prefix));
            let Some(want) = rust_logits(q, x, &mut s) else {
                assert_eq!(line, "empty", "{}: sequence {k}", c.prefix);
                continue;
            };
            let nums: Vec<i64> = line
                .split_whitespace()
                .map(|t| t.parse().unwrap())
                .collect();
            assert_eq!(nums.len(), q.classes + 1, "line {k}: {line:?}");
            let got: Vec<i32> = nums[..q.classes].iter().map(|&v| v as i32).collect();
            assert_eq!(
                got,
                want,
                "{} genome {} ({}): logits differ on sequence {k} ({} steps)",
                c.prefix,
                q.genome,
                c.storage.name(),
                x.len() / q.input_size
            );
            assert_eq!(
                nums[q.classes] as usize,
                argmax_i32(&want),
                "argmax, seq {k}"
            );
        }
    }
    assert_eq!(lines.next(), None, "extra output");
}

/// Every bit width in both storages (all-2 … all-8), plus tiny shapes: one gcc run.
#[test]
fn c_matches_rust_uniform_genomes_and_tiny_shapes() {
    if !support::require_gcc("c_matches_rust_uniform_genomes_and_tiny_shapes") {
        return;
    }
    let mut cases = Vec::new();
    for bits in 2u8..=8 {
        let g = Genome::uniform(bits).unwrap();
        let q = prepared(11 + bits as u64, 6, 16, 4, &g);
        for storage in [Storage::Packed, Storage::Unpacked] {
            let p = format!("u{bits}_{}", storage.name());
            cases.push(Case::new(q.clone(), &p, storage, 100 + bits as u64, 40));
        }
    }
    let g: Genome = "37528364728364725".parse().unwrap();
    for (k, (i, h, c)) in [(1, 1, 1), (1, 1, 2), (2, 3, 1)].into_iter().enumerate() {
        let q = prepared(41 + k as u64, i, h, c, &g);
        cases.push(Case::new(
            q,
            &format!("tiny{k}"),
            Storage::Packed,
            400 + k as u64,
            40,
        ));
    }
    check_against_rust(&cases);
}

/// Mixed genomes: fixed ones, a Latin square in which every gene takes every width 2..=8 once,
/// random ones, and the constructed tie case of the golden fixture; packed and unpacked.
#[test]
fn c_matches_rust_mixed_genomes() {
    if !support::require_gcc("c_matches_rust_mixed_genomes") {
        return;
    }
    let mut cases = Vec::new();
    let fixed = [
        "22222288888888888",
        "88888822222222222",
        "84268426842684268",
    ];
    for (k, s) in fixed.iter().enumerate() {
        let g: Genome = s.parse().unwrap();
        let q = prepared(21 + k as u64, 13, 32, 10, &g);
        cases.push(Case::new(
            q.clone(),
            &format!("mixed{k}"),
            Storage::Packed,
            200 + k as u64,
            40,
        ));
        cases.push(Case::new(
            q,
            &format!("mixed{k}_u"),
            Storage::Unpacked,
            210 + k as u64,
            20,
        ));
    }
    for r in 0..7u8 {
        let mut bits = [0u8; N_GENES];
        for (k, b) in bits.iter_mut().enumerate() {
            *b = 2 + (k as u8 + r) % 7;
        }
        let g = Genome::new(bits, BitRange::FULL).unwrap();
        let q = prepared(50 + r as u64, 7, 11, 3, &g);
        cases.push(Case::new(
            q,
            &format!("latin{r}"),
            Storage::Packed,
            500 + r as u64,
            30,
        ));
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
        cases.push(Case::new(
            q,
            &format!("Rand_{k}"),
            Storage::Packed,
            300 + k as u64,
            30,
        ));
    }
    // The golden tie case: every requantizer rounds exact ties (tests/golden.rs counts them).
    let spec = bitgru::io::golden::default_specs()
        .into_iter()
        .find(|s| s.ties)
        .unwrap();
    let golden = bitgru::io::golden::GoldenCase::generate(spec).unwrap();
    let mut s = Scratch::for_model(&golden.model);
    for (x, want) in golden.inputs.iter().zip(&golden.logits) {
        assert_eq!(&golden.model.run(x, &mut s).unwrap(), want);
    }
    for (p, storage) in [("ties", Storage::Packed), ("ties_u", Storage::Unpacked)] {
        let mut c = Case::new(golden.model.clone(), p, storage, 600, 10);
        c.extra = golden.inputs.clone();
        cases.push(c);
    }
    check_against_rust(&cases);
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
            "int kws_run(const int8_t *x, size_t steps, int32_t logits[KWS_CLASSES]);",
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

/// Issue 11 item 2: the deployable package (`<p>.c`, `<p>_io.c` with the input scales and class
/// names, `<p>_test.c` with golden vectors) compiles warning-free, its test main passes on this
/// machine, and a corrupted golden logit makes it fail. One gcc run for both mains' objects.
#[test]
fn c_package_test_main_checks_golden_vectors() {
    if !support::require_gcc("c_package_test_main_checks_golden_vectors") {
        return;
    }
    let g: Genome = "64576888548886757".parse().unwrap();
    let q = prepared(77, 9, 20, 4, &g);
    let names: Vec<String> = ["yes", "no \"quoted\"", "café", "back\\slash"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let opt = CExportOptions {
        storage: Storage::Packed,
        class_names: names.clone(),
    };
    let src = export_c_with(&q, "pkg", &opt).unwrap();
    let tmp = TempDir::new("pkg");
    let dir = tmp.path();
    write_sources(dir, &src);
    let file = |n: &str| {
        src.package
            .iter()
            .find(|f| f.name == n)
            .unwrap_or_else(|| panic!("package lacks {n}"))
            .contents
            .clone()
    };
    for f in &src.package {
        std::fs::write(dir.join(&f.name), &f.contents).unwrap();
    }
    // The input scales are a C array with the exact f32 values.
    let io = file("pkg_io.c");
    for s in &q.input_scales {
        assert!(io.contains(&format!("{s:e}f")), "scale {s}");
    }
    // A corrupted copy: the first golden logit changed by one.
    let test = file("pkg_test.c");
    let first = q
        .run(
            &bitgru::io::golden::c_golden_vectors(&q, 1, 8, bitgru::io::c_export::GOLDEN_SEED)
                .unwrap()[0]
                .codes,
            &mut Scratch::for_model(&q),
        )
        .unwrap()[0];
    let marker = "golden_logits[GOLDEN_N][PKG_CLASSES] = {\n    { ";
    let at = test.find(marker).expect("golden logits") + marker.len();
    assert!(test[at..].starts_with(&format!("{first},")));
    let bad = format!(
        "{}{}{}",
        &test[..at],
        first + 1,
        &test[at + first.to_string().len()..]
    );
    std::fs::write(dir.join("pkg_bad.c"), bad).unwrap();
    run_clean(
        Command::new("gcc")
            .current_dir(dir)
            .args(CFLAGS)
            .arg("-c")
            .args(["pkg.c", "pkg_io.c", "pkg_test.c", "pkg_bad.c"]),
        "gcc -c package",
    );
    for (exe, main) in [("good", "pkg_test.o"), ("bad", "pkg_bad.o")] {
        run_clean(
            Command::new("gcc")
                .current_dir(dir)
                .args(["-o", exe, main, "pkg_io.o", "pkg.o"]),
            "gcc link",
        );
    }
    let out = run_clean(&mut Command::new(dir.join("good")), "pkg_test");
    assert!(out.contains("PASSED: 0 failure(s)"), "{out}");
    assert_eq!(
        out.matches("ok  ").count(),
        4 * bitgru::io::c_export::GOLDEN_SEQUENCES + 1
    );
    let expected: Vec<usize> = (0..bitgru::io::c_export::GOLDEN_SEQUENCES)
        .map(|k| {
            let v = &bitgru::io::golden::c_golden_vectors(
                &q,
                bitgru::io::c_export::GOLDEN_SEQUENCES,
                bitgru::io::c_export::GOLDEN_STEPS,
                bitgru::io::c_export::GOLDEN_SEED,
            )
            .unwrap()[k];
            argmax_i32(&v.logits)
        })
        .collect();
    for c in expected {
        assert!(out.contains(&format!("class {}\n", names[c])), "{out}");
    }
    let bad = Command::new(dir.join("bad")).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let bad_out = String::from_utf8(bad.stdout).unwrap();
    assert!(
        bad_out.contains("FAIL codes -> logits (run) (vector 0)"),
        "{bad_out}"
    );
    // Wrong number of class names: a specific error.
    let opt = CExportOptions {
        storage: Storage::Packed,
        class_names: vec!["a".into()],
    };
    let e = export_c_with(&q, "pkg", &opt).unwrap_err().to_string();
    assert!(e.contains("class names") && e.contains('4'), "{e}");
}
