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
use crate::fixed::{
    qmax_signed, qmax_unsigned, sat_signed, sat_unsigned, Dual32, DualMultiplier, HighWord, Mul32,
    Multiplier,
};
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
    /// The i32 forms of the additions (r, z, n, h) when they exist (else the i64 loop runs).
    pub(crate) add32: [Option<Dual32>; 4],
    /// The i32 forms of the products (rh, zn, zh).
    pub(crate) mul32: [Option<Mul32>; 3],
    /// The i32 form of `1 − z`'s rescale.
    pub(crate) sub_z32: Option<Mul32>,
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
    /// The fused element-wise pass's parameters, gathered at pack time (`None` when a stage
    /// lacks its i32 form: then the staged pass runs).
    fused: Option<Fused>,
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

pub(crate) fn lut_bytes(t: &Lut) -> [u8; 256] {
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
        let (lut_r, lut_z, lut_n) = (lut_of(&q.lut_r)?, lut_of(&q.lut_z)?, lut_of(&q.lut_n)?);
        let mut p = PackedGru {
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
                lut_r,
                lut_z,
                lut_n,
                bits,
                lut_bytes: [&lut_r, &lut_z, &lut_n].map(lut_bytes),
                add32: [q.add_r, q.add_z, q.add_n, q.add_h].map(DualMultiplier::dual32),
                mul32: [q.mul_rh, q.mul_zn, q.mul_zh].map(Multiplier::mul32),
                sub_z32: q.sub_z.mul32(),
            },
            head_w: q.head.w.clone(),
            head_b: q.head.bias.clone(),
            fused: None,
        };
        p.fused = Fused::new(&p);
        Ok(p)
    }

    /// Default number of sequences run in lockstep (accumulators of a tile stay in L1/L2).
    /// A multiple of 4 when ≥ 4 (the VNNI product runs four sequences at a time).
    pub fn default_tile(&self) -> usize {
        let t = (4096 / self.wh.rows_pad.max(1)).clamp(1, 64);
        if t >= 4 {
            t / 4 * 4
        } else {
            t
        }
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
            let job = Job::Tile {
                x,
                n: m,
                steps,
                out: o,
                obs: None,
            };
            dispatch(variant, self, job, scratch);
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
            let mut obs = |_: usize, t: usize, c: &[Vec<i32>]| observe(b0, t, c);
            let job = Job::Tile {
                x,
                n: m,
                steps,
                out: o,
                obs: Some(&mut obs),
            };
            dispatch(variant, self, job, scratch);
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
        dispatch(state.variant, self, Job::Step(x_t), &mut state.scratch);
        Ok(())
    }

    /// Runs one [`Stage`] of one step for all `scratch.tile()` sequences of `scratch`'s current
    /// tile, as the batch kernel does inside [`PackedGru::logits_into`]: `Products` from the
    /// scratch's current inputs and states, `Elementwise` from its accumulators (updating the
    /// states). For timing the stages separately (`benches/kernel_stages.rs`); results are only
    /// meaningful as part of a whole step.
    pub fn run_stage(
        &self,
        variant: Variant,
        stage: Stage,
        scratch: &mut BatchScratch,
    ) -> Result<()> {
        Self::check_variant(variant)?;
        scratch.fit(self, false);
        dispatch(variant, self, Job::Stage(stage), scratch);
        Ok(())
    }

    /// Whether the unobserved element-wise pass of this model can run fused (every stage has its
    /// exact i32 form: true for calibrated models; every variant but AVX2 then fuses); else it
    /// runs stage by stage, like the observed pass.
    pub fn fused_elementwise(&self) -> bool {
        self.fused.is_some()
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
pub(crate) trait Gemm: Sized {
    fn gemm(m: &GateMatrix, x: &[i8], acc: &mut [i32]);

    /// [`Gemm::gemm`] of `n` sequences: sequence `b` reads `x[b · xs..]` and writes
    /// `acc[b · accs..]` (`xs ≥ cols_pad`, `accs ≥ rows_pad`). The default is one call per
    /// sequence; a variant may share each weight load between several sequences.
    #[inline(always)]
    fn gemm_many(m: &GateMatrix, x: &[i8], xs: usize, acc: &mut [i32], accs: usize, n: usize) {
        for b in 0..n {
            Self::gemm(
                m,
                &x[b * xs..(b + 1) * xs],
                &mut acc[b * accs..(b + 1) * accs],
            );
        }
    }

    /// `out[j] = t[a[j] + off]`; `bytes` is `t` as bytes, `signed` whether entries are i8
    /// (else u8). The default is the portable loop.
    #[inline(always)]
    fn lookup(t: &Lut, bytes: &[u8; 256], signed: bool, off: i32, a: &[i32], out: &mut [i32]) {
        let _ = (bytes, signed);
        lookup(t, off, a, out)
    }

    /// Units per chunk of the fused element-wise pass ([`cell_fused`]): 8 or 16.
    const LANES: usize = 16;

    /// Whether the unobserved element-wise pass runs fused when it can (else stage by stage).
    const FUSED: bool = true;

    /// The fused element-wise pass of the first `n` sequences of a tile (`h`: `[n][wh.cols_pad]`
    /// states, `acc_x`, `acc_h`: `[n][rows_pad]` accumulators). The default runs [`cell_fused`]
    /// (portable lane arithmetic over chunks of [`Gemm::LANES`] units) on each sequence; a variant
    /// may replace it with explicit SIMD.
    #[inline(always)]
    fn cells_fused(p: &PackedGru, f: &Fused, n: usize, h: &mut [i8], acc_x: &[i32], acc_h: &[i32]) {
        let (hp, rx, rh) = (p.wh.cols_pad, p.wx.rows_pad, p.wh.rows_pad);
        for b in 0..n {
            let (ax, ah) = (&acc_x[b * rx..(b + 1) * rx], &acc_h[b * rh..(b + 1) * rh]);
            let hb = &mut h[b * hp..b * hp + p.hidden];
            // (A constant of the variant: one of the two arms is compiled.)
            if Self::LANES == 8 {
                cell_fused::<Self, 8>(p, f, ax, ah, hb);
            } else {
                cell_fused::<Self, 16>(p, f, ax, ah, hb);
            }
        }
    }

    /// [`Gemm::lookup`] of one chunk of the fused element-wise pass.
    #[inline(always)]
    fn lookup_chunk<const N: usize>(
        t: &Lut,
        bytes: &[u8; 256],
        signed: bool,
        off: i32,
        a: &[i32; N],
    ) -> [i32; N] {
        let mut out = [0; N];
        Self::lookup(t, bytes, signed, off, a, &mut out);
        out
    }
}

/// The shape of every multi-sequence product ([`Gemm::gemm_many`] of a variant with a
/// 4-sequence kernel): checks that `n / 4` groups of four sequences fit `x` and `acc`, runs
/// `quads(x, acc, n / 4)` on them, then `G::gemm` on the remaining `n mod 4` sequences.
/// (Only the SIMD variants have such a kernel: not built for wasm without simd128.)
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[inline(always)]
pub(crate) fn gemm_in_quads<G: Gemm>(
    m: &GateMatrix,
    x: &[i8],
    xs: usize,
    acc: &mut [i32],
    accs: usize,
    n: usize,
    quads: impl FnOnce(&[i8], &mut [i32], usize),
) {
    let q = n / 4;
    if q > 0 {
        assert!(xs >= m.cols_pad && accs >= m.rows_pad);
        assert!(x.len() >= (4 * q - 1) * xs + m.cols_pad);
        assert!(acc.len() >= (4 * q - 1) * accs + m.rows_pad);
        quads(x, acc, q);
    }
    for b in 4 * q..n {
        G::gemm(
            m,
            &x[b * xs..(b + 1) * xs],
            &mut acc[b * accs..(b + 1) * accs],
        );
    }
}

/// Portable product over the row-major weights (the reference kernel's dot product).
pub(crate) struct ScalarGemm;

impl Gemm for ScalarGemm {
    /// Not in wasm, where the fused pass measured slower (docs/BENCHMARKS.md, "Fused
    /// element-wise pass").
    const FUSED: bool = !cfg!(target_arch = "wasm32");

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

/// What one call of a variant's entry point runs (one monomorphized, feature-enabled entry
/// point per variant serves all of them).
pub(crate) enum Job<'a, 'o> {
    /// A tile of sequences (`x` is `[n, steps, input]`), logits into `out`; observed when `obs`
    /// is given.
    Tile {
        x: &'a [i8],
        n: usize,
        steps: usize,
        out: &'a mut [i32],
        obs: Option<&'a mut Observe<'o>>,
    },
    /// One step of one sequence.
    Step(&'a [i8]),
    /// One stage of one step of the scratch's whole tile.
    Stage(Stage),
    /// The variant's table lookups, for tests ([`lookup_variant`]).
    Lookup(LookupJob<'a>),
}

/// Lookups of `a` in `t` (offset `off`) by [`Gemm::lookup`] into `staged` and by
/// [`Gemm::lookup_chunk`] (chunks of `Gemm::LANES`, the last one zero padded, as in the fused
/// pass) into `chunked`.
pub(crate) struct LookupJob<'a> {
    pub t: &'a Lut,
    pub signed: bool,
    pub off: i32,
    pub a: &'a [i32],
    pub staged: &'a mut [i32],
    pub chunked: &'a mut [i32],
}

/// Runs [`LookupJob`] with `variant`'s lookups (for [`super::verify::check_lookups`]; `p` and
/// the scratch are not read).
pub(crate) fn lookup_variant(p: &PackedGru, variant: Variant, job: LookupJob<'_>) -> Result<()> {
    PackedGru::check_variant(variant)?;
    dispatch(variant, p, Job::Lookup(job), &mut BatchScratch::default());
    Ok(())
}

#[inline(always)]
fn run_lookup<G: Gemm, const N: usize>(j: LookupJob<'_>) {
    let bytes = lut_bytes(j.t);
    G::lookup(j.t, &bytes, j.signed, j.off, j.a, j.staged);
    for (a, o) in j.a.chunks(N).zip(j.chunked.chunks_mut(N)) {
        let mut c = [0; N];
        c[..a.len()].copy_from_slice(a);
        let got = G::lookup_chunk(j.t, &bytes, j.signed, j.off, &c);
        o.copy_from_slice(&got[..o.len()]);
    }
}

/// A stage of one step of the batch kernel (see [`PackedGru::run_stage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The input and recurrent products `[3H, I]·x` and `[3H, H]·h` of every sequence.
    Products,
    /// The element-wise stages of the cell (requantization, additions, tables, products).
    Elementwise,
}

/// Runs `job` with the product `G` (inlined into each variant's feature-enabled entry point).
#[inline(always)]
pub(crate) fn run_job<G: Gemm>(p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
    match job {
        Job::Tile {
            x,
            n,
            steps,
            out,
            obs: Some(obs),
        } => run_tile::<G, true>(p, x, n, steps, s, out, obs),
        Job::Tile {
            x, n, steps, out, ..
        } => run_tile::<G, false>(p, x, n, steps, s, out, &mut |_, _, _| {}),
        Job::Step(x_t) => step_block::<G, false>(p, &|_| x_t, 1, s),
        Job::Stage(Stage::Products) => {
            let n = s.tile;
            products::<G>(p, &|_| &[], n, s)
        }
        Job::Stage(Stage::Elementwise) => {
            let n = s.tile;
            cells::<G, false>(p, n, s)
        }
        Job::Lookup(j) if G::LANES == 8 => run_lookup::<G, 8>(j),
        Job::Lookup(j) => run_lookup::<G, 16>(j),
    }
}

fn dispatch(variant: Variant, p: &PackedGru, job: Job<'_, '_>, s: &mut BatchScratch) {
    match variant {
        #[cfg(target_arch = "x86_64")]
        Variant::Avx512Vnni => super::x86::vnni(p, job, s),
        #[cfg(target_arch = "x86_64")]
        Variant::Avx2 => super::x86::avx2(p, job, s),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Variant::Simd128 => super::wasm::simd128(p, job, s),
        _ => run_job::<ScalarGemm>(p, job, s),
    }
}

/// Runs a tile of `n ≤ tile` sequences (`x` is `[n, steps, input]`) and writes their logits.
#[inline(always)]
fn run_tile<G: Gemm, const OBS: bool>(
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
fn step_block<'x, G: Gemm, const OBS: bool>(
    p: &PackedGru,
    x_of: &dyn Fn(usize) -> &'x [i8],
    n: usize,
    s: &mut BatchScratch,
) {
    products::<G>(p, x_of, n, s);
    cells::<G, OBS>(p, n, s);
}

/// The products of one step: `acc_x`, `acc_h` of the first `n` sequences from their inputs
/// (copied into `x_pad` unless `x_of` gives an empty slice: then `x_pad` is used as it is) and
/// states.
#[inline(always)]
fn products<'x, G: Gemm>(
    p: &PackedGru,
    x_of: &dyn Fn(usize) -> &'x [i8],
    n: usize,
    s: &mut BatchScratch,
) {
    let (i_sz, ip, hp) = (p.input, p.wx.cols_pad, p.wh.cols_pad);
    let (rx, rh) = (p.wx.rows_pad, p.wh.rows_pad);
    for b in 0..n {
        let xb = x_of(b);
        if !xb.is_empty() {
            s.x_pad[b * ip..b * ip + i_sz].copy_from_slice(xb);
        }
    }
    G::gemm_many(&p.wx, &s.x_pad, ip, &mut s.acc_x, rx, n);
    G::gemm_many(&p.wh, &s.h, hp, &mut s.acc_h, rh, n);
}

/// The element-wise stages of one step of the first `n` sequences (updates their states): the
/// fused pass when every stage has its i32 form and nothing observes the codes, else stage by
/// stage.
#[inline(always)]
fn cells<G: Gemm, const OBS: bool>(p: &PackedGru, n: usize, s: &mut BatchScratch) {
    let (hp, rx, rh) = (p.wh.cols_pad, p.wx.rows_pad, p.wh.rows_pad);
    let BatchScratch {
        h,
        acc_x,
        acc_h,
        codes,
        stages,
        ..
    } = s;
    if G::FUSED && !OBS {
        if let Some(f) = &p.fused {
            G::cells_fused(p, f, n, h, acc_x, acc_h);
            return;
        }
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

/// `out = sat_b(M · acc)` (the linears' requantization of an i32 accumulator).
#[inline(always)]
fn requant(m: Multiplier, bits: u8, acc: &[i32], out: &mut [i32]) {
    match m.high_word() {
        Some(h) => {
            let (lo, hi) = (-qmax_signed(bits) - 1, qmax_signed(bits));
            for (o, &a) in out.iter_mut().zip(acc) {
                *o = h.apply(a).max(lo).min(hi);
            }
        }
        None => {
            for (o, &a) in out.iter_mut().zip(acc) {
                *o = sat_signed(m.apply(a as i64), bits);
            }
        }
    }
}

/// `out[j] = f(a[j], b[j])` (a loop the compiler vectorizes when `f` is lane arithmetic).
#[inline(always)]
fn map2(a: &[i32], b: &[i32], out: &mut [i32], f: impl Fn(i32, i32) -> i32) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

/// `out = sat_b((A·a + B·b) >> s)` (the additions of ≤ 8-bit codes): in i32 lanes when the
/// multiplier has an exact i32 form ([`Dual32`]), else in i64.
#[inline(always)]
fn dual(d: DualMultiplier, d32: Option<Dual32>, bits: u8, a: &[i32], b: &[i32], out: &mut [i32]) {
    let (lo, hi) = (-qmax_signed(bits) - 1, qmax_signed(bits));
    match d32 {
        Some(f) => map2(a, b, out, |x, y| f.apply(x, y).max(lo).min(hi)),
        None => map2(a, b, out, |x, y| {
            sat_signed(d.apply(x as i64, y as i64), bits)
        }),
    }
}

/// `out = sat_b(M · a · b)` (the products of ≤ 8-bit codes, |a·b| ≤ 2^15): in i32 lanes when
/// the multiplier has an exact i32 form ([`Mul32`]), else in i64.
#[inline(always)]
fn mul(m: Multiplier, m32: Option<Mul32>, bits: u8, a: &[i32], b: &[i32], out: &mut [i32]) {
    let (lo, hi) = (-qmax_signed(bits) - 1, qmax_signed(bits));
    match m32 {
        Some(f) => map2(a, b, out, |x, y| f.apply(x * y).max(lo).min(hi)),
        None => map2(a, b, out, |x, y| {
            sat_signed(m.apply(x as i64 * y as i64), bits)
        }),
    }
}

/// [`lookup`] with `sixteen(a, out)` (a SIMD variant's lookup of 16 units) on every 16 units
/// and the portable loop on the rest.
#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[inline(always)]
pub(crate) fn lookup_by_16(
    t: &Lut,
    off: i32,
    a: &[i32],
    out: &mut [i32],
    mut sixteen: impl FnMut(&[i32; 16], &mut [i32; 16]),
) {
    let n = a.len().min(out.len());
    let full = n / 16 * 16;
    for (ac, oc) in a[..full]
        .chunks_exact(16)
        .zip(out[..full].chunks_exact_mut(16))
    {
        sixteen(
            ac.try_into().expect("16 units"),
            oc.try_into().expect("16 units"),
        );
    }
    lookup(t, off, &a[full..n], &mut out[full..n]);
}

/// `out = lut[a + off]` (the activations; `a + off ∈ [0, 2^b)`, b ≤ 8).
#[inline(always)]
pub(crate) fn lookup(t: &Lut, off: i32, a: &[i32], out: &mut [i32]) {
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
    let ([a_r, a_z, a_n, a_h], [m_rh, m_zn, m_zh]) = (c.add32, c.mul32);
    dual(c.add_r, a_r, b_ar, ir, hr, ar);
    dual(c.add_z, a_z, b_az, iz, hz, az);
    G::lookup(&c.lut_r, &c.lut_bytes[0], false, 1 << (b_ar - 1), ar, r);
    G::lookup(&c.lut_z, &c.lut_bytes[1], false, 1 << (b_az - 1), az, z);
    mul(c.mul_rh, m_rh, b(Gene::MulRh), r, hn, mrh);
    dual(c.add_n, a_n, b_an, inn, mrh, an);
    G::lookup(&c.lut_n, &c.lut_bytes[2], true, 1 << (b_an - 1), an, nn);
    let z_max = qmax_unsigned(b(Gene::SigZ));
    let b_sz = b(Gene::SubZ);
    match c.sub_z32 {
        Some(f) => {
            let q = qmax_unsigned(b_sz);
            for (o, &zj) in sz.iter_mut().zip(z.iter()) {
                *o = f.apply(z_max - zj).max(0).min(q);
            }
        }
        None => {
            for (o, &zj) in sz.iter_mut().zip(z.iter()) {
                *o = sat_unsigned(c.sub_z.apply((z_max - zj) as i64), b_sz);
            }
        }
    }
    mul(c.mul_zn, m_zn, b(Gene::MulZn), sz, nn, mzn);
    for (o, &x) in hprev.iter_mut().zip(h.iter()) {
        *o = x as i32;
    }
    mul(c.mul_zh, m_zh, b(Gene::MulZh), z, hprev, mzh);
    dual(c.add_h, a_h, b(Gene::AddH), mzn, mzh, hnew);
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

/// `[f(0), …, f(N − 1)]` (a loop over a fixed-size array: the compiler keeps it in vector
/// registers when `f` is lane arithmetic).
#[inline(always)]
fn lanes<const N: usize>(f: impl Fn(usize) -> i32) -> [i32; N] {
    let mut out = [0; N];
    for (j, o) in out.iter_mut().enumerate() {
        *o = f(j);
    }
    out
}

/// The parameters of the fused element-wise pass: the i32 form of every stage with its
/// saturation bounds, gathered once at pack time (so that no genome-dependent branch is left
/// inside the chunk loop, and nothing is re-derived per step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fused {
    /// Requantization of ir, iz, in, hr, hz, hn, with their `[lo, hi]` bounds.
    pub(crate) req: [(HighWord, i32, i32); 6],
    /// Additions r, z, n, h, with their bounds.
    pub(crate) add: [(Dual32, i32, i32); 4],
    /// Products rh, zn, zh, with their bounds.
    pub(crate) mul: [(Mul32, i32, i32); 3],
    /// `1 − z`: rescale, `z_max`, upper bound (the lower one is 0).
    pub(crate) sub_z: (Mul32, i32, i32),
    /// Table offsets `2^(b − 1)` of r, z, n.
    pub(crate) off: [i32; 3],
}

impl Fused {
    /// `None` when a stage lacks its i32 form (then the staged pass runs, with its i64 loops).
    fn new(p: &PackedGru) -> Option<Fused> {
        let c = &p.cell;
        let b = |g: Gene| c.bits[g as usize];
        let sb = |bits: u8| (-qmax_signed(bits) - 1, qmax_signed(bits));
        let rq = |m: Multiplier, bits: u8| -> Option<(HighWord, i32, i32)> {
            let (lo, hi) = sb(bits);
            Some((m.high_word()?, lo, hi))
        };
        let (mx, bx, mh, bh) = (p.wx.requant, p.wx.bits, p.wh.requant, p.wh.bits);
        let req = [
            rq(mx[0], bx[0])?,
            rq(mx[1], bx[1])?,
            rq(mx[2], bx[2])?,
            rq(mh[0], bh[0])?,
            rq(mh[1], bh[1])?,
            rq(mh[2], bh[2])?,
        ];
        let add_bits = [b(Gene::AddR), b(Gene::AddZ), b(Gene::AddN), b(Gene::AddH)];
        let mut add = [(c.add32[0]?, 0, 0); 4];
        for (k, a) in add.iter_mut().enumerate() {
            let (lo, hi) = sb(add_bits[k]);
            *a = (c.add32[k]?, lo, hi);
        }
        let mul_bits = [b(Gene::MulRh), b(Gene::MulZn), b(Gene::MulZh)];
        let mut mul = [(c.mul32[0]?, 0, 0); 3];
        for (k, m) in mul.iter_mut().enumerate() {
            let (lo, hi) = sb(mul_bits[k]);
            *m = (c.mul32[k]?, lo, hi);
        }
        let sub_z = (
            c.sub_z32?,
            qmax_unsigned(b(Gene::SigZ)),
            qmax_unsigned(b(Gene::SubZ)),
        );
        let off = [add_bits[0], add_bits[1], add_bits[2]].map(|bits| 1 << (bits - 1));
        Some(Fused {
            req,
            add,
            mul,
            sub_z,
            off,
        })
    }
}

/// The element-wise stages of one sequence, fused: `N` units at a time through every stage, the
/// values held in chunk-sized locals instead of the stage buffers. The same arithmetic as
/// [`cell`]'s i32 forms, term for term; the last, partial chunk (H not a multiple of `N`) runs
/// the same code on zero-padded inputs and stores only its units.
#[inline(always)]
fn cell_fused<G: Gemm, const N: usize>(
    p: &PackedGru,
    f: &Fused,
    ax: &[i32],
    ah: &[i32],
    h: &mut [i8],
) {
    let hs = p.hidden;
    let (ax, ah) = (&ax[..3 * hs], &ah[..3 * hs]);
    let full = hs / N * N;
    for j0 in (0..full).step_by(N) {
        let acc = gate_chunks(ax, ah, hs, j0);
        let hc: &mut [i8; N] = (&mut h[j0..j0 + N]).try_into().expect("a full chunk");
        let hprev = lanes(|j| hc[j] as i32);
        let hn = chunk::<G, N>(p, f, &hprev, acc);
        for (o, &v) in hc.iter_mut().zip(&hn) {
            *o = v as i8;
        }
    }
    if full < hs {
        let (pad, hprev) = tail_chunk::<N>(ax, ah, h, hs, full);
        let acc = [&pad[0], &pad[1], &pad[2], &pad[3], &pad[4], &pad[5]];
        let hn = chunk::<G, N>(p, f, &hprev, acc);
        for (o, &v) in h[full..].iter_mut().zip(&hn) {
            *o = v as i8;
        }
    }
}

/// The last, partial chunk of a sequence (units `full..hs`, fewer than `N`), zero padded to `N`
/// units: the accumulators of the six gates (as [`gate_chunks`]) and the previous state codes
/// (`h`: the sequence's `hs` states).
#[inline(always)]
pub(crate) fn tail_chunk<const N: usize>(
    ax: &[i32],
    ah: &[i32],
    h: &[i8],
    hs: usize,
    full: usize,
) -> ([[i32; N]; 6], [i32; N]) {
    let rest = hs - full;
    let mut pad = [[0; N]; 6];
    for (g, c) in pad.iter_mut().enumerate() {
        let (src, g) = if g < 3 { (ax, g) } else { (ah, g - 3) };
        c[..rest].copy_from_slice(&src[g * hs + full..(g + 1) * hs]);
    }
    let mut hprev = [0; N];
    for (o, &v) in hprev.iter_mut().zip(&h[full..hs]) {
        *o = v as i32;
    }
    (pad, hprev)
}

/// `src[at..at + N]` as an array.
#[inline(always)]
fn chunk_at<const N: usize>(src: &[i32], at: usize) -> &[i32; N] {
    src[at..at + N].try_into().expect("a full chunk")
}

/// The accumulators of units `j0..j0 + N` of gates ir, iz, in (from `ax`) and hr, hz, hn (from
/// `ah`), for hidden size `hs`.
#[inline(always)]
pub(crate) fn gate_chunks<'a, const N: usize>(
    ax: &'a [i32],
    ah: &'a [i32],
    hs: usize,
    j0: usize,
) -> [&'a [i32; N]; 6] {
    [
        chunk_at(ax, j0),
        chunk_at(ax, hs + j0),
        chunk_at(ax, 2 * hs + j0),
        chunk_at(ah, j0),
        chunk_at(ah, hs + j0),
        chunk_at(ah, 2 * hs + j0),
    ]
}

/// `sat(M · a)` of a chunk (requantization of the linears' accumulators).
#[inline(always)]
fn requant_chunk<const N: usize>((m, lo, hi): (HighWord, i32, i32), a: &[i32; N]) -> [i32; N] {
    lanes(|j| m.apply(a[j]).max(lo).min(hi))
}

/// `sat((A·a + B·b) >> s)` of a chunk.
#[inline(always)]
fn add_chunk<const N: usize>(
    (m, lo, hi): (Dual32, i32, i32),
    a: &[i32; N],
    b: &[i32; N],
) -> [i32; N] {
    lanes(|j| m.apply(a[j], b[j]).max(lo).min(hi))
}

/// `sat(M · a · b)` of a chunk.
#[inline(always)]
fn mul_chunk<const N: usize>(
    (m, lo, hi): (Mul32, i32, i32),
    a: &[i32; N],
    b: &[i32; N],
) -> [i32; N] {
    lanes(|j| m.apply(a[j] * b[j]).max(lo).min(hi))
}

/// Every stage of one chunk: `acc` holds the accumulators of gates ir, iz, in, hr, hz, hn,
/// `hprev` the previous state → the new state codes. (Each accumulator is read where it is
/// first used, to keep few chunks live.)
#[inline(always)]
fn chunk<G: Gemm, const N: usize>(
    p: &PackedGru,
    f: &Fused,
    hprev: &[i32; N],
    acc: [&[i32; N]; 6],
) -> [i32; N] {
    let c = &p.cell;
    let ar = add_chunk(
        f.add[0],
        &requant_chunk(f.req[0], acc[0]),
        &requant_chunk(f.req[3], acc[3]),
    );
    let r = G::lookup_chunk(&c.lut_r, &c.lut_bytes[0], false, f.off[0], &ar);
    let mrh = mul_chunk(f.mul[0], &r, &requant_chunk(f.req[5], acc[5]));
    let an = add_chunk(f.add[2], &requant_chunk(f.req[2], acc[2]), &mrh);
    let nn = G::lookup_chunk(&c.lut_n, &c.lut_bytes[2], true, f.off[2], &an);
    let az = add_chunk(
        f.add[1],
        &requant_chunk(f.req[1], acc[1]),
        &requant_chunk(f.req[4], acc[4]),
    );
    let z = G::lookup_chunk(&c.lut_z, &c.lut_bytes[1], false, f.off[1], &az);
    let (m, z_max, q) = f.sub_z;
    let sz = lanes(|j| m.apply(z_max - z[j]).max(0).min(q));
    let mzn = mul_chunk(f.mul[1], &sz, &nn);
    let mzh = mul_chunk(f.mul[2], &z, hprev);
    add_chunk(f.add[3], &mzn, &mzh)
}
