//! C99 source export of a prepared [`QuantGru`] for microcontrollers.
//!
//! [`export_c`] writes a header `<prefix>.h` and a source `<prefix>.c` that reproduce the
//! integer kernel of [`crate::kernel`] bit for bit: the same i32 dot products, i64 multiplier
//! products, one rounding half away from zero per rescale ([`crate::fixed::round_shift`]), the
//! same saturations and the same LUT offsets. The generated code
//!
//! - uses no floating point at all (no `float`/`double`, no `<math.h>`) and no `malloc`;
//! - includes only `<stdint.h>`, `<stddef.h>` and `<string.h>`;
//! - keeps every constant (weights, biases, LUTs, multipliers) in `static const` arrays, so it
//!   lives in flash on a microcontroller; with [`Storage::Packed`] (the default) the weights and
//!   LUT entries are stored at their gene's bit width in bit streams and unpacked on the fly
//!   with shifts and masks, so the read-only data is the size metric plus
//!   [`crate::size::C_CONSTANT_BYTES`] and the streams' tail padding;
//! - needs `HIDDEN` bytes of stack per step plus a `HIDDEN`-byte state;
//! - never right-shifts a negative value and never overflows a signed type for a model that
//!   passes [`QuantGru::validate`], so it relies on no implementation-defined behavior and is
//!   correct on 16-bit-`int` targets too.
//!
//! Quantizing real-valued input features to 8-bit codes is the front end's job: the package's
//! `<prefix>_io.c` holds the input scales as a `float` array and a quantizer bit-identical to
//! [`QuantGru::quantize_input`]; `<prefix>_test.c` checks a port against golden vectors.
#![deny(clippy::float_arithmetic)]

use crate::error::{Error, Result};
use crate::fixed::{qmax_signed, qmax_unsigned, DualMultiplier, Multiplier};
use crate::genome::{Gene, GENE_NAMES, N_GENES};
use crate::quant::QuantGru;
use std::fmt::{Display, Write as _};

/// Generated C source: a header and an implementation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSource {
    /// Contents of the header (`<prefix>.h`).
    pub header: String,
    /// Contents of the implementation (`<prefix>.c`).
    pub source: String,
    /// File name of the header, `<prefix>.h`.
    pub header_name: String,
    /// File name of the implementation, `<prefix>.c`.
    pub source_name: String,
    /// The rest of the deployable package: `<prefix>_io.h`, `<prefix>_io.c` (input scales,
    /// quantizer, class names; uses float) and `<prefix>_test.c` (golden vectors and a `main`).
    pub package: Vec<CFile>,
    /// Storage sizes of this genome (size metric, packed and unpacked read-only data).
    pub storage: crate::size::StorageReport,
    /// The storage this export uses.
    pub storage_kind: Storage,
}

/// Longest accepted prefix. C99 guarantees 31 significant characters for external identifiers;
/// the longest generated external name is `<prefix>_genome` / `<prefix>_argmax` (+7).
pub const MAX_PREFIX_LEN: usize = 24;

const C_KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Bool",
    "_Complex",
    "_Imaginary",
    // C11/C23 and common C++ keywords: avoid surprises when the header is used from C++.
    "bool",
    "true",
    "false",
    "class",
    "new",
    "delete",
    "this",
    "template",
    "namespace",
    "operator",
];

/// Checks that `prefix` is a usable C identifier prefix.
fn check_prefix(prefix: &str) -> Result<()> {
    let bad = |detail: String| Err(Error::invalid("C prefix", detail));
    if prefix.is_empty() {
        return bad("empty; expected a C identifier such as `kws`".into());
    }
    if prefix.len() > MAX_PREFIX_LEN {
        return bad(format!(
            "{prefix:?} has {} characters, at most {MAX_PREFIX_LEN} are allowed",
            prefix.len()
        ));
    }
    let mut chars = prefix.chars();
    let first = chars.next().unwrap_or('0');
    if !first.is_ascii_alphabetic() {
        return bad(format!(
            "{prefix:?} must start with an ASCII letter (leading digits are not identifiers, \
             leading underscores are reserved)"
        ));
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return bad(format!(
            "{prefix:?} contains {c:?}; only ASCII letters, digits and `_` are allowed"
        ));
    }
    if C_KEYWORDS.contains(&prefix) {
        return bad(format!("{prefix:?} is a C keyword"));
    }
    Ok(())
}

/// How the weights and LUT entries are laid out in the C arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Storage {
    /// At each gene's bit width, one LSB-first bit stream per tensor (the layout of
    /// [`crate::io::pack`], the same bytes as the `.bitgru` file); the kernel unpacks with
    /// shifts and masks. Read-only data = the stored part of the size metric + a small overhead
    /// ([`crate::size::StorageReport`]).
    #[default]
    Packed,
    /// One byte per weight and LUT code: faster, for targets where ROM is not the constraint.
    Unpacked,
}

impl Storage {
    /// `"packed"` / `"unpacked"`.
    pub fn name(self) -> &'static str {
        match self {
            Storage::Packed => "packed",
            Storage::Unpacked => "unpacked",
        }
    }
}

/// Options of [`export_c_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CExportOptions {
    /// Weight and LUT storage.
    pub storage: Storage,
    /// Class names in logit order; empty: `c0`, `c1`, … Otherwise exactly one per class.
    pub class_names: Vec<String>,
}

/// One generated file of the deployable package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CFile {
    pub name: String,
    pub contents: String,
}

/// Seed of the golden test vectors written into `<prefix>_test.c`.
pub const GOLDEN_SEED: u64 = 0x601D_5EED;
/// Golden sequences in `<prefix>_test.c`, and their length in steps.
pub const GOLDEN_SEQUENCES: usize = 3;
pub const GOLDEN_STEPS: usize = 8;

