//! MNIST-style preprocessing of a drawing: the ink's bounding box is scaled (area-averaged, so
//! anti-aliased) to fit 20 × 20 keeping its aspect ratio, then placed in a 28 × 28 field so that
//! its centre of mass is at the centre, as LeCun et al. prepared MNIST.
use crate::WebError;

/// Side of the model's input image.
pub const SIDE: usize = 28;
/// Side of the box the digit is scaled into.
pub const BOX: usize = 20;
/// Ink values at or below this count as paper when finding the bounding box.
pub const INK_THRESHOLD: u8 = 16;

fn bad(detail: impl Into<String>) -> WebError {
    WebError::Request {
        what: "drawing",
        detail: detail.into(),
    }
}

/// `ink` (`width × height`, row-major, 0 = paper, 255 = ink) → a 28 × 28 MNIST-like image.
pub fn preprocess(ink: &[u8], width: usize, height: usize) -> Result<Vec<u8>, WebError> {
    if width == 0 || height == 0 || ink.len() != width * height {
        return Err(bad(format!(
            "{} values for a {width} × {height} drawing",
            ink.len()
        )));
    }
    // Bounding box of the ink.
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0usize, 0usize);
    for y in 0..height {
        for x in 0..width {
            if ink[y * width + x] > INK_THRESHOLD {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
    }
    if x0 == usize::MAX {
        return Err(bad("nothing is drawn"));
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    // Scale the longer side to BOX pixels.
    let scale = BOX as f64 / bw.max(bh) as f64;
    let ow = ((bw as f64 * scale).round() as usize).clamp(1, BOX);
    let oh = ((bh as f64 * scale).round() as usize).clamp(1, BOX);
    let (sx, sy) = (bw as f64 / ow as f64, bh as f64 / oh as f64);
    // Area average: each output pixel is the mean of the source area it covers.
    let mut small = vec![0f64; ow * oh];
    for oy in 0..oh {
        let (fy0, fy1) = (oy as f64 * sy, (oy + 1) as f64 * sy);
        for ox in 0..ow {
            let (fx0, fx1) = (ox as f64 * sx, (ox + 1) as f64 * sx);
            let mut acc = 0.0;
            let mut area = 0.0;
            let mut y = fy0.floor() as usize;
            while (y as f64) < fy1 && y < bh {
                let wy = (fy1.min(y as f64 + 1.0) - fy0.max(y as f64)).max(0.0);
                let mut x = fx0.floor() as usize;
                while (x as f64) < fx1 && x < bw {
                    let wx = (fx1.min(x as f64 + 1.0) - fx0.max(x as f64)).max(0.0);
                    acc += wx * wy * f64::from(ink[(y0 + y) * width + x0 + x]);
                    area += wx * wy;
                    x += 1;
                }
                y += 1;
            }
            small[oy * ow + ox] = if area > 0.0 { acc / area } else { 0.0 };
        }
    }
    // Centre of mass of the scaled digit.
    let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
    for y in 0..oh {
        for x in 0..ow {
            let v = small[y * ow + x];
            m += v;
            mx += v * (x as f64 + 0.5);
            my += v * (y as f64 + 0.5);
        }
    }
    let (cx, cy) = if m > 0.0 {
        (mx / m, my / m)
    } else {
        (ow as f64 / 2.0, oh as f64 / 2.0)
    };
    let half = SIDE as f64 / 2.0;
    let dx = (half - cx).round() as i64;
    let dy = (half - cy).round() as i64;
    let mut out = vec![0u8; SIDE * SIDE];
    for y in 0..oh {
        for x in 0..ow {
            let (tx, ty) = (x as i64 + dx, y as i64 + dy);
            if (0..SIDE as i64).contains(&tx) && (0..SIDE as i64).contains(&ty) {
                out[ty as usize * SIDE + tx as usize] =
                    small[y * ow + x].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_is_scaled_to_20_and_centred() {
        // A 100 × 100 canvas with a filled 50 × 50 square off-centre.
        let (w, h) = (100, 100);
        let mut ink = vec![0u8; w * h];
        for y in 10..60 {
            for x in 40..90 {
                ink[y * w + x] = 255;
            }
        }
        let img = preprocess(&ink, w, h).unwrap();
        let on: Vec<(usize, usize)> = (0..784)
            .filter(|&k| img[k] > 0)
            .map(|k| (k % 28, k / 28))
            .collect();
        assert_eq!(on.len(), 400, "20 × 20 pixels of ink");
        let (xmin, xmax) = (
            on.iter().map(|p| p.0).min().unwrap(),
            on.iter().map(|p| p.0).max().unwrap(),
        );
        let (ymin, ymax) = (
            on.iter().map(|p| p.1).min().unwrap(),
            on.iter().map(|p| p.1).max().unwrap(),
        );
        assert_eq!((xmin, xmax, ymin, ymax), (4, 23, 4, 23));
        assert!(img.iter().all(|&v| v == 0 || v == 255));
    }

    #[test]
    fn thin_strokes_are_anti_aliased_and_keep_aspect() {
        // A vertical bar 4 px wide, 200 px tall: height → 20, width → 0.4 px → 1 px of grey.
        let (w, h) = (50, 220);
        let mut ink = vec![0u8; w * h];
        for y in 10..210 {
            for x in 20..24 {
                ink[y * w + x] = 255;
            }
        }
        let img = preprocess(&ink, w, h).unwrap();
        let cols: Vec<usize> = (0..28)
            .filter(|&x| (0..28).any(|y| img[y * 28 + x] > 0))
            .collect();
        assert_eq!(cols.len(), 1, "one column wide");
        let rows = (0..28).filter(|&y| img[y * 28 + cols[0]] > 0).count();
        assert_eq!(rows, 20);
        assert_eq!(
            cols[0], 14,
            "centred: mass centre 0.5 + shift round(13.5) = 14"
        );
    }

    #[test]
    fn empty_and_malformed_drawings_are_errors() {
        let e = preprocess(&[0; 100], 10, 10).unwrap_err();
        assert!(e.to_string().contains("nothing is drawn"), "{e}");
        assert!(preprocess(&[0; 99], 10, 10).is_err());
        assert!(preprocess(&[], 0, 0).is_err());
    }
}
