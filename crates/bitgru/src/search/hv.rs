//! Exact hypervolume indicator for minimization problems.
//!
//! The hypervolume of a point set is the Lebesgue measure of the region dominated by the set and
//! bounded by a reference point: the union of the boxes `[p, reference]`. It is computed
//! exactly: a sweep in 2-D (`O(n log n)`), slicing along the last objective (HSO, "hypervolume
//! by slicing objectives") in 3-D and above, each slice being a `d − 1` dimensional
//! hypervolume (`O(n² log n)` in 3-D, `O(n^(d−1) log n)` in general), which is meant for the
//! small sets of a search front, not for thousands of points in many dimensions.

/// Hypervolume dominated by `points` (minimization) up to `reference`.
///
/// Points that do not strictly dominate the reference point (some coordinate `>=` the
/// reference's, or NaN) are ignored, as in pymoo / moocore, so an empty or fully ignored set has
/// hypervolume 0. Duplicates and dominated points are allowed and count once. A coordinate of
/// `-inf` gives an infinite hypervolume.
///
/// Exact for every dimension: 1-D is `reference − min`, 2-D a sweep, 3-D and above slicing along
/// the last objective (HSO) down to the 2-D sweep; see the module documentation for the cost.
///
/// # Panics
/// If a point's length differs from the reference's (a caller bug: objective vectors of a
/// problem all have the same length).
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let d = reference.len();
    for (i, p) in points.iter().enumerate() {
        assert_eq!(
            p.len(),
            d,
            "hypervolume: point {i} has {} objectives, the reference {d}",
            p.len()
        );
    }
    if d == 0 {
        return 0.0;
    }
    let inside: Vec<&[f64]> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .map(|p| p.as_slice())
        .collect();
    if inside.is_empty() {
        return 0.0;
    }
    hv_rec(inside, reference, d)
}

/// Hypervolume of the first `d` coordinates of `points`, all of which strictly dominate the
/// first `d` coordinates of `reference` (`points` non-empty).
fn hv_rec(mut points: Vec<&[f64]>, reference: &[f64], d: usize) -> f64 {
    match d {
        1 => {
            let min = points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
            reference[0] - min
        }
        2 => hv2(&mut points, reference),
        _ => {
            // Slice along the last coordinate: between consecutive distinct values z_i < z_{i+1}
            // (the last slice ends at the reference), the cross-section is the (d-1)-volume of
            // the points with z <= z_i.
            let k = d - 1;
            points.sort_by(|a, b| a[k].total_cmp(&b[k]));
            let mut total = 0.0;
            let n = points.len();
            let mut i = 0;
            while i < n {
                let z = points[i][k];
                let mut j = i + 1;
                while j < n && points[j][k] == z {
                    j += 1;
                }
                let z_next = if j < n { points[j][k] } else { reference[k] };
                let area = hv_rec(points[..j].to_vec(), reference, k);
                total += area * (z_next - z);
                i = j;
            }
            total
        }
    }
}

/// 2-D sweep: sorted by the first coordinate (then the second), each point that improves the
/// best second coordinate so far adds the rectangle between it and the previous best.
fn hv2(points: &mut [&[f64]], reference: &[f64]) -> f64 {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut best_y = reference[1];
    let mut area = 0.0;
    for p in points.iter() {
        if p[1] < best_y {
            area += (reference[0] - p[0]) * (best_y - p[1]);
            best_y = p[1];
        }
    }
    area
}

#[cfg(test)]
mod tests {
    use super::hypervolume;

    #[test]
    fn unit_boxes() {
        assert_eq!(hypervolume(&[vec![0.0, 0.0]], &[1.0, 2.0]), 2.0);
        assert_eq!(hypervolume(&[vec![0.0, 0.0, 0.0]], &[1.0, 2.0, 3.0]), 6.0);
        assert_eq!(hypervolume(&[vec![0.5; 4]], &[1.0; 4]), 0.0625);
        // Two overlapping squares: 0.75 + 0.75 - 0.5625 (overlap).
        let two = hypervolume(&[vec![0.0, 0.25], vec![0.25, 0.0]], &[1.0, 1.0]);
        assert!((two - 0.9375).abs() < 1e-15, "{two}");
        // 3-D: the same two boxes extruded over [0, 2] double the area.
        let two3 = hypervolume(
            &[vec![0.0, 0.25, 0.0], vec![0.25, 0.0, 0.0]],
            &[1.0, 1.0, 2.0],
        );
        assert!((two3 - 1.875).abs() < 1e-15, "{two3}");
    }

    #[test]
    fn ignores_points_not_strictly_dominating_the_reference() {
        let pts = [vec![1.0, 0.0], vec![0.0, 1.0], vec![f64::NAN, 0.0]];
        assert_eq!(hypervolume(&pts, &[1.0, 1.0]), 0.0);
        assert_eq!(hypervolume(&[], &[1.0, 1.0]), 0.0);
    }
}