/// Exports `q` as C99 source with every symbol prefixed by `prefix` (macros by its upper-case
/// form), packed storage, default class names. See [`export_c_with`].
pub fn export_c(q: &QuantGru, prefix: &str) -> Result<CSource> {
    export_c_with(q, prefix, &CExportOptions::default())
}

/// Exports `q` as C99 source: the integer kernel (`<prefix>.h`, `<prefix>.c`: no floating
/// point) and the rest of a deployable package (`<prefix>_io.h`, `<prefix>_io.c`: the input
/// scales as a `float` array, the front-end quantizer and the class names; `<prefix>_test.c`:
/// golden vectors — features, their codes, the expected logits — and a `main` that checks
/// them). `prefix` must be an ASCII C identifier of at most [`MAX_PREFIX_LEN`] characters that
/// starts with a letter and is not a keyword; otherwise [`Error::Invalid`] is returned, as for
/// a wrong number of class names. The model is checked with [`QuantGru::validate`] first.
pub fn export_c_with(q: &QuantGru, prefix: &str, opt: &CExportOptions) -> Result<CSource> {
    check_prefix(prefix)?;
    q.validate()?;
    let names: Vec<String> = if opt.class_names.is_empty() {
        (0..q.classes).map(|c| format!("c{c}")).collect()
    } else if opt.class_names.len() == q.classes {
        opt.class_names.clone()
    } else {
        return Err(Error::length(
            "class names",
            q.classes,
            opt.class_names.len(),
        ));
    };
    let storage = crate::size::storage(&q.genome, q.dims());
    let golden = super::golden::c_golden_vectors(q, GOLDEN_SEQUENCES, GOLDEN_STEPS, GOLDEN_SEED)?;
    let package = vec![
        CFile {
            name: format!("{prefix}_io.h"),
            contents: io_header(q, prefix),
        },
        CFile {
            name: format!("{prefix}_io.c"),
            contents: io_source(q, prefix, &names),
        },
        CFile {
            name: format!("{prefix}_test.c"),
            contents: test_main(q, prefix, &golden),
        },
    ];
    Ok(CSource {
        header: header(q, prefix, opt.storage, &storage),
        source: source(q, prefix, opt.storage),
        header_name: format!("{prefix}.h"),
        source_name: format!("{prefix}.c"),
        package,
        storage,
        storage_kind: opt.storage,
    })
}

/// Writes `static const <ty> <name>[<len_expr>] = { ... };` with `per_line` values per line.
fn c_array<T: Display>(
    out: &mut String,
    ty: &str,
    name: &str,
    len_expr: &str,
    values: &[T],
    per_line: usize,
) {
    let _ = writeln!(out, "static const {ty} {name}[{len_expr}] = {{");
    for chunk in values.chunks(per_line.max(1)) {
        out.push_str("    ");
        let line: Vec<String> = chunk.iter().map(|v| v.to_string()).collect();
        out.push_str(&line.join(", "));
        out.push_str(",\n");
    }
    out.push_str("};\n\n");
}

fn mult_init(m: &Multiplier) -> String {
    format!("{{ {}, {}u }}", m.mult, m.shift)
}

fn dual_init(d: &DualMultiplier) -> String {
    format!(
        "{{ INT64_C({}), INT64_C({}), {}u }}",
        d.mult_a, d.mult_b, d.shift
    )
}

/// A C string literal of `s`: printable ASCII as is, everything else (and `"`, `\`, `?`) as
/// three-digit octal escapes, so that any UTF-8 name survives byte for byte.
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b'\\' | b'?') {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\{b:03o}");
        }
    }
    out.push('"');
    out
}

/// An f32 as a C `float` literal that parses back to the same value (Rust's shortest
/// round-trip form).
fn c_float(v: f32) -> String {
    format!("{v:e}f")
}

