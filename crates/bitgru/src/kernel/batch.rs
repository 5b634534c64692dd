//! The batch kernel: many sequences in lockstep over packed weights.
//!
//! [`PackedGru`] is the kernel's view of a prepared model: plain integer data with named gates,
//! no floats. At each step of a tile of sequences, the three input linears are one `[3H, I]`
//! product and the three recurrent linears one `[3H, H]` product per sequence (biases folded into
//! the accumulator's initial value), followed by the element-wise stages of the cell. The
//! arithmetic of every stage is the reference kernel's ([`super::reference`]), term for term: i64
//! products rounded once, the same saturations, the same tables. Only the order in which the
//! products are summed differs, and i32 sums are exact (no overflow: |acc + bias| < 2^31 for
//! `cols ≤` [`MAX_COLS`]).
//!
//! Packed layout (every SIMD variant reads the same bytes): rows padded to a multiple of
//! [`ROW_BLOCK`], columns to a multiple of [`K_BLOCK`], stored `[cols/4][rows][4]`, so that one
//! 64-byte load holds 16 rows × 4 columns (AVX-512 VNNI `vpdpbusd`), 32 bytes 8 × 4 (AVX2,
//! widened to i16 for `vpmaddwd`) and 16 bytes 4 × 4 (wasm `i32x4.dot_i16x8_s`). VNNI multiplies
//! u8 by i8: the activations are offset by +128 and `128 · Σ_k W[r, k]` is subtracted from that
//! variant's initial accumulator, which is exact in (wrapping) i32.
use super::Variant;
use crate::error::{Error, Result};
use crate::fixed::{qmax_unsigned, sat_signed, sat_unsigned, DualMultiplier, Multiplier};
use crate::genome::{Gene, Genome, N_GENES};
use crate::quant::QuantGru;

/// Rows of a packed matrix are padded to a multiple of this.
pub const ROW_BLOCK: usize = 16;
/// Columns of a packed matrix are padded to a multiple of this.
pub const K_BLOCK: usize = 4;
/// Largest number of columns of a linear layer: keeps `Σ w·x + bias` (and the VNNI variant's
/// offset sums) inside i32.
pub const MAX_COLS: usize = 1 << 15;

/// The three linears of one input (x or h) as one matrix: gates r, z, n stacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateMatrix {
    /// 3H.
    pub rows: usize,
    /// Input size (x) or H (h).
    pub cols: usize,
    /// `[3H, cols]` row-major weight codes, gates r, z, n.
    pub w: Vec<i8>,
    /// `[3H]` i32 biases.
    pub bias: Vec<i32>,
    /// Requantization of each gate's accumulator to its output code.
    pub requant: [Multiplier; 3],
    /// Output bits of each gate.
    pub bits: [u8; 3],
    pub(crate) rows_pad: usize,
    pub(crate) cols_pad: usize,
    /// `[cols_pad / 4][rows_pad][4]`.
    pub(crate) packed: Vec<i8>,
    /// `[rows_pad]` biases (zero padded).
    pub(crate) bias_pad: Vec<i32>,
    /// `[rows_pad]` biases minus `128 · Σ_k W[r, k]` (wrapping), for u8 × i8 products.
    pub(crate) bias_u8: Vec<i32>,
}

