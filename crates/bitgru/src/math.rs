//! The one home of small maths shared by the float model, fake-quant, calibration, training and
//! the integer kernels: σ / tanh (portable libm, so native and wasm give the same bits), argmax,
//! the input-length check, and the parallel-map-or-sequential helper.
use crate::error::{Error, Result};

/// Logistic σ in f32 through libm's `expf` (bit-identical natively and in wasm).
#[inline]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Logistic σ in f64 through libm's `exp`.
#[inline]
pub fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// tanh in f32 (libm's `tanhf`).
#[inline]
pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

/// tanh in f64 (libm's `tanh`).
#[inline]
pub fn tanh_f64(x: f64) -> f64 {
    libm::tanh(x)
}

/// tanh through one libm `expf` (several times faster than `tanhf`; |error| < 1e-7, far below
/// what training notices). Training only: the reference model uses [`tanh`].
#[inline]
pub fn fast_tanh(x: f32) -> f32 {
    1.0 - 2.0 / (libm::expf(2.0 * x) + 1.0)
}

/// Index of the largest value (the first one on ties). 0 for an empty slice.
pub fn argmax<T: PartialOrd>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Number of time steps of a flat `[T, I]` sequence of `len` values: `len` must be a positive
/// multiple of `input`. `what` names the sequence in the error.
pub fn steps_of(what: &str, len: usize, input: usize) -> Result<usize> {
    if input == 0 || len == 0 || !len.is_multiple_of(input) {
        return Err(Error::invalid(
            what.to_string(),
            format!("length {len} is not a positive multiple of the input size {input}"),
        ));
    }
    Ok(len / input)
}

/// `items.map(f)` in order, on the rayon pool with the `parallel` feature, sequentially
/// otherwise. `init` makes per-worker state (scratch buffers) that `f` reuses.
pub fn par_map_init<T, S, R>(
    items: &[T],
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &T) -> R + Sync + Send,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        items.par_iter().map_init(init, f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut s = init();
        items.iter().map(|x| f(&mut s, x)).collect()
    }
}

/// `items.map(f)` in order, parallel with the `parallel` feature (see [`par_map_init`]).
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    par_map_init(items, || (), |_, x| f(x))
}

/// Index of the rayon pool thread running the caller (`None` outside a pool or without the
/// `parallel` feature): lets a caller report how many threads a parallel map really used.
pub fn pool_thread_index() -> Option<usize> {
    #[cfg(feature = "parallel")]
    {
        rayon::current_thread_index()
    }
    #[cfg(not(feature = "parallel"))]
    {
        None
    }
}

/// `(0..n).map(f)` in order, parallel with the `parallel` feature.
pub fn par_map_range<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    let idx: Vec<usize> = (0..n).collect();
    par_map(&idx, |&k| f(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_first_on_ties() {
        assert_eq!(argmax(&[1, 3, 3, 2]), 1);
        assert_eq!(argmax(&[-1.0f32, -0.5, -2.0]), 1);
        assert_eq!(argmax::<i32>(&[]), 0);
    }

    #[test]
    fn steps_check() {
        assert_eq!(steps_of("x", 12, 4).unwrap(), 3);
        assert!(steps_of("x", 0, 4).is_err());
        assert!(steps_of("x", 10, 4).is_err());
        assert!(steps_of("x", 4, 0).is_err());
    }

    #[test]
    fn par_map_keeps_order() {
        let v: Vec<u32> = (0..1000).collect();
        let out = par_map_init(&v, || 1u32, |s, x| x * 2 + *s);
        assert_eq!(out, v.iter().map(|x| x * 2 + 1).collect::<Vec<_>>());
        assert_eq!(par_map_range(5, |k| k * k), vec![0, 1, 4, 9, 16]);
    }
}