fn header(q: &QuantGru, p: &str, storage: Storage, st: &crate::size::StorageReport) -> String {
    let up = p.to_ascii_uppercase();
    let g = q.genome;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "/*
 * {p}.h -- integer-only mixed-precision GRU classifier (generated by bitgru; do not edit).
 *
 * Genome {genome}: one bit width per operator, gene 0 first.
 *
 *   gene  name     bits  applies to",
        genome = g
    );
    for gene in Gene::ALL {
        let _ = writeln!(
            h,
            " *   {:>4}  {:<7}  {:>4}  {}",
            gene.index(),
            gene.name(),
            g.get(gene),
            gene.describe()
        );
    }
    let ro = match storage {
        Storage::Packed => st.c_rodata_packed,
        Storage::Unpacked => st.c_rodata_unpacked,
    };
    let _ = writeln!(
        h,
        " *
 * Dimensions: input {i} channels, hidden {hd} units, {c} classes.
 *
 * Storage: {kind}. Read-only data of {p}.c: {ro} bytes. Size metric: {mb} bits, of which
 * {sb} bits are the state (RAM, below) and {stored} bytes are stored constants. Packed, the
 * arrays hold {tensors} bytes ({pad} bytes of bit-stream tail padding) plus {consts} bytes of
 * multipliers, shifts and the genome string: overhead {ovh} bytes over the metric.
 * Unpacked (one byte per code) they would take {un} bytes.
 * State: {hd} bytes. Stack: {hd} bytes plus a few scalars.
 *
 * One time step, all in integers (q_x = codes of gene x, b_x = its bits):
 *
 *   lin_k  = sat_{{b_k}}( M_k * (W_k q_in + bias_k) )      k in ir, iz, in (q_in = x_t)
 *                                                       k in hr, hz, hn (q_in = h_(t-1))
 *   add_r  = sat_{{b_add_r}}( (A_r lin_ir + B_r lin_hr) >> s )   one rounding
 *   r      = LUT_sigmoid_r[add_r + 2^(b_add_r - 1)]     (unsigned codes)
 *   add_z, z likewise
 *   mul_rh = sat_{{b_mul_rh}}( M * r * lin_hn )
 *   add_n  = sat_{{b_add_n}}( (A_n lin_in + B_n mul_rh) >> s )
 *   n      = LUT_tanh[add_n + 2^(b_add_n - 1)]          (signed codes)
 *   sub_z  = satu_{{b_sub_z}}( M * ((2^b_sig_z - 1) - z) )    (unsigned: 1 - z)
 *   mul_zn = sat_{{b_mul_zn}}( M * sub_z * n )
 *   mul_zh = sat_{{b_mul_zh}}( M * z * h_(t-1) )
 *   h_t    = sat_{{b_add_h}}( (A_h mul_zn + B_h mul_zh) >> s )
 *   logits = W_fc h_T + bias_fc                          (int32, 8-bit W_fc)
 *
 * Every `M * v` is (v * mult) >> shift with a 64-bit product and one rounding half away
 * from zero; sat_b clamps to [-2^(b-1), 2^(b-1) - 1], satu_b to [0, 2^b - 1]. The result is
 * bit-identical to the bitgru Rust kernel (QuantGru::run).
 *
 * Inputs are 8-bit codes, not real values. {p}_io.h / {p}_io.c hold the front-end side: the
 * per-channel input scales as an array of single-precision reals, {p}_quantize (features -> codes, bit-identical to
 * bitgru's quantizer) and the class names. {p}_test.c checks a port on the target against
 * golden vectors computed by bitgru. For channel c,
 *
 *   code = clamp(round_half_away_from_zero(x / input_scale[c]), -128, 127)
 *
 * with the per-channel input scales (real value = code * scale):
 *",
        i = q.input_size,
        hd = q.hidden,
        c = q.classes,
        kind = storage.name(),
        mb = st.metric_bits,
        sb = st.state_bits,
        stored = st.metric_stored_bytes,
        tensors = st.packed_tensor_bytes,
        pad = st.padding_bytes,
        consts = crate::size::C_CONSTANT_BYTES,
        ovh = st.c_overhead_packed,
        un = st.c_rodata_unpacked,
    );
    for (c, s) in q.input_scales.iter().enumerate() {
        let _ = writeln!(h, " *   input_scale[{c:>3}] = {s:e}");
    }
    let _ = writeln!(
        h,
        " *
 * The state h is stored as {bh}-bit codes (gene add_h) in int8_t; its real value is
 * code * {sh:e}.
 *
 * Usage, whole sequence (x holds steps * {UP}_INPUT_SIZE codes, time-major):
 *
 *   int32_t logits[{UP}_CLASSES];
 *   if ({p}_run(x, steps, logits) == 0) {{ size_t cls = {p}_argmax(logits); }}
 *
 * Usage, streaming:
 *
 *   {p}_state_t st;
 *   {p}_reset(&st);
 *   for each frame: {p}_step(&st, frame);     (frame: {UP}_INPUT_SIZE codes)
 *   {p}_logits(&st, logits);                   (at any time; right after reset: the zero
 *                                               state's logits)
 *
 * The functions are reentrant: all state is in the caller's {p}_state_t.
 */",
        bh = g.get(Gene::AddH),
        sh = q.scales[Gene::AddH as usize],
        UP = up,
    );
    let _ = writeln!(
        h,
        "#ifndef {UP}_H
#define {UP}_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern \"C\" {{
#endif

/* Number of input channels (codes per time step). */
#define {UP}_INPUT_SIZE {i}
/* Number of hidden units. */
#define {UP}_HIDDEN {hd}
/* Number of classes (logits). */
#define {UP}_CLASSES {c}
/* Number of genes (operators with their own bit width). */
#define {UP}_N_GENES {n}
/* The genome as a string literal (one digit per gene, gene 0 first). */
#define {UP}_GENOME \"{genome}\"
/* Weight and LUT storage of this export: 1 = packed bit streams, 0 = one byte per code. */
#define {UP}_PACKED {packed}
/* Read-only data of {p}.c in bytes (arrays; the compiler may add alignment). */
#define {UP}_RODATA_BYTES {ro}

/* The genome, NUL-terminated: \"{genome}\". */
extern const char {p}_genome[{UP}_N_GENES + 1];

/* Recurrent state: the hidden codes h (gene add_h, {bh} bits). */
typedef struct {{
    int8_t h[{UP}_HIDDEN];
}} {p}_state_t;

/* Sets the state to zero (start of a new sequence). */
void {p}_reset({p}_state_t *s);

/* Advances the state by one time step with the input codes x. */
void {p}_step({p}_state_t *s, const int8_t x[{UP}_INPUT_SIZE]);

/* Classifier logits of the current state. */
void {p}_logits(const {p}_state_t *s, int32_t out[{UP}_CLASSES]);

/* Resets, runs `steps` time steps over x (steps * {UP}_INPUT_SIZE codes, time-major) and
 * writes the logits; returns 0. A sequence has at least one step, as in bitgru (whose
 * QuantGru::run refuses an empty sequence): steps = 0 returns -1 and leaves `logits`
 * untouched. (The zero state's logits are {p}_reset followed by {p}_logits.) */
int {p}_run(const int8_t *x, size_t steps, int32_t logits[{UP}_CLASSES]);

/* Index of the largest logit (the first one on ties). */
size_t {p}_argmax(const int32_t logits[{UP}_CLASSES]);

#ifdef __cplusplus
}}
#endif

#endif /* {UP}_H */",
        UP = up,
        i = q.input_size,
        hd = q.hidden,
        c = q.classes,
        n = N_GENES,
        genome = g,
        bh = g.get(Gene::AddH),
        packed = u8::from(storage == Storage::Packed),
    );
    h
}