impl GateMatrix {
    fn new(lins: &[crate::quant::QLinear], rows: usize, cols: usize) -> Result<GateMatrix> {
        if cols > MAX_COLS {
            return Err(Error::invalid(
                "packed linear",
                format!("{cols} columns exceed the kernel's limit {MAX_COLS}"),
            ));
        }
        let mut w = Vec::with_capacity(rows * cols);
        let mut bias = Vec::with_capacity(rows);
        for l in lins {
            w.extend_from_slice(&l.w);
            bias.extend_from_slice(&l.bias);
        }
        let rows_pad = rows.div_ceil(ROW_BLOCK) * ROW_BLOCK;
        let cols_pad = cols.div_ceil(K_BLOCK).max(1) * K_BLOCK;
        let mut packed = vec![0i8; rows_pad * cols_pad];
        let mut bias_pad = vec![0i32; rows_pad];
        let mut bias_u8 = vec![0i32; rows_pad];
        for r in 0..rows {
            let row = &w[r * cols..(r + 1) * cols];
            for (k, &v) in row.iter().enumerate() {
                packed[((k / K_BLOCK) * rows_pad + r) * K_BLOCK + k % K_BLOCK] = v;
            }
            let sum: i32 = row.iter().map(|&v| v as i32).sum();
            bias_pad[r] = bias[r];
            bias_u8[r] = bias[r].wrapping_sub(sum.wrapping_mul(128));
        }
        Ok(GateMatrix {
            rows,
            cols,
            w,
            bias,
            requant: [lins[0].requant, lins[1].requant, lins[2].requant],
            bits: [lins[0].bits, lins[1].bits, lins[2].bits],
            rows_pad,
            cols_pad,
            packed,
            bias_pad,
            bias_u8,
        })
    }
}

/// A table indexed by `code + 2^(b−1)` (signed input codes of b ≤ 8 bits), padded to 256 entries
/// so that a masked index needs no bounds check.
pub type Lut = [i32; 256];

/// The element-wise parameters of the cell (everything after the linears).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellParams {
    pub add_r: DualMultiplier,
    pub add_z: DualMultiplier,
    pub add_n: DualMultiplier,
    pub add_h: DualMultiplier,
    pub sub_z: Multiplier,
    pub mul_rh: Multiplier,
    pub mul_zn: Multiplier,
    pub mul_zh: Multiplier,
    /// σ table of r, indexed by `add_r + 2^(b_add_r − 1)`.
    pub lut_r: Lut,
    /// σ table of z.
    pub lut_z: Lut,
    /// tanh table of n.
    pub lut_n: Lut,
    /// Bits of every gene.
    pub bits: [u8; N_GENES],
    /// The three tables as bytes (r, z unsigned; n two's complement), for byte-permute lookups.
    pub(crate) lut_bytes: [[u8; 256]; 3],
}

/// The eval-time parameters of a prepared model, as the kernels read them: plain integer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedGru {
    pub genome: Genome,
    pub input: usize,
    pub hidden: usize,
    pub classes: usize,
    /// Input linears ir, iz, in as one `[3H, I]` matrix.
    pub wx: GateMatrix,
    /// Recurrent linears hr, hz, hn as one `[3H, H]` matrix.
    pub wh: GateMatrix,
    pub cell: CellParams,
    /// `[C, H]` head weights (8-bit codes).
    pub head_w: Vec<i8>,
    /// `[C]` head biases.
    pub head_b: Vec<i32>,
}

fn lut_of<T: Copy + Into<i32>>(t: &[T]) -> Result<Lut> {
    if t.len() > 256 {
        return Err(Error::invalid("LUT", format!("{} entries > 256", t.len())));
    }
    let mut out = [0i32; 256];
    for (o, &v) in out.iter_mut().zip(t) {
        *o = v.into();
    }
    Ok(out)
}

fn lut_bytes(t: &Lut) -> [u8; 256] {
    std::array::from_fn(|k| t[k] as u8)
}

