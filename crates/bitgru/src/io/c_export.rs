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
//!   lives in flash on a microcontroller;
//! - needs `HIDDEN` bytes of stack per step plus a `HIDDEN`-byte state;
//! - never right-shifts a negative value and never overflows a signed type for a model that
//!   passes [`QuantGru::validate`], so it relies on no implementation-defined behavior and is
//!   correct on 16-bit-`int` targets too.
//!
//! Quantizing real-valued input features to 8-bit codes stays the caller's front-end job; the
//! per-channel input scales are listed in the header comment.
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

/// Exports `q` as C99 source with every symbol prefixed by `prefix` (macros by its upper-case
/// form). `prefix` must be an ASCII C identifier of at most [`MAX_PREFIX_LEN`] characters that
/// starts with a letter and is not a keyword; otherwise [`Error::Invalid`] is returned. The
/// model is checked with [`QuantGru::validate`] first (its errors are passed on).
pub fn export_c(q: &QuantGru, prefix: &str) -> Result<CSource> {
    check_prefix(prefix)?;
    q.validate()?;
    let header = header(q, prefix);
    let source = source(q, prefix);
    Ok(CSource {
        header,
        source,
        header_name: format!("{prefix}.h"),
        source_name: format!("{prefix}.c"),
    })
}

/// Read-only data in bytes (weights, biases, LUTs, multipliers), for the header comment.
fn rodata_bytes(q: &QuantGru) -> usize {
    let lin: usize = q.lin.iter().map(|l| l.w.len() + 4 * l.bias.len()).sum();
    let luts = q.lut_r.len() + q.lut_z.len() + q.lut_n.len();
    let head = q.head.w.len() + 4 * q.head.bias.len();
    // Multipliers: 10 × {i32, u8} (padded to 8) + 4 × {i64, i64, u8} (padded to 24).
    lin + luts + head + 10 * 8 + 4 * 24 + N_GENES + 1
}

fn header(q: &QuantGru, p: &str) -> String {
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
    let _ = writeln!(
        h,
        " *
 * Dimensions: input {i} channels, hidden {hd} units, {c} classes.
 * Read-only data: about {ro} bytes. State: {hd} bytes. Stack: {hd} bytes plus a few scalars.
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
 * Inputs are 8-bit codes, not real values. Quantizing features is the caller's front-end
 * job: for channel c,
 *
 *   code = clamp(round_half_away_from_zero(x / input_scale[c]), -128, 127)
 *
 * with the per-channel input scales (real value = code * scale):
 *",
        i = q.input_size,
        hd = q.hidden,
        c = q.classes,
        ro = rodata_bytes(q),
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
 *   {p}_run(x, steps, logits);
 *   size_t cls = {p}_argmax(logits);
 *
 * Usage, streaming:
 *
 *   {p}_state_t st;
 *   {p}_reset(&st);
 *   for each frame: {p}_step(&st, frame);     (frame: {UP}_INPUT_SIZE codes)
 *   {p}_logits(&st, logits);                   (at any time)
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
 * writes the logits. steps = 0 gives the logits of the zero state. */
void {p}_run(const int8_t *x, size_t steps, int32_t logits[{UP}_CLASSES]);

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
    );
    h
}