fn io_header(q: &QuantGru, p: &str) -> String {
    let up = p.to_ascii_uppercase();
    format!(
        "/*
 * {p}_io.h -- front-end side of the {p} model (generated by bitgru; do not edit): the
 * per-channel input scales, the quantizer of real-valued features into the 8-bit codes
 * {p}_step / {p}_run take, and the class names. Unlike {p}.c this part uses float.
 */
#ifndef {up}_IO_H
#define {up}_IO_H

#include \"{p}.h\"

#ifdef __cplusplus
extern \"C\" {{
#endif

/* Real value of one input code, per channel ({i} channels). */
extern const float {p}_input_scale[{up}_INPUT_SIZE];

/* Class names in logit order. */
extern const char *const {p}_class_names[{up}_CLASSES];

/* Quantizes one frame of features: codes[c] = clamp(round_half_away(x[c] / input_scale[c]),
 * -128, 127), with the division in single precision (bit-identical to bitgru's
 * QuantGru::quantize_input on targets with IEEE-754 float arithmetic, FLT_EVAL_METHOD 0).
 * Returns 0, or -1 if a feature is not finite (NaN or infinite; bitgru refuses those too),
 * in which case codes is unspecified. */
int {p}_quantize(const float x[{up}_INPUT_SIZE], int8_t codes[{up}_INPUT_SIZE]);

#ifdef __cplusplus
}}
#endif

#endif /* {up}_IO_H */
",
        i = q.input_size
    )
}

fn io_source(q: &QuantGru, p: &str, names: &[String]) -> String {
    let up = p.to_ascii_uppercase();
    let mut s = format!(
        "/*
 * {p}_io.c -- front-end side of the {p} model (generated by bitgru; do not edit).
 */
#include \"{p}_io.h\"

"
    );
    let scales: Vec<String> = q.input_scales.iter().map(|&v| c_float(v)).collect();
    let _ = writeln!(s, "const float {p}_input_scale[{up}_INPUT_SIZE] = {{");
    for chunk in scales.chunks(6) {
        let _ = writeln!(s, "    {},", chunk.join(", "));
    }
    let _ = writeln!(s, "}};\n");
    let _ = writeln!(s, "const char *const {p}_class_names[{up}_CLASSES] = {{");
    for n in names {
        let _ = writeln!(s, "    {},", c_string(n));
    }
    let _ = writeln!(
        s,
        "}};

int {p}_quantize(const float x[{up}_INPUT_SIZE], int8_t codes[{up}_INPUT_SIZE])
{{
    size_t c;
    for (c = 0; c < {up}_INPUT_SIZE; ++c) {{
        float v;
        int32_t t;
        if (x[c] != x[c] || x[c] - x[c] != 0.0f) {{
            return -1;
        }}
        v = x[c] / {p}_input_scale[c];
        if (v >= 127.0f) {{
            t = 127;
        }} else if (v <= -128.0f) {{
            t = -128;
        }} else {{
            /* |v| < 128: truncation and v - t are exact in float. */
            float f;
            t = (int32_t)v;
            f = v - (float)t;
            if (f >= 0.5f) {{
                t += 1;
            }} else if (f <= -0.5f) {{
                t -= 1;
            }}
        }}
        codes[c] = (int8_t)t;
    }}
    return 0;
}}"
    );
    s
}