impl PackedGru {
    /// Packs a prepared model (cost: one pass over its weights).
    pub fn pack(q: &QuantGru) -> Result<PackedGru> {
        if q.lin.len() != 6 {
            return Err(Error::length("linear layers", 6, q.lin.len()));
        }
        let (i, h, c) = (q.input_size, q.hidden, q.classes);
        for (k, l) in q.lin.iter().enumerate() {
            let cols = if k < 3 { i } else { h };
            if l.w.len() != h * cols || l.bias.len() != h {
                return Err(Error::Shape {
                    what: Gene::ALL[k].name().into(),
                    expected: vec![h, cols],
                    got: vec![l.bias.len(), l.w.len() / h.max(1)],
                });
            }
        }
        if q.head.w.len() != c * h || q.head.bias.len() != c {
            return Err(Error::length("head weights", c * h, q.head.w.len()));
        }
        let mut bits = [0u8; N_GENES];
        for g in Gene::ALL {
            bits[g as usize] = q.genome.get(g);
        }
        Ok(PackedGru {
            genome: q.genome,
            input: i,
            hidden: h,
            classes: c,
            wx: GateMatrix::new(&q.lin[0..3], 3 * h, i)?,
            wh: GateMatrix::new(&q.lin[3..6], 3 * h, h)?,
            cell: CellParams {
                add_r: q.add_r,
                add_z: q.add_z,
                add_n: q.add_n,
                add_h: q.add_h,
                sub_z: q.sub_z,
                mul_rh: q.mul_rh,
                mul_zn: q.mul_zn,
                mul_zh: q.mul_zh,
                lut_r: lut_of(&q.lut_r)?,
                lut_z: lut_of(&q.lut_z)?,
                lut_n: lut_of(&q.lut_n)?,
                bits,
                lut_bytes: [
                    lut_bytes(&lut_of(&q.lut_r)?),
                    lut_bytes(&lut_of(&q.lut_z)?),
                    lut_bytes(&lut_of(&q.lut_n)?),
                ],
            },
            head_w: q.head.w.clone(),
            head_b: q.head.bias.clone(),
        })
    }

    /// Default number of sequences run in lockstep (accumulators of a tile stay in L1/L2).
    pub fn default_tile(&self) -> usize {
        (4096 / self.wh.rows_pad.max(1)).clamp(1, 64)
    }

    fn check_variant(variant: Variant) -> Result<()> {
        if variant.available() {
            Ok(())
        } else {
            Err(Error::invalid(
                "kernel variant",
                format!(
                    "{} is not available on this machine or build",
                    variant.name()
                ),
            ))
        }
    }

    fn check_batch(&self, codes: &[i8], n: usize, steps: usize, out: &[i32]) -> Result<()> {
        if steps == 0 || codes.len() != n * steps * self.input {
            return Err(Error::invalid(
                "code batch",
                format!(
                    "{} codes for [{n}, {steps}, {}] (steps must be ≥ 1)",
                    codes.len(),
                    self.input
                ),
            ));
        }
        if out.len() != n * self.classes {
            return Err(Error::length("logits", n * self.classes, out.len()));
        }
        Ok(())
    }

    /// Logits (`[n, classes]` row-major, into `out`) of `n` sequences of `steps` steps given as
    /// one contiguous `[n, steps, input]` code tensor. Shapes are checked once here; the loop
    /// over tiles and steps neither allocates (after `scratch`'s first use with this model's
    /// shape) nor fails.
    pub fn logits_into(
        &self,
        variant: Variant,
        codes: &[i8],
        n: usize,
        steps: usize,
        scratch: &mut BatchScratch,
        out: &mut [i32],
    ) -> Result<()> {
        Self::check_variant(variant)?;
        self.check_batch(codes, n, steps, out)?;
        scratch.fit(self, false);
        let seq = steps * self.input;
        let tile = scratch.tile;
        for b0 in (0..n).step_by(tile) {
            let m = tile.min(n - b0);
            let x = &codes[b0 * seq..(b0 + m) * seq];
            let o = &mut out[b0 * self.classes..(b0 + m) * self.classes];
            dispatch_run::<false>(variant, self, x, m, steps, scratch, o, &mut |_, _, _| {});
        }
        Ok(())
    }

    /// [`PackedGru::logits_into`] with an observer called after every step of every tile as
    /// `observe(first_sequence, t, codes)`, where `codes[gene][b · H + j]` is unit `j` of
    /// sequence `first_sequence + b` (for the sequences of that tile).
    #[allow(clippy::too_many_arguments)]
    pub fn logits_observed(
        &self,
        variant: Variant,
        codes: &[i8],
        n: usize,
        steps: usize,
        scratch: &mut BatchScratch,
        out: &mut [i32],
        mut observe: impl FnMut(usize, usize, &[Vec<i32>]),
    ) -> Result<()> {
        Self::check_variant(variant)?;
        self.check_batch(codes, n, steps, out)?;
        scratch.fit(self, true);
        let seq = steps * self.input;
        let tile = scratch.tile;
        for b0 in (0..n).step_by(tile) {
            let m = tile.min(n - b0);
            let x = &codes[b0 * seq..(b0 + m) * seq];
            let o = &mut out[b0 * self.classes..(b0 + m) * self.classes];
            dispatch_run::<true>(variant, self, x, m, steps, scratch, o, &mut |_, t, c| {
                observe(b0, t, c)
            });
        }
        Ok(())
    }

