//! Clips → MFCC [`Dataset`] (49 steps × 10 coefficients with the default configuration).
//!
//! Every clip must have the extractor's sample rate and the same length (pad or trim with
//! [`crate::audio::fit_length`] first); the features of one clip are
//! [`Mfcc::compute`](crate::audio::Mfcc::compute), so they equal what the streaming microphone
//! path produces. With the `parallel` feature the clips are processed on the rayon pool, one
//! scratch per worker; the result does not depend on the thread count.
use super::speech::SpeechSet;
use super::Dataset;
use crate::audio::{Clip, Mfcc};
use crate::error::{Error, Result};

/// MFCCs of every clip: `[frames × n_mfcc]` per clip, in clip order.
pub fn mfcc_sequences(clips: &[Clip], mfcc: &Mfcc) -> Result<Vec<Vec<f32>>> {
    let Some(first) = clips.first() else {
        return Ok(Vec::new());
    };
    let len = first.samples.len();
    let rate = mfcc.config().sample_rate;
    for (i, clip) in clips.iter().enumerate() {
        if clip.sample_rate != rate {
            return Err(Error::invalid(
                format!("clip {i} sample rate"),
                format!(
                    "{} Hz, the MFCC front end expects {rate} Hz",
                    clip.sample_rate
                ),
            ));
        }
        if clip.samples.len() != len {
            return Err(Error::length(
                format!("clip {i} samples (all clips must have the same length)"),
                len,
                clip.samples.len(),
            ));
        }
    }
    if mfcc.frames(len) == 0 {
        return Err(Error::invalid(
            "clip length",
            format!(
                "{len} samples is shorter than one {}-sample MFCC window",
                mfcc.config().win_length
            ),
        ));
    }
    let sequences = crate::math::par_map_init(
        clips,
        || mfcc.scratch(),
        |scratch, clip| {
            let mut out = Vec::new();
            mfcc.compute_into(&clip.samples, scratch, &mut out);
            out
        },
    );
    Ok(sequences)
}

/// Clips + labels → a validated MFCC [`Dataset`].
pub fn mfcc_dataset(
    clips: &[Clip],
    labels: &[usize],
    classes: Vec<String>,
    mfcc: &Mfcc,
) -> Result<Dataset> {
    if labels.len() != clips.len() {
        return Err(Error::length(
            "labels (one per clip)",
            clips.len(),
            labels.len(),
        ));
    }
    let sequences = mfcc_sequences(clips, mfcc)?;
    let steps = clips.first().map_or(0, |c| mfcc.frames(c.samples.len()));
    let ds = Dataset {
        sequences,
        labels: labels.to_vec(),
        steps,
        input: mfcc.n_mfcc(),
        classes,
    };
    if !ds.is_empty() {
        ds.validate()?;
    }
    Ok(ds)
}

/// A loaded Speech Commands split → its MFCC [`Dataset`].
pub fn speech_dataset(set: &SpeechSet, mfcc: &Mfcc) -> Result<Dataset> {
    mfcc_dataset(&set.clips, &set.labels, set.classes.clone(), mfcc)
}
