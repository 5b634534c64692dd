//! SVG plot of a search: every evaluated genome, the mixed front and the homogeneous curve,
//! accuracy (fitness subset) against normalized size.
use bitgru::search::run::Point;
use bitgru::search::SearchResult;
use std::fmt::Write;

pub(crate) const W: f64 = 760.0;
pub(crate) const H: f64 = 480.0;
pub(crate) const L: f64 = 70.0; // left margin
pub(crate) const R: f64 = 180.0; // right margin (legend)
pub(crate) const T: f64 = 50.0;
pub(crate) const B: f64 = 55.0;

/// The plot area's frame and the two axis labels.
pub(crate) fn frame_and_labels(s: &mut String, x_label: &str, y_label: &str) {
    let _ = writeln!(
        s,
        r##"<rect x="{L}" y="{T}" width="{:.1}" height="{:.1}" fill="none" stroke="#888"/>"##,
        W - L - R,
        H - T - B
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (L + W - R) / 2.0,
        H - 12.0,
        esc(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (T + H - B) / 2.0,
        esc(y_label)
    );
}

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// "Nice" tick step for a range.
fn tick_step(span: f64) -> f64 {
    let raw = span / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// The plot as an SVG document.
pub fn front_svg<'a>(r: &SearchResult, all: impl Iterator<Item = &'a Point>) -> String {
    let all: Vec<&Point> = all.collect();
    let acc = |p: &Point| 100.0 * p.accuracy;
    // Axis ranges: size 0..1 (all-8 = 1); accuracy from the lowest point worth showing.
    let best = all.iter().map(|p| acc(p)).fold(0.0, f64::max);
    let lowest_front = r
        .front
        .iter()
        .chain(&r.homogeneous)
        .map(acc)
        .fold(f64::INFINITY, f64::min);
    let y_min = (lowest_front.min(best - 10.0)).max(0.0);
    let step_y = tick_step((best - y_min).max(1.0));
    let y_lo = (y_min / step_y).floor() * step_y;
    let y_hi = ((best / step_y).ceil() * step_y)
        .max(y_lo + step_y)
        .min(100.0);
    let (x_lo, x_hi) = (0.0, 1.05);
    let px = |x: f64| L + (x - x_lo) / (x_hi - x_lo) * (W - L - R);
    let py = |y: f64| T + (y_hi - y.clamp(y_lo, y_hi)) / (y_hi - y_lo) * (H - T - B);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let c = &r.config;
    let _ = writeln!(
        s,
        r#"<text x="{L}" y="22" font-size="15" font-weight="bold">{} — accuracy vs size (population {}, {} generations, seed {})</text>"#,
        esc(&c.task),
        c.pop,
        r.generations.len(),
        c.seed
    );
    let _ = writeln!(
        s,
        r##"<text x="{L}" y="40" fill="#444">hypervolume mixed {:.4} vs homogeneous {:.4} (ref. {:?}); fitness {} of {} {} sequences</text>"##,
        r.hypervolume.mixed,
        r.hypervolume.homogeneous,
        r.hypervolume.reference_point,
        r.fitness.subset,
        r.fitness.split_size,
        esc(&c.split)
    );
    // Grid and ticks.
    let mut y = y_lo;
    while y <= y_hi + 1e-9 {
        let (x2, yy, tx, ty) = (W - R, py(y), L - 6.0, py(y) + 4.0);
        let label = if step_y < 1.0 {
            format!("{y:.1}")
        } else {
            format!("{y:.0}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{L}" x2="{x2:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e5e5e5"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{label}</text>"##
        );
        y += step_y;
    }
    for k in 0..=5 {
        let x = k as f64 * 0.2;
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{T}" y2="{1:.1}" stroke="#e5e5e5"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle">{x:.1}</text>"##,
            px(x),
            H - B,
            H - B + 18.0
        );
    }
    frame_and_labels(
        &mut s,
        "model size / size of the all-8 model",
        "accuracy on the fitness subset (%)",
    );
    // Every evaluation.
    for p in &all {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="2" fill="#bbb"><title>{} acc {:.2} % size {:.3}</title></circle>"##,
            px(p.size_normalized),
            py(acc(p)),
            p.genome,
            acc(p),
            p.size_normalized
        );
    }
    // Curves.
    let polyline = |pts: &[Point], color: &str, dash: &str| {
        let mut sorted: Vec<&Point> = pts.iter().collect();
        sorted.sort_by(|a, b| a.size_normalized.total_cmp(&b.size_normalized));
        let coords: Vec<String> = sorted
            .iter()
            .map(|p| format!("{:.1},{:.1}", px(p.size_normalized), py(acc(p))))
            .collect();
        format!(
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>"#,
            coords.join(" ")
        )
    };
    let _ = writeln!(s, "{}", polyline(&r.homogeneous, "#e07b00", "6 4"));
    for p in &r.homogeneous {
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="#e07b00"><title>{} acc {:.2} % size {:.3}</title></rect><text x="{:.1}" y="{:.1}" fill="#e07b00">{}</text>"##,
            px(p.size_normalized) - 3.5,
            py(acc(p)) - 3.5,
            p.genome,
            acc(p),
            p.size_normalized,
            px(p.size_normalized) + 5.0,
            py(acc(p)) + 14.0,
            p.genome.bits()[0]
        );
    }
    let _ = writeln!(s, "{}", polyline(&r.front, "#1f5fbf", ""));
    for p in &r.front {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#1f5fbf"><title>{} acc {:.2} % size {:.3}</title></circle>"##,
            px(p.size_normalized),
            py(acc(p)),
            p.genome,
            acc(p),
            p.size_normalized
        );
    }
    if let Some(b) = &r.best_within_1pp {
        let _ = writeln!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="8" fill="none" stroke="#0a8f3c" stroke-width="2.5"><title>smallest within 1 pp of all-8: {} ({:.1} % smaller)</title></circle>"##,
            px(b.size_normalized),
            py(100.0 * b.accuracy),
            b.genome,
            100.0 * b.size_reduction
        );
    }
    // Legend.
    let lx = W - R + 15.0;
    let items = [
        ("#1f5fbf", "mixed-precision front"),
        ("#e07b00", "homogeneous 2…8 bits"),
        ("#bbb", "every evaluated genome"),
        ("#0a8f3c", "smallest within 1 pp of all-8"),
    ];
    for (k, (color, label)) in items.iter().enumerate() {
        let y = T + 10.0 + 20.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<circle cx="{lx:.1}" cy="{y:.1}" r="5" fill="{color}"/><text x="{:.1}" y="{:.1}">{label}</text>"#,
            lx + 10.0,
            y + 4.0
        );
    }
    if let Some(b) = &r.best_within_1pp {
        let _ = writeln!(
            s,
            r##"<text x="{lx:.1}" y="{:.1}" fill="#0a8f3c">{:.1} % smaller:</text><text x="{lx:.1}" y="{:.1}" font-family="monospace" fill="#0a8f3c">{}</text>"##,
            T + 100.0,
            100.0 * b.size_reduction,
            T + 116.0,
            b.genome
        );
    }
    s.push_str("</svg>\n");
    s
}