    /// One streaming step of one sequence (live keyword spotting): updates `state` from the
    /// input codes `x_t` (`[input]`) with `state`'s variant.
    pub fn step_stream(&self, x_t: &[i8], state: &mut StreamState) -> Result<()> {
        if x_t.len() != self.input {
            return Err(Error::length(
                "input codes of one step",
                self.input,
                x_t.len(),
            ));
        }
        state.scratch.fit(self, false);
        dispatch_step(state.variant, self, x_t, &mut state.scratch);
        Ok(())
    }

    /// Logits of a stream's current state.
    pub fn stream_logits(&self, state: &StreamState) -> Vec<i32> {
        let mut out = vec![0; self.classes];
        if state.scratch.h.len() >= self.hidden {
            head(self, &state.scratch.h[..self.hidden], &mut out);
        } else {
            out.copy_from_slice(&self.head_b);
        }
        out
    }
}

/// Caller-owned scratch of the batch kernel, reused across calls (allocates only when the model
/// shape or tile changes).
#[derive(Debug, Clone, Default)]
pub struct BatchScratch {
    tile: usize,
    shape: (usize, usize, usize, bool),
    /// `[tile][wx.cols_pad]` input codes of the current step (zero padded).
    x_pad: Vec<i8>,
    /// `[tile][wh.cols_pad]` state codes (zero padded).
    pub(crate) h: Vec<i8>,
    /// `[tile][rows_pad]` accumulators.
    acc_x: Vec<i32>,
    acc_h: Vec<i32>,
    /// Per-gene codes `[tile · H]` (only when observing).
    codes: Vec<Vec<i32>>,
    /// Stage buffers of the element-wise pass.
    stages: Stages,
}

impl BatchScratch {
    /// Scratch for `p` with its default tile.
    pub fn new(p: &PackedGru) -> BatchScratch {
        BatchScratch::with_tile(p, p.default_tile())
    }

    /// Scratch running `tile` (≥ 1) sequences in lockstep.
    pub fn with_tile(p: &PackedGru, tile: usize) -> BatchScratch {
        let mut s = BatchScratch {
            tile: tile.max(1),
            ..BatchScratch::default()
        };
        s.fit(p, false);
        s
    }

    /// Sequences per tile.
    pub fn tile(&self) -> usize {
        self.tile
    }

    fn fit(&mut self, p: &PackedGru, observe: bool) {
        if self.tile == 0 {
            self.tile = p.default_tile();
        }
        let shape = (p.wx.cols_pad, p.wh.cols_pad, p.wh.rows_pad, observe);
        if self.shape == shape && self.x_pad.len() == self.tile * p.wx.cols_pad {
            return;
        }
        let t = self.tile;
        self.shape = shape;
        self.x_pad = vec![0; t * p.wx.cols_pad];
        self.h = vec![0; t * p.wh.cols_pad];
        self.acc_x = vec![0; t * p.wx.rows_pad];
        self.acc_h = vec![0; t * p.wh.rows_pad];
        self.codes = if observe {
            vec![vec![0; t * p.hidden]; N_GENES]
        } else {
            Vec::new()
        };
    }
}

/// State of one streamed sequence for [`PackedGru::step_stream`].
#[derive(Debug, Clone)]
pub struct StreamState {
    variant: Variant,
    hidden: usize,
    scratch: BatchScratch,
}

impl StreamState {
    /// A zero state for `p`, run with `variant` (checked to be available).
    pub fn new(p: &PackedGru, variant: Variant) -> Result<StreamState> {
        PackedGru::check_variant(variant)?;
        Ok(StreamState {
            variant,
            hidden: p.hidden,
            scratch: BatchScratch::with_tile(p, 1),
        })
    }