fn test_main(q: &QuantGru, p: &str, golden: &[super::golden::CGoldenVector]) -> String {
    let up = p.to_ascii_uppercase();
    let n = golden.len();
    let steps = golden.first().map_or(0, |v| v.codes.len() / q.input_size);
    let mut s = format!(
        "/*
 * {p}_test.c -- checks a port of the {p} model against golden vectors computed by bitgru
 * (generated; do not edit). Features -> codes ({p}_quantize), codes -> logits ({p}_run and
 * {p}_reset/{p}_step/{p}_logits), argmax, and the zero-length contract of {p}_run. Prints one
 * line per check and returns 0 when all pass.
 *
 *   cc -std=c99 -O2 -o {p}_test {p}_test.c {p}_io.c {p}.c && ./{p}_test
 *
 * On a target without stdio, replace REPORT with your own logging.
 */
#include <stdio.h>
#include <string.h>
#include \"{p}_io.h\"

#ifndef REPORT
#define REPORT(...) printf(__VA_ARGS__)
#endif

#define GOLDEN_N {n}
#define GOLDEN_STEPS {steps}

/* Seeded features (seed {seed:#x}), scaled per channel to cover the code range. */
static const float golden_features[GOLDEN_N][GOLDEN_STEPS * {up}_INPUT_SIZE] = {{
",
        seed = GOLDEN_SEED
    );
    for v in golden {
        let f: Vec<String> = v.features.iter().map(|&x| c_float(x)).collect();
        let _ = writeln!(s, "    {{ {} }},", f.join(", "));
    }
    let _ = writeln!(
        s,
        "}};\n\n/* Their 8-bit codes (bitgru's QuantGru::quantize_input). */\nstatic const int8_t golden_codes[GOLDEN_N][GOLDEN_STEPS * {up}_INPUT_SIZE] = {{"
    );
    for v in golden {
        let c: Vec<String> = v.codes.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(s, "    {{ {} }},", c.join(", "));
    }
    let _ = writeln!(
        s,
        "}};\n\n/* The logits of the Rust integer kernel (QuantGru::run). */\nstatic const int32_t golden_logits[GOLDEN_N][{up}_CLASSES] = {{"
    );
    for v in golden {
        let c: Vec<String> = v.logits.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(s, "    {{ {} }},", c.join(", "));
    }
    let _ = writeln!(
        s,
        "}};

static int report(int ok, const char *what, int k)
{{
    REPORT(\"%s %s (vector %d)\\n\", ok ? \"ok  \" : \"FAIL\", what, k);
    return ok ? 0 : 1;
}}

int main(void)
{{
    int fails = 0, k;
    size_t t;
    int8_t codes[GOLDEN_STEPS * {up}_INPUT_SIZE];
    int32_t logits[{up}_CLASSES], streamed[{up}_CLASSES], sentinel[{up}_CLASSES];
    {p}_state_t st;
    REPORT(\"{p}: genome %s, %s storage\\n\", {p}_genome, {up}_PACKED ? \"packed\" : \"unpacked\");
    for (k = 0; k < GOLDEN_N; ++k) {{
        int qok = 1;
        for (t = 0; t < GOLDEN_STEPS; ++t) {{
            qok &= {p}_quantize(&golden_features[k][t * {up}_INPUT_SIZE],
                               &codes[t * {up}_INPUT_SIZE]) == 0;
        }}
        fails += report(qok && memcmp(codes, golden_codes[k], sizeof codes) == 0,
                        \"features -> codes\", k);
        fails += report({p}_run(golden_codes[k], GOLDEN_STEPS, logits) == 0
                            && memcmp(logits, golden_logits[k], sizeof logits) == 0,
                        \"codes -> logits (run)\", k);
        {p}_reset(&st);
        for (t = 0; t < GOLDEN_STEPS; ++t) {{
            {p}_step(&st, &golden_codes[k][t * {up}_INPUT_SIZE]);
        }}
        {p}_logits(&st, streamed);
        fails += report(memcmp(streamed, golden_logits[k], sizeof streamed) == 0,
                        \"codes -> logits (step)\", k);
        fails += report({p}_argmax(logits) == {p}_argmax(golden_logits[k]), \"argmax\", k);
        REPORT(\"     class %s\\n\", {p}_class_names[{p}_argmax(logits)]);
    }}
    memset(sentinel, 0x5A, sizeof sentinel);
    memcpy(logits, sentinel, sizeof logits);
    fails += report({p}_run(golden_codes[0], 0u, logits) == -1
                        && memcmp(logits, sentinel, sizeof logits) == 0,
                    \"zero steps are refused, logits untouched\", 0);
    REPORT(\"%s: %d failure(s)\\n\", fails ? \"FAILED\" : \"PASSED\", fails);
    return fails ? 1 : 0;
}}"
    );
    s
}

fn source(q: &QuantGru, p: &str, storage: Storage) -> String {
    let up = p.to_ascii_uppercase();
    let g = q.genome;
    let packed = storage == Storage::Packed;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "/*
 * {p}.c -- integer-only GRU kernel for genome {g}, {kind} storage (generated by bitgru; do
 * not edit). See {p}.h for the equations and the calling convention.
 */
#include \"{p}.h\"

#include <string.h>

const char {p}_genome[{up}_N_GENES + 1] = \"{g}\";

/* Code ranges of every gene: signed [-2^(b-1), 2^(b-1) - 1]; sub_z, sig_r, sig_z unsigned
 * [0, 2^b - 1]. LUT offsets are 2^(b-1) of the gene that indexes the table. */",
        kind = storage.name()
    );
    for gene in Gene::ALL {
        let b = g.get(gene);
        let name = GENE_NAMES[gene.index()].to_ascii_uppercase();
        let (lo, hi) = match gene {
            Gene::SubZ | Gene::SigR | Gene::SigZ => (0, qmax_unsigned(b)),
            _ => (-qmax_signed(b) - 1, qmax_signed(b)),
        };
        let _ = writeln!(
            s,
            "#define {up}_LO_{name} ({lo})\n#define {up}_HI_{name} ({hi})\n#define {up}_BITS_{name} ({b}u)"
        );
    }
    for gene in [Gene::AddR, Gene::AddZ, Gene::AddN] {
        let name = GENE_NAMES[gene.index()].to_ascii_uppercase();
        let _ = writeln!(s, "#define {up}_OFF_{name} ({})", 1i32 << (g.get(gene) - 1));
    }
    let _ = writeln!(
        s,
        "
/* Largest sig_z code: 1 - z is (2^b_sig_z - 1) - z. */
#define {up}_Z_MAX ({})
",
        qmax_unsigned(g.get(Gene::SigZ))
    );
    let _ = writeln!(
        s,
        "/* A rescale factor mult * 2^-shift (31-bit mantissa). */
typedef struct {{
    int32_t mult;
    uint8_t shift;
}} {p}_mult_t;

/* Two rescale factors sharing one shift: (a * ma + b * mb) * 2^-shift, one rounding. */
typedef struct {{
    int64_t ma;
    int64_t mb;
    uint8_t shift;
}} {p}_dual_t;
"
    );
    if packed {
        let _ = writeln!(
            s,
            "/* Packed storage: the codes of a tensor form one bit stream, code k (row-major) in stream
 * bits [k*b, (k+1)*b), stream bit n = bit (n % 8) of byte n / 8, two's complement for signed
 * codes, the last byte zero-padded. The same bytes as the tensor in a .bitgru file. */
"
        );
    }

    // Linear layers.
    let names = ["ir", "iz", "in", "hr", "hz", "hn"];
    for (k, l) in q.lin.iter().enumerate() {
        let n = names[k];
        let cols = if k < 3 {
            format!("{up}_INPUT_SIZE")
        } else {
            format!("{up}_HIDDEN")
        };
        if packed {
            let bytes = super::pack::pack_signed(&l.w, l.bits);
            let _ = writeln!(
                s,
                "/* lin_{n}: {} x {} weights at {} bits, row-major, packed ({} bytes). */",
                l.rows,
                l.cols,
                l.bits,
                bytes.len()
            );
            c_array(
                &mut s,
                "uint8_t",
                &format!("{p}_w_{n}"),
                &bytes.len().to_string(),
                &bytes,
                16,
            );
        } else {
            let _ = writeln!(
                s,
                "/* lin_{n}: {} x {} weights at {} bits, row-major, one byte each. */",
                l.rows, l.cols, l.bits
            );
            c_array(
                &mut s,
                "int8_t",
                &format!("{p}_w_{n}"),
                &format!("{up}_HIDDEN * {cols}"),
                &l.w,
                16,
            );
        }
        let _ = writeln!(
            s,
            "/* lin_{n}: int32 biases at scale w_scale * in_scale. */"
        );
        c_array(
            &mut s,
            "int32_t",
            &format!("{p}_b_{n}"),
            &format!("{up}_HIDDEN"),
            &l.bias,
            8,
        );
    }
    let requant: Vec<String> = q.lin.iter().map(|l| mult_init(&l.requant)).collect();
    let _ = writeln!(
        s,
        "/* Requantization of the six linear layers: ir, iz, in, hr, hz, hn. */"
    );
    c_array(
        &mut s,
        &format!("{p}_mult_t"),
        &format!("{p}_requant"),
        "6",
        &requant,
        1,
    );
    let duals: Vec<String> = [q.add_r, q.add_z, q.add_n, q.add_h]
        .iter()
        .map(dual_init)
        .collect();
    let _ = writeln!(s, "/* Additions: add_r, add_z, add_n, add_h. */");
    c_array(
        &mut s,
        &format!("{p}_dual_t"),
        &format!("{p}_add"),
        "4",
        &duals,
        1,
    );
    let muls: Vec<String> = [q.sub_z, q.mul_rh, q.mul_zn, q.mul_zh]
        .iter()
        .map(mult_init)
        .collect();
    let _ = writeln!(s, "/* Rescales: sub_z, mul_rh, mul_zn, mul_zh. */");
    c_array(
        &mut s,
        &format!("{p}_mult_t"),
        &format!("{p}_mul"),
        "4",
        &muls,
        1,
    );

    // (name, index gene, output gene, description, packed bytes, codes)
    type Lut<'a> = (&'a str, Gene, Gene, &'a str, Vec<u8>, Vec<String>);
    let luts: [Lut; 3] = [
        (
            "r",
            Gene::AddR,
            Gene::SigR,
            "sigmoid table for r",
            super::pack::pack_unsigned(&q.lut_r, g.get(Gene::SigR)),
            q.lut_r.iter().map(|v| v.to_string()).collect(),
        ),
        (
            "z",
            Gene::AddZ,
            Gene::SigZ,
            "sigmoid table for z",
            super::pack::pack_unsigned(&q.lut_z, g.get(Gene::SigZ)),
            q.lut_z.iter().map(|v| v.to_string()).collect(),
        ),
        (
            "n",
            Gene::AddN,
            Gene::TanhN,
            "tanh table for n",
            super::pack::pack_signed(&q.lut_n, g.get(Gene::TanhN)),
            q.lut_n.iter().map(|v| v.to_string()).collect(),
        ),
    ];
    for (n, index, out, what, bytes, codes) in luts {
        let iname = GENE_NAMES[index.index()].to_ascii_uppercase();
        let signed = if out == Gene::TanhN {
            "signed"
        } else {
            "unsigned"
        };
        if packed {
            let _ = writeln!(
                s,
                "/* {what}, indexed by {} + {up}_OFF_{iname}: {} entries of {} bits ({signed}), packed. */",
                index.name(),
                codes.len(),
                g.get(out)
            );
            c_array(
                &mut s,
                "uint8_t",
                &format!("{p}_lut_{n}"),
                &bytes.len().to_string(),
                &bytes,
                16,
            );
        } else {
            let _ = writeln!(
                s,
                "/* {what}, indexed by {} + {up}_OFF_{iname} ({} bits out, {signed}). */",
                index.name(),
                g.get(out)
            );
            let ty = if out == Gene::TanhN {
                "int8_t"
            } else {
                "uint8_t"
            };
            c_array(
                &mut s,
                ty,
                &format!("{p}_lut_{n}"),
                &codes.len().to_string(),
                &codes,
                16,
            );
        }
    }
    let _ = writeln!(
        s,
        "/* Classifier head: 8-bit weights [classes x hidden], int32 biases. */"
    );
    c_array(
        &mut s,
        "int8_t",
        &format!("{p}_w_fc"),
        &format!("{up}_CLASSES * {up}_HIDDEN"),
        &q.head.w,
        16,
    );
    c_array(
        &mut s,
        "int32_t",
        &format!("{p}_b_fc"),
        &format!("{up}_CLASSES"),
        &q.head.bias,
        8,
    );

    let access = if packed {
        ACCESS_PACKED
    } else {
        ACCESS_UNPACKED
    };
    let mut step = STEP_TEMPLATE.to_string();
    for (k, n) in names.iter().enumerate() {
        let (cols, x) = if k < 3 {
            (format!("{up}_INPUT_SIZE"), "x")
        } else {
            (format!("{up}_HIDDEN"), "s->h")
        };
        let gene = GENE_NAMES[k].to_ascii_uppercase();
        let dot = if packed {
            format!(
                "@p@_dot(@p@_w_{n}, j * {cols} * {up}_BITS_{gene}, {up}_BITS_{gene}, {x}, {cols})"
            )
        } else {
            format!("@p@_dot(&@p@_w_{n}[j * {cols}], {x}, {cols})")
        };
        step = step.replace(&format!("@DOT_{}@", n.to_ascii_uppercase()), &dot);
    }
    let lut = |n: &str, idx: &str, index: Gene, out: Gene| {
        let iname = GENE_NAMES[index.index()].to_ascii_uppercase();
        let oname = GENE_NAMES[out.index()].to_ascii_uppercase();
        if packed {
            let f = if out == Gene::TanhN {
                "sfield"
            } else {
                "ufield"
            };
            format!("@p@_{f}(@p@_lut_{n}, (size_t)({idx} + @P@_OFF_{iname}), @P@_BITS_{oname})")
        } else {
            format!("(int32_t)@p@_lut_{n}[{idx} + @P@_OFF_{iname}]")
        }
    };
    step = step
        .replace("@LUT_R@", &lut("r", "ar", Gene::AddR, Gene::SigR))
        .replace("@LUT_Z@", &lut("z", "az", Gene::AddZ, Gene::SigZ))
        .replace("@LUT_N@", &lut("n", "an", Gene::AddN, Gene::TanhN));
    let kernel = format!("{KERNEL_COMMON}\n\n{access}\n\n{step}\n\n{KERNEL_TAIL}");
    let _ = writeln!(s, "{}", kernel.replace("@p@", p).replace("@P@", &up));
    s
}

/// The fixed part of the kernel; `@p@` / `@P@` are replaced by the prefix and its upper case
/// (`@` cannot occur in a prefix, so the replacements cannot interfere).
const KERNEL_COMMON: &str = r#"/* Rounding right shift, ties away from zero. Only non-negative values are shifted, so the
 * result does not depend on how the compiler shifts negative numbers. shift <= 62. */
static int64_t @p@_round_shift(int64_t x, uint8_t shift)
{
    int64_t half;
    if (shift == 0u) {
        return x;
    }
    half = (int64_t)1 << (shift - 1u);
    if (x >= 0) {
        return (x + half) >> shift;
    }
    return -((half - x) >> shift);
}

/* m * x: 64-bit product, one rounding. */
static int64_t @p@_apply(const @p@_mult_t *m, int64_t x)
{
    return @p@_round_shift(x * (int64_t)m->mult, m->shift);
}

/* a * ma + b * mb: 64-bit products, one rounding. */
static int64_t @p@_apply2(const @p@_dual_t *d, int64_t a, int64_t b)
{
    return @p@_round_shift(a * d->ma + b * d->mb, d->shift);
}

/* Clamp to [lo, hi]. */
static int32_t @p@_sat(int64_t x, int32_t lo, int32_t hi)
{
    if (x < (int64_t)lo) {
        return lo;
    }
    if (x > (int64_t)hi) {
        return hi;
    }
    return (int32_t)x;
}

/* One output of a linear layer: sat(requant(acc + bias)). */
static int32_t @p@_requant_row(int32_t acc, int32_t bias, const @p@_mult_t *m, int32_t lo,
                               int32_t hi)
{
    return @p@_sat(@p@_apply(m, (int64_t)acc + (int64_t)bias), lo, hi);
}"#;

/// Weight rows and LUT entries, one byte per code.
const ACCESS_UNPACKED: &str = r#"/* Dot product of a weight row with codes. */
static int32_t @p@_dot(const int8_t *w, const int8_t *x, size_t n)
{
    int32_t acc = 0;
    size_t c;
    for (c = 0; c < n; ++c) {
        acc += (int32_t)w[c] * (int32_t)x[c];
    }
    return acc;
}"#;

/// Weight rows and LUT entries from bit streams.
const ACCESS_PACKED: &str = r#"/* Dot product of a packed weight row (n signed `bits`-bit codes starting at stream bit
 * `bit`) with codes. The codes are read in order through a small bit buffer refilled one
 * byte at a time, so no byte past the row's last code is read. */
static int32_t @p@_dot(const uint8_t *w, size_t bit, unsigned bits, const int8_t *x, size_t n)
{
    const uint8_t *p = &w[bit >> 3];
    uint32_t buf = (uint32_t)*p++ >> (unsigned)(bit & 7u);
    unsigned have = 8u - (unsigned)(bit & 7u);
    const uint32_t mask = ((uint32_t)1 << bits) - 1u;
    const int32_t half = (int32_t)1 << (bits - 1u);
    int32_t acc = 0;
    size_t c;
    if (bits == 8u) {
        /* Byte-aligned codes: a plain loop (sign-extended without implementation-defined
         * conversions). */
        const uint8_t *b = &w[bit >> 3];
        for (c = 0; c < n; ++c) {
            acc += (((int32_t)b[c] ^ 128) - 128) * (int32_t)x[c];
        }
        return acc;
    }
    for (c = 0; c < n; ++c) {
        int32_t v;
        if (have < bits) {
            buf |= (uint32_t)*p++ << have;
            have += 8u;
        }
        v = (int32_t)(buf & mask);
        buf >>= bits;
        have -= bits;
        acc += ((v ^ half) - half) * (int32_t)x[c];
    }
    return acc;
}

/* Entry k of a packed table of `bits`-bit codes (at most two bytes are read). */
static uint32_t @p@_field(const uint8_t *t, size_t k, unsigned bits)
{
    size_t bit = k * bits;
    size_t i = bit >> 3;
    unsigned sh = (unsigned)(bit & 7u);
    uint32_t v = (uint32_t)t[i] >> sh;
    if (sh + bits > 8u) {
        v |= (uint32_t)t[i + 1u] << (8u - sh);
    }
    return v & (((uint32_t)1 << bits) - 1u);
}

/* Unsigned table entry. */
static int32_t @p@_ufield(const uint8_t *t, size_t k, unsigned bits)
{
    return (int32_t)@p@_field(t, k, bits);
}

/* Signed (two's complement) table entry. */
static int32_t @p@_sfield(const uint8_t *t, size_t k, unsigned bits)
{
    const int32_t half = (int32_t)1 << (bits - 1u);
    return ((int32_t)@p@_field(t, k, bits) ^ half) - half;
}"#;

/// The step; `@DOT_xx@` and `@LUT_x@` are replaced by the storage's accessors.
const STEP_TEMPLATE: &str = r#"void @p@_reset(@p@_state_t *s)
{
    memset(s->h, 0, sizeof s->h);
}

void @p@_step(@p@_state_t *s, const int8_t x[@P@_INPUT_SIZE])
{
    /* New state, written back after every unit has read the old one. */
    int8_t h_new[@P@_HIDDEN];
    size_t j;
    for (j = 0; j < @P@_HIDDEN; ++j) {
        int32_t ir, iz, in, hr, hz, hn, ar, az, an, r, z, n, mrh, sz, mzn, mzh, hj;
        ir = @p@_requant_row(@DOT_IR@, @p@_b_ir[j], &@p@_requant[0], @P@_LO_LIN_IR, @P@_HI_LIN_IR);
        iz = @p@_requant_row(@DOT_IZ@, @p@_b_iz[j], &@p@_requant[1], @P@_LO_LIN_IZ, @P@_HI_LIN_IZ);
        in = @p@_requant_row(@DOT_IN@, @p@_b_in[j], &@p@_requant[2], @P@_LO_LIN_IN, @P@_HI_LIN_IN);
        hr = @p@_requant_row(@DOT_HR@, @p@_b_hr[j], &@p@_requant[3], @P@_LO_LIN_HR, @P@_HI_LIN_HR);
        hz = @p@_requant_row(@DOT_HZ@, @p@_b_hz[j], &@p@_requant[4], @P@_LO_LIN_HZ, @P@_HI_LIN_HZ);
        hn = @p@_requant_row(@DOT_HN@, @p@_b_hn[j], &@p@_requant[5], @P@_LO_LIN_HN, @P@_HI_LIN_HN);

        ar = @p@_sat(@p@_apply2(&@p@_add[0], ir, hr), @P@_LO_ADD_R, @P@_HI_ADD_R);
        az = @p@_sat(@p@_apply2(&@p@_add[1], iz, hz), @P@_LO_ADD_Z, @P@_HI_ADD_Z);
        r = @LUT_R@;
        z = @LUT_Z@;
        mrh = @p@_sat(@p@_apply(&@p@_mul[1], (int64_t)r * (int64_t)hn),
                      @P@_LO_MUL_RH, @P@_HI_MUL_RH);
        an = @p@_sat(@p@_apply2(&@p@_add[2], in, mrh), @P@_LO_ADD_N, @P@_HI_ADD_N);
        n = @LUT_N@;
        sz = @p@_sat(@p@_apply(&@p@_mul[0], (int64_t)@P@_Z_MAX - (int64_t)z),
                     @P@_LO_SUB_Z, @P@_HI_SUB_Z);
        mzn = @p@_sat(@p@_apply(&@p@_mul[2], (int64_t)sz * (int64_t)n),
                      @P@_LO_MUL_ZN, @P@_HI_MUL_ZN);
        mzh = @p@_sat(@p@_apply(&@p@_mul[3], (int64_t)z * (int64_t)s->h[j]),
                      @P@_LO_MUL_ZH, @P@_HI_MUL_ZH);
        hj = @p@_sat(@p@_apply2(&@p@_add[3], mzn, mzh), @P@_LO_ADD_H, @P@_HI_ADD_H);
        h_new[j] = (int8_t)hj;
    }
    memcpy(s->h, h_new, sizeof h_new);
}"#;

const KERNEL_TAIL: &str = r#"void @p@_logits(const @p@_state_t *s, int32_t out[@P@_CLASSES])
{
    size_t c, j;
    for (c = 0; c < @P@_CLASSES; ++c) {
        const int8_t *w = &@p@_w_fc[c * @P@_HIDDEN];
        int32_t acc = 0;
        for (j = 0; j < @P@_HIDDEN; ++j) {
            acc += (int32_t)w[j] * (int32_t)s->h[j];
        }
        out[c] = acc + @p@_b_fc[c];
    }
}

int @p@_run(const int8_t *x, size_t steps, int32_t logits[@P@_CLASSES])
{
    @p@_state_t s;
    size_t t;
    if (steps == 0u) {
        return -1;
    }
    @p@_reset(&s);
    for (t = 0; t < steps; ++t) {
        @p@_step(&s, &x[t * @P@_INPUT_SIZE]);
    }
    @p@_logits(&s, logits);
    return 0;
}

size_t @p@_argmax(const int32_t logits[@P@_CLASSES])
{
    size_t best = 0, c;
    for (c = 1; c < @P@_CLASSES; ++c) {
        if (logits[c] > logits[best]) {
            best = c;
        }
    }
    return best;
}"#;

#[cfg(test)]
mod tests {
    use super::check_prefix;

    #[test]
    fn prefixes() {
        for ok in ["kws", "Model2", "a", "my_gru_v1", "auto_x"] {
            assert!(check_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1x",
            "_x",
            "a-b",
            "a b",
            "int",
            "é",
            "a.b",
            &"x".repeat(25),
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }
}
