#!/usr/bin/env python3
"""Reference MFCCs of synthetic signals for bitgru's `audio::mfcc` (crates/bitgru/src/audio/mfcc.rs).

Writes crates/bitgru/tests/fixtures/mfcc_reference.json. Only synthetic signals are used (seeded
noise, a chirp, a sum of tones, a tone burst framed by digital silence); no recorded audio.

Setup (a throwaway venv, never committed):

    python3 -m venv /tmp/mfccvenv && /tmp/mfccvenv/bin/pip install librosa
    /tmp/mfccvenv/bin/python scripts/make_mfcc_fixture.py

Generated with librosa 0.11.0, numpy 2.4.6, scipy 1.17.1 (the versions are also written into the
JSON).

Parameters (bitgru's `MfccConfig::default()`, DESIGN.md section 6 = Hello Edge's setting):

    sample rate      16000 Hz
    window           640 samples (40 ms), periodic Hann  w[n] = 0.5 - 0.5 cos(2 pi n / 640)
                     (scipy.signal.get_window('hann', 640, fftbins=True), librosa's 'hann')
    hop              320 samples (20 ms)
    framing          no centering, no padding: frame t covers samples [320 t, 320 t + 640);
                     frames = 1 + (len - 640) // 320 = 49 for 16000 samples
    FFT              n_fft = 1024 (next power of two >= 640); the 640 windowed samples are
                     zero-padded to 1024; one-sided spectrum, 513 bins
    spectrum         power |X_k|^2, no 1/n_fft scaling, no pre-emphasis
    mel filterbank   40 triangular filters, HTK mel scale m = 2595 log10(1 + f / 700),
                     fmin = 20 Hz, fmax = 4000 Hz, edges equally spaced in mel, triangles
                     evaluated at the bin frequencies k * 16000 / 1024, peak weight 1
                     (librosa.filters.mel(htk=True, norm=None))
    log              natural log, floor 1e-10: ln(max(mel_energy, 1e-10))
    DCT              DCT-II, orthonormal (scipy.fft.dct(type=2, norm='ortho')), first 10
                     coefficients kept (c0 included), no liftering
    samples          int16 PCM / 32768 (how bitgru decodes 16-bit WAV/FLAC), so that the Rust
                     test uses the identical samples: they are stored as little-endian int16,
                     base64-encoded
    precision        float64 throughout

librosa.stft frames n_fft = 1024 samples and centres the 640-sample window inside them (192 zeros
on each side). Padding the signal with 192 zeros at both ends makes frame t's window cover exactly
samples [320 t, 320 t + 640) of the original signal; a circular shift of the 1024-point frame does
not change the power spectrum. The script checks this against a direct numpy computation.
"""

import base64
import json
import os
import sys

import librosa
import numpy as np
import scipy
import scipy.fft
import scipy.signal

SR = 16000
WIN = 640
HOP = 320
N_FFT = 1024
N_MELS = 40
N_MFCC = 10
FMIN = 20.0
FMAX = 4000.0
LOG_FLOOR = 1e-10
NUM_SAMPLES = 16000

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "crates",
    "bitgru",
    "tests",
    "fixtures",
    "mfcc_reference.json",
)