    /// Current state codes (`[H]`).
    pub fn state(&self) -> &[i8] {
        &self.scratch.h[..self.hidden]
    }

    /// Resets the state to zero (start of a new stream).
    pub fn reset(&mut self) {
        self.scratch.h.iter_mut().for_each(|v| *v = 0);
    }

    /// Decays the state toward zero: `h ← round(h · num / 256)`, ties away from zero
    /// (`num = 256` keeps it; integers only). The streaming detector's leaky state.
    pub fn decay(&mut self, num: u16) {
        let num = i32::from(num.min(256));
        for v in &mut self.scratch.h[..self.hidden] {
            let p = i32::from(*v) * num;
            let r = if p >= 0 {
                (p + 128) >> 8
            } else {
                -((-p + 128) >> 8)
            };
            *v = r as i8;
        }
    }

    /// The variant this stream runs.
    pub fn variant(&self) -> Variant {
        self.variant
    }
}

/// The matrix product of one variant: `acc[r] = Σ_k W[r, k] · x[k] + bias[r]` for every padded
/// row `r < rows_pad`, with `x` holding `cols_pad` codes (zero padded).
pub(crate) trait Gemm {
    fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]);

    /// `out[j] = t[a[j] + off]`; `bytes` is `t` as bytes, `signed` whether entries are i8
    /// (else u8). The default is the portable loop.
    #[inline(always)]
    fn lookup(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &[i32], out: &mut [i32]) {
        let _ = (bytes, signed);
        lookup(t, off, a, out)
    }
}

/// Portable product over the row-major weights (the reference kernel's dot product).
pub(crate) struct ScalarGemm;

impl Gemm for ScalarGemm {
    #[inline(always)]
    fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]) {
        let cols = m.cols;
        for (r, a) in acc[..m.rows].iter_mut().enumerate() {
            *a = super::reference::dot_i8(&m.w[r * cols..(r + 1) * cols], &x[..cols]) + m.bias[r];
        }
    }
}

/// Observer of a tile: `(first sequence, t, codes by gene)`.
pub(crate) type Observe<'a> = dyn FnMut(usize, usize, &[Vec<i32>]) + 'a;

#[allow(clippy::too_many_arguments)]
fn dispatch_run<const OBS: bool>(
    variant: Variant,
    p: &PackedGru,
    x: &[i8],
    n: usize,
    steps: usize,
    s: &mut BatchScratch,
    out: &mut [i32],
    obs: &mut Observe<'_>,
) {
    match variant {
        #[cfg(target_arch = "x86_64")]
        Variant::Avx512Vnni => super::x86::run_vnni::<OBS>(p, x, n, steps, s, out, obs),
        #[cfg(target_arch = "x86_64")]
        Variant::Avx2 => super::x86::run_avx2::<OBS>(p, x, n, steps, s, out, obs),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Variant::Simd128 => super::wasm::run_simd128::<OBS>(p, x, n, steps, s, out, obs),
        _ => run_tile::<ScalarGemm, OBS>(p, x, n, steps, s, out, obs),
    }
}

fn dispatch_step(variant: Variant, p: &PackedGru, x_t: &[i8], s: &mut BatchScratch) {
    match variant {
        #[cfg(target_arch = "x86_64")]
        Variant::Avx512Vnni => super::x86::step_vnni(p, x_t, s),
        #[cfg(target_arch = "x86_64")]
        Variant::Avx2 => super::x86::step_avx2(p, x_t, s),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Variant::Simd128 => super::wasm::step_simd128(p, x_t, s),
        _ => step_block::<ScalarGemm, false>(p, &|_| x_t, 1, s),
    }
}