fn source(q: &QuantGru, p: &str) -> String {
    let up = p.to_ascii_uppercase();
    let g = q.genome;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "/*
 * {p}.c -- integer-only GRU kernel for genome {g} (generated by bitgru; do not edit).
 * See {p}.h for the equations and the calling convention.
 */
#include \"{p}.h\"

#include <string.h>

const char {p}_genome[{up}_N_GENES + 1] = \"{g}\";

/* Code ranges of every gene: signed [-2^(b-1), 2^(b-1) - 1]; sub_z, sig_r, sig_z unsigned
 * [0, 2^b - 1]. LUT offsets are 2^(b-1) of the gene that indexes the table. */"
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
            "#define {up}_LO_{name} ({lo})\n#define {up}_HI_{name} ({hi}) /* {b} bits */"
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

    // Linear layers.
    let names = ["ir", "iz", "in", "hr", "hz", "hn"];
    for (k, l) in q.lin.iter().enumerate() {
        let n = names[k];
        let cols = if k < 3 {
            format!("{up}_INPUT_SIZE")
        } else {
            format!("{up}_HIDDEN")
        };
        let _ = writeln!(
            s,
            "/* lin_{n}: {} x {} weights at {} bits, row-major. */",
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

    let _ = writeln!(
        s,
        "/* sigmoid table for r, indexed by add_r + {up}_OFF_ADD_R ({} bits out, unsigned). */",
        g.get(Gene::SigR)
    );
    c_array(
        &mut s,
        "uint8_t",
        &format!("{p}_lut_r"),
        &q.lut_r.len().to_string(),
        &q.lut_r,
        16,
    );
    let _ = writeln!(
        s,
        "/* sigmoid table for z, indexed by add_z + {up}_OFF_ADD_Z ({} bits out, unsigned). */",
        g.get(Gene::SigZ)
    );
    c_array(
        &mut s,
        "uint8_t",
        &format!("{p}_lut_z"),
        &q.lut_z.len().to_string(),
        &q.lut_z,
        16,
    );
    let _ = writeln!(
        s,
        "/* tanh table for n, indexed by add_n + {up}_OFF_ADD_N ({} bits out, signed). */",
        g.get(Gene::TanhN)
    );
    c_array(
        &mut s,
        "int8_t",
        &format!("{p}_lut_n"),
        &q.lut_n.len().to_string(),
        &q.lut_n,
        16,
    );
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

    let _ = writeln!(
        s,
        "{KERNEL}",
        KERNEL = KERNEL_TEMPLATE.replace("@p@", p).replace("@P@", &up)
    );
    s
}

/// The fixed part of the kernel; `@p@` / `@P@` are replaced by the prefix and its upper case
/// (`@` cannot occur in a prefix, so the replacements cannot interfere).
const KERNEL_TEMPLATE: &str = r#"/* Rounding right shift, ties away from zero. Only non-negative values are shifted, so the
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

/* One output of a linear layer: sat(requant(w . x + bias)). */
static int32_t @p@_linear_row(const int8_t *w, int32_t bias, const int8_t *x, size_t n,
                              const @p@_mult_t *m, int32_t lo, int32_t hi)
{
    int32_t acc = 0;
    size_t c;
    for (c = 0; c < n; ++c) {
        acc += (int32_t)w[c] * (int32_t)x[c];
    }
    return @p@_sat(@p@_apply(m, (int64_t)acc + (int64_t)bias), lo, hi);
}

void @p@_reset(@p@_state_t *s)
{
    memset(s->h, 0, sizeof s->h);
}

void @p@_step(@p@_state_t *s, const int8_t x[@P@_INPUT_SIZE])
{
    /* New state, written back after every unit has read the old one. */
    int8_t h_new[@P@_HIDDEN];
    size_t j;
    for (j = 0; j < @P@_HIDDEN; ++j) {
        const int8_t *wi;
        const int8_t *wh;
        int32_t ir, iz, in, hr, hz, hn, ar, az, an, r, z, n, mrh, sz, mzn, mzh, hj;
        wi = &@p@_w_ir[j * @P@_INPUT_SIZE];
        ir = @p@_linear_row(wi, @p@_b_ir[j], x, @P@_INPUT_SIZE, &@p@_requant[0],
                            @P@_LO_LIN_IR, @P@_HI_LIN_IR);
        wi = &@p@_w_iz[j * @P@_INPUT_SIZE];
        iz = @p@_linear_row(wi, @p@_b_iz[j], x, @P@_INPUT_SIZE, &@p@_requant[1],
                            @P@_LO_LIN_IZ, @P@_HI_LIN_IZ);
        wi = &@p@_w_in[j * @P@_INPUT_SIZE];
        in = @p@_linear_row(wi, @p@_b_in[j], x, @P@_INPUT_SIZE, &@p@_requant[2],
                            @P@_LO_LIN_IN, @P@_HI_LIN_IN);
        wh = &@p@_w_hr[j * @P@_HIDDEN];
        hr = @p@_linear_row(wh, @p@_b_hr[j], s->h, @P@_HIDDEN, &@p@_requant[3],
                            @P@_LO_LIN_HR, @P@_HI_LIN_HR);
        wh = &@p@_w_hz[j * @P@_HIDDEN];
        hz = @p@_linear_row(wh, @p@_b_hz[j], s->h, @P@_HIDDEN, &@p@_requant[4],
                            @P@_LO_LIN_HZ, @P@_HI_LIN_HZ);
        wh = &@p@_w_hn[j * @P@_HIDDEN];
        hn = @p@_linear_row(wh, @p@_b_hn[j], s->h, @P@_HIDDEN, &@p@_requant[5],
                            @P@_LO_LIN_HN, @P@_HI_LIN_HN);

        ar = @p@_sat(@p@_apply2(&@p@_add[0], ir, hr), @P@_LO_ADD_R, @P@_HI_ADD_R);
        az = @p@_sat(@p@_apply2(&@p@_add[1], iz, hz), @P@_LO_ADD_Z, @P@_HI_ADD_Z);
        r = (int32_t)@p@_lut_r[ar + @P@_OFF_ADD_R];
        z = (int32_t)@p@_lut_z[az + @P@_OFF_ADD_Z];
        mrh = @p@_sat(@p@_apply(&@p@_mul[1], (int64_t)r * (int64_t)hn),
                      @P@_LO_MUL_RH, @P@_HI_MUL_RH);
        an = @p@_sat(@p@_apply2(&@p@_add[2], in, mrh), @P@_LO_ADD_N, @P@_HI_ADD_N);
        n = (int32_t)@p@_lut_n[an + @P@_OFF_ADD_N];
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
}

void @p@_logits(const @p@_state_t *s, int32_t out[@P@_CLASSES])
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

void @p@_run(const int8_t *x, size_t steps, int32_t logits[@P@_CLASSES])
{
    @p@_state_t s;
    size_t t;
    @p@_reset(&s);
    for (t = 0; t < steps; ++t) {
        @p@_step(&s, &x[t * @P@_INPUT_SIZE]);
    }
    @p@_logits(&s, logits);
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