def to_pcm16(x):
    """Float signal -> int16 codes (round to nearest, saturate)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(
        np.int16
    )


def signals():
    t = np.arange(NUM_SAMPLES, dtype=np.float64) / SR
    out = []

    gen = {"kind": "white_gaussian_noise", "rng": "numpy.random.default_rng", "seed": 1234, "std": 0.1}
    rng = np.random.default_rng(gen["seed"])
    out.append(("noise", gen, rng.standard_normal(NUM_SAMPLES) * gen["std"]))

    gen = {
        "kind": "chirp",
        "function": "scipy.signal.chirp",
        "f0": 50.0,
        "f1": 7000.0,
        "t1": 1.0,
        "method": "logarithmic",
        "amplitude": 0.5,
    }
    out.append(
        (
            "chirp",
            gen,
            gen["amplitude"]
            * scipy.signal.chirp(t, f0=gen["f0"], f1=gen["f1"], t1=gen["t1"], method=gen["method"]),
        )
    )

    gen = {
        "kind": "sum_of_tones",
        "freqs_hz": [300.0, 1250.0, 3100.0],
        "amplitudes": [0.3, 0.2, 0.1],
        "phases_rad": [0.0, 0.5, 1.0],
    }
    x = sum(
        a * np.sin(2 * np.pi * f * t + p)
        for f, a, p in zip(gen["freqs_hz"], gen["amplitudes"], gen["phases_rad"])
    )
    out.append(("tones", gen, x))

    gen = {
        "kind": "harmonic_burst_in_digital_silence",
        "f0_hz": 150.0,
        "harmonics": 12,
        "harmonic_amplitude": "0.25 / h",
        "burst_start_s": 0.3,
        "burst_end_s": 0.7,
        "envelope": "sin(pi * (t - start) / (end - start))",
        "outside_burst": "exact zeros (exercises the log floor)",
    }
    burst = np.zeros(NUM_SAMPLES)
    inside = (t >= gen["burst_start_s"]) & (t < gen["burst_end_s"])
    tb = t[inside] - gen["burst_start_s"]
    env = np.sin(np.pi * tb / (gen["burst_end_s"] - gen["burst_start_s"]))
    burst[inside] = env * sum(
        0.25 / h * np.sin(2 * np.pi * gen["f0_hz"] * h * t[inside]) for h in range(1, gen["harmonics"] + 1)
    )
    out.append(("burst", gen, burst))
    return out


def mfcc_librosa(y):
    pad = (N_FFT - WIN) // 2
    yp = np.pad(y, (pad, pad))
    stft = librosa.stft(
        yp, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window="hann", center=False, dtype=np.complex128
    )
    power = np.abs(stft) ** 2  # [513, frames]
    fb = librosa.filters.mel(
        sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX, htk=True, norm=None, dtype=np.float64
    )
    mel = fb @ power
    logmel = np.log(np.maximum(mel, LOG_FLOOR))
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=N_MFCC, dct_type=2, norm="ortho", lifter=0)
    return mfcc.T, power.T  # [frames, n_mfcc], [frames, 513]


def power_numpy(y):
    """Independent check of the framing: direct numpy frames + periodic Hann + zero-padded rfft."""
    frames = 1 + (len(y) - WIN) // HOP
    n = np.arange(WIN)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)
    rows = [np.abs(np.fft.rfft(y[i * HOP : i * HOP + WIN] * w, n=N_FFT)) ** 2 for i in range(frames)]
    return np.array(rows)


def main():
    doc = {
        "description": "MFCC reference for bitgru audio::mfcc, computed by scripts/make_mfcc_fixture.py "
        "with librosa on synthetic signals only",
        "versions": {
            "python": sys.version.split()[0],
            "librosa": librosa.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "params": {
            "sample_rate": SR,
            "win_length": WIN,
            "hop_length": HOP,
            "n_fft": N_FFT,
            "window": "hann, periodic",
            "center": False,
            "spectrum": "power |X|^2, unscaled",
            "n_mels": N_MELS,
            "fmin": FMIN,
            "fmax": FMAX,
            "mel_scale": "htk",
            "mel_norm": None,
            "log": "natural",
            "log_floor": LOG_FLOOR,
            "dct": "DCT-II ortho",
            "n_mfcc": N_MFCC,
            "lifter": 0,
            "pcm_scale": 32768,
        },
        "signals": [],
    }
    for name, gen, x in signals():
        pcm = to_pcm16(x)
        y = pcm.astype(np.float64) / 32768.0
        mfcc, power = mfcc_librosa(y)
        direct = power_numpy(y)
        assert direct.shape == power.shape, (direct.shape, power.shape)
        assert np.allclose(direct, power, rtol=1e-9, atol=1e-12), name
        assert mfcc.shape == (49, N_MFCC), mfcc.shape
        doc["signals"].append(
            {
                "name": name,
                "generator": gen,
                "num_samples": int(len(pcm)),
                "pcm16_le_base64": base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii"),
                "frames": int(mfcc.shape[0]),
                "mfcc": [[float(v) for v in row] for row in mfcc],
            }
        )
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