/// Runs a tile of `n ≤ tile` sequences (`x` is `[n, steps, input]`) and writes their logits.
#[inline(always)]
pub(crate) fn run_tile<G: Gemm, const OBS: bool>(
    p: &PackedGru,
    x: &[i8],
    n: usize,
    steps: usize,
    s: &mut BatchScratch,
    out: &mut [i32],
    obs: &mut Observe<'_>,
) {
    let (i_sz, hp) = (p.input, p.wh.cols_pad);
    s.h[..n * hp].iter_mut().for_each(|v| *v = 0);
    for t in 0..steps {
        step_block::<G, OBS>(
            p,
            &|b| &x[(b * steps + t) * i_sz..(b * steps + t + 1) * i_sz],
            n,
            s,
        );
        if OBS {
            obs(0, t, &s.codes);
        }
    }
    for b in 0..n {
        head(
            p,
            &s.h[b * hp..b * hp + p.hidden],
            &mut out[b * p.classes..(b + 1) * p.classes],
        );
    }
}

#[inline(always)]
fn head(p: &PackedGru, h: &[i8], out: &mut [i32]) {
    let hs = p.hidden;
    for (c, o) in out.iter_mut().enumerate() {
        *o = super::reference::dot_i8(&p.head_w[c * hs..(c + 1) * hs], h) + p.head_b[c];
    }
}

/// One step of `n` sequences in lockstep; `x_of(b)` gives sequence `b`'s input codes.
#[inline(always)]
pub(crate) fn step_block<'x, G: Gemm, const OBS: bool>(
    p: &PackedGru,
    x_of: &dyn Fn(usize) -> &'x [i8],
    n: usize,
    s: &mut BatchScratch,
) {
    let (i_sz, ip, hp) = (p.input, p.wx.cols_pad, p.wh.cols_pad);
    let (rx, rh) = (p.wx.rows_pad, p.wh.rows_pad);
    let BatchScratch {
        x_pad,
        h,
        acc_x,
        acc_h,
        codes,
        stages,
        ..
    } = s;
    for b in 0..n {
        let xp = &mut x_pad[b * ip..(b + 1) * ip];
        xp[..i_sz].copy_from_slice(x_of(b));
        G::gemm(&p.wx, xp, &mut acc_x[b * rx..(b + 1) * rx]);
        G::gemm(
            &p.wh,
            &h[b * hp..(b + 1) * hp],
            &mut acc_h[b * rh..(b + 1) * rh],
        );
    }
    for b in 0..n {
        cell::<G, OBS>(
            p,
            &acc_x[b * rx..(b + 1) * rx],
            &acc_h[b * rh..(b + 1) * rh],
            &mut h[b * hp..b * hp + p.hidden],
            stages,
            codes,
            b * p.hidden,
        );
    }
}

/// `out = sat_b(M · acc)` (the linears' requantization).
#[inline(always)]
fn requant(m: Multiplier, bits: u8, acc: &[i32], out: &mut [i32]) {
    for (o, &a) in out.iter_mut().zip(acc) {
        *o = sat_signed(m.apply(a as i64), bits);
    }
}

/// `out = sat_b((A·a + B·b) >> s)` (the additions).
#[inline(always)]
fn dual(d: DualMultiplier, bits: u8, a: &[i32], b: &[i32], out: &mut [i32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = sat_signed(d.apply(x as i64, y as i64), bits);
    }
}

/// `out = sat_b(M · a · b)` (the products).
#[inline(always)]
fn mul(m: Multiplier, bits: u8, a: &[i32], b: &[i32], out: &mut [i32]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = sat_signed(m.apply(x as i64 * y as i64), bits);
    }
}

/// `out = lut[a + off]` (the activations; `a + off ∈ [0, 2^b)`, b ≤ 8).
#[inline(always)]
fn lookup(t: &Lut, off: i32, a: &[i32], out: &mut [i32]) {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = t[((x + off) as usize) & 255];
    }
}

/// Per-sequence stage buffers of the element-wise pass, indexed by gene.
#[derive(Debug, Clone, Default)]
pub(crate) struct Stages {
    v: Vec<i32>,
    h: usize,
}

impl Stages {
    fn fit(&mut self, h: usize) {
        if self.h != h || self.v.len() != (N_GENES + 1) * h {
            self.h = h;
            self.v = vec![0; (N_GENES + 1) * h];
        }
    }
}

/// The element-wise stages of one sequence, stage by stage over its H units (loops the
/// compiler vectorizes): the reference kernel's arithmetic, unit by unit.
#[inline(always)]
fn cell<G: Gemm, const OBS: bool>(
    p: &PackedGru,
    ax: &[i32],
    ah: &[i32],
    h: &mut [i8],
    st: &mut Stages,
    codes: &mut [Vec<i32>],
    base: usize,
) {
    let hs = p.hidden;
    let c = &p.cell;
    let bits = c.bits;
    let b = |g: Gene| bits[g as usize];
    st.fit(hs);
    let mut v = st.v.chunks_exact_mut(hs);
    let mut next = || v.next().expect("N_GENES + 1 stage buffers");
    let (ir, iz, inn, hr, hz, hn) = (next(), next(), next(), next(), next(), next());
    let (ar, az, an, sz, hnew) = (next(), next(), next(), next(), next());
    let (mrh, mzn, mzh, r, z, nn) = (next(), next(), next(), next(), next(), next());
    let hprev = next();
    let (mx, bx, mh, bh) = (p.wx.requant, p.wx.bits, p.wh.requant, p.wh.bits);
    requant(mx[0], bx[0], &ax[..hs], ir);
    requant(mx[1], bx[1], &ax[hs..2 * hs], iz);
    requant(mx[2], bx[2], &ax[2 * hs..3 * hs], inn);
    requant(mh[0], bh[0], &ah[..hs], hr);
    requant(mh[1], bh[1], &ah[hs..2 * hs], hz);
    requant(mh[2], bh[2], &ah[2 * hs..3 * hs], hn);
    let (b_ar, b_az, b_an) = (b(Gene::AddR), b(Gene::AddZ), b(Gene::AddN));
    dual(c.add_r, b_ar, ir, hr, ar);
    dual(c.add_z, b_az, iz, hz, az);
    G::lookup(&c.lut_r, &c.lut_bytes[0], false, 1 << (b_ar - 1), ar, r);
    G::lookup(&c.lut_z, &c.lut_bytes[1], false, 1 << (b_az - 1), az, z);
    mul(c.mul_rh, b(Gene::MulRh), r, hn, mrh);
    dual(c.add_n, b_an, inn, mrh, an);
    G::lookup(&c.lut_n, &c.lut_bytes[2], true, 1 << (b_an - 1), an, nn);
    let z_max = qmax_unsigned(b(Gene::SigZ)) as i64;
    let b_sz = b(Gene::SubZ);
    for (o, &zj) in sz.iter_mut().zip(z.iter()) {
        *o = sat_unsigned(c.sub_z.apply(z_max - zj as i64), b_sz);
    }
    mul(c.mul_zn, b(Gene::MulZn), sz, nn, mzn);
    for (o, &x) in hprev.iter_mut().zip(h.iter()) {
        *o = x as i32;
    }
    mul(c.mul_zh, b(Gene::MulZh), z, hprev, mzh);
    dual(c.add_h, b(Gene::AddH), mzn, mzh, hnew);
    for (o, &x) in h.iter_mut().zip(hnew.iter()) {
        *o = x as i8;
    }
    if OBS {
        for (g, src) in [
            (Gene::LinIr, &*ir),
            (Gene::LinIz, &*iz),
            (Gene::LinIn, &*inn),
            (Gene::LinHr, &*hr),
            (Gene::LinHz, &*hz),
            (Gene::LinHn, &*hn),
            (Gene::AddR, &*ar),
            (Gene::AddZ, &*az),
            (Gene::AddN, &*an),
            (Gene::SubZ, &*sz),
            (Gene::AddH, &*hnew),
            (Gene::MulRh, &*mrh),
            (Gene::MulZn, &*mzn),
            (Gene::MulZh, &*mzh),
            (Gene::SigR, &*r),
            (Gene::SigZ, &*z),
            (Gene::TanhN, &*nn),
        ] {
            codes[g as usize][base..base + hs].copy_from_slice(src);
        }
    }
}
