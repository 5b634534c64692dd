//! Analysis of a search: per-gene sensitivity and clustering of the front's genomes.
use super::problem::QuantProblem;
use crate::error::Result;
use crate::genome::{Gene, Genome, GENE_NAMES, N_GENES};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Accuracy and size when one gene alone is lowered from the all-`base` genome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneSensitivity {
    pub gene: String,
    pub index: usize,
    /// One entry per lowered bit width, from `base − 1` down to the minimum.
    pub points: Vec<SensitivityPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityPoint {
    pub bits: u8,
    pub accuracy: f64,
    pub size_normalized: f64,
}

/// Lowers each gene alone from `base` bits to every width in `min..base` and scores it on the
/// problem's fitness set (17 × (base − min) evaluations).
pub fn sensitivity(problem: &QuantProblem, base: u8, min: u8) -> Result<Vec<GeneSensitivity>> {
    let mut genomes = Vec::new();
    for gene in 0..N_GENES {
        for bits in (min..base).rev() {
            let mut b = [base; N_GENES];
            b[gene] = bits;
            genomes.push(Genome::new(b, crate::genome::BitRange::FULL)?);
        }
    }
    let evals = problem.evaluate_many(&genomes)?;
    let per_gene = (base - min) as usize;
    Ok((0..N_GENES)
        .map(|gene| GeneSensitivity {
            gene: GENE_NAMES[gene].to_string(),
            index: gene,
            points: evals[gene * per_gene..(gene + 1) * per_gene]
                .iter()
                .map(|e| SensitivityPoint {
                    bits: e.genome.bits()[gene],
                    accuracy: e.accuracy,
                    size_normalized: e.size.normalized,
                })
                .collect(),
        })
        .collect())
}

/// k-means clustering of genomes, k chosen by the mean silhouette.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    pub k: usize,
    /// Mean silhouette of the chosen k (−1…1; higher is better separated).
    pub silhouette: f64,
    /// Silhouette of every k tried, `(k, s)`.
    pub tried: Vec<(usize, f64)>,
    /// Cluster of each input genome, in input order.
    pub assignment: Vec<usize>,
    pub clusters: Vec<ClusterSummary>,
    pub seed: u64,
}

/// One cluster in words and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterSummary {
    pub members: usize,
    /// Mean bit width per gene.
    pub centroid: Vec<f64>,
    pub accuracy: (f64, f64),
    pub size_normalized: (f64, f64),
    /// Genes whose mean width is ≥ 6 bits: the operators this group keeps precise.
    pub precise: Vec<String>,
    /// Genes whose mean width is ≤ 3 bits: the operators this group squeezes.
    pub squeezed: Vec<String>,
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Lloyd's k-means with k-means++ seeding (seeded ChaCha8), `restarts` seeds, best inertia.
fn kmeans(x: &[Vec<f64>], k: usize, rng: &mut ChaCha8Rng, restarts: usize) -> Vec<usize> {
    let n = x.len();
    let mut best: Option<(f64, Vec<usize>)> = None;
    for _ in 0..restarts {
        // k-means++ seeding.
        let mut centers: Vec<Vec<f64>> = vec![x[rng.gen_range(0..n)].clone()];
        while centers.len() < k {
            let d: Vec<f64> = x
                .iter()
                .map(|p| {
                    centers
                        .iter()
                        .map(|c| dist2(p, c))
                        .fold(f64::INFINITY, f64::min)
                })
                .collect();
            let total: f64 = d.iter().sum();
            let next = if total <= 0.0 {
                rng.gen_range(0..n)
            } else {
                let mut r = rng.gen::<f64>() * total;
                let mut pick = n - 1;
                for (i, di) in d.iter().enumerate() {
                    if r < *di {
                        pick = i;
                        break;
                    }
                    r -= di;
                }
                pick
            };
            centers.push(x[next].clone());
        }
        let mut assign = vec![0usize; n];
        for _ in 0..100 {
            let mut changed = false;
            for (i, p) in x.iter().enumerate() {
                let c = (0..k)
                    .min_by(|&a, &b| dist2(p, &centers[a]).total_cmp(&dist2(p, &centers[b])))
                    .expect("k ≥ 1");
                if c != assign[i] {
                    assign[i] = c;
                    changed = true;
                }
            }
            for (c, center) in centers.iter_mut().enumerate() {
                let members: Vec<&Vec<f64>> = x
                    .iter()
                    .zip(&assign)
                    .filter(|(_, &a)| a == c)
                    .map(|(p, _)| p)
                    .collect();
                if !members.is_empty() {
                    for (d, v) in center.iter_mut().enumerate() {
                        *v = members.iter().map(|m| m[d]).sum::<f64>() / members.len() as f64;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let inertia: f64 = x
            .iter()
            .zip(&assign)
            .map(|(p, &a)| dist2(p, &centers[a]))
            .sum();
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, assign));
        }
    }
    best.expect("restarts ≥ 1").1
}

/// Mean silhouette of an assignment (Euclidean); points alone in their cluster score 0.
pub fn silhouette(x: &[Vec<f64>], assign: &[usize], k: usize) -> f64 {
    let n = x.len();
    if n < 2 || k < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut sum = vec![0.0; k];
        let mut cnt = vec![0usize; k];
        for j in 0..n {
            if i != j {
                sum[assign[j]] += dist2(&x[i], &x[j]).sqrt();
                cnt[assign[j]] += 1;
            }
        }
        let own = assign[i];
        if cnt[own] == 0 {
            continue;
        }
        let a = sum[own] / cnt[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && cnt[c] > 0)
            .map(|c| sum[c] / cnt[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / n as f64
}

/// Clusters genomes (with their accuracy and normalized size) by their bit widths; k from 2 to
/// `k_max` (bounded by the number of distinct genomes − 1) chosen by the highest silhouette.
/// `None` with fewer than 3 distinct genomes.
pub fn cluster(points: &[(Genome, f64, f64)], k_max: usize, seed: u64) -> Option<Clustering> {
    let x: Vec<Vec<f64>> = points
        .iter()
        .map(|(g, _, _)| g.bits().iter().map(|&b| b as f64).collect())
        .collect();
    let mut distinct = points.iter().map(|p| p.0).collect::<Vec<_>>();
    distinct.sort();
    distinct.dedup();
    if distinct.len() < 3 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tried = Vec::new();
    let mut best: Option<(usize, f64, Vec<usize>)> = None;
    for k in 2..=k_max.min(distinct.len() - 1) {
        let assign = kmeans(&x, k, &mut rng, 8);
        let s = silhouette(&x, &assign, k);
        tried.push((k, s));
        if best.as_ref().is_none_or(|(_, bs, _)| s > *bs + 1e-12) {
            best = Some((k, s, assign));
        }
    }
    let (k, s, assign) = best?;
    let clusters = (0..k)
        .map(|c| {
            let members: Vec<usize> = (0..points.len()).filter(|&i| assign[i] == c).collect();
            let centroid: Vec<f64> = (0..N_GENES)
                .map(|d| {
                    members.iter().map(|&i| x[i][d]).sum::<f64>() / members.len().max(1) as f64
                })
                .collect();
            let range = |f: &dyn Fn(usize) -> f64| {
                members
                    .iter()
                    .map(|&i| f(i))
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    })
            };
            ClusterSummary {
                members: members.len(),
                precise: (0..N_GENES)
                    .filter(|&d| centroid[d] >= 6.0)
                    .map(|d| Gene::ALL[d].name().to_string())
                    .collect(),
                squeezed: (0..N_GENES)
                    .filter(|&d| centroid[d] <= 3.0)
                    .map(|d| Gene::ALL[d].name().to_string())
                    .collect(),
                accuracy: range(&|i| points[i].1),
                size_normalized: range(&|i| points[i].2),
                centroid,
            }
        })
        .collect();
    Some(Clustering {
        k,
        silhouette: s,
        tried,
        assignment: assign,
        clusters,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clustering_separates_two_obvious_groups() {
        let mut pts = Vec::new();
        for k in 0..6u8 {
            let mut a = [8u8; N_GENES];
            a[k as usize] = 7;
            pts.push((
                Genome::new(a, crate::genome::BitRange::FULL).unwrap(),
                0.9,
                0.9,
            ));
            let mut b = [2u8; N_GENES];
            b[k as usize] = 3;
            pts.push((
                Genome::new(b, crate::genome::BitRange::FULL).unwrap(),
                0.3,
                0.3,
            ));
        }
        let c = cluster(&pts, 5, 1).unwrap();
        assert_eq!(c.k, 2, "{:?}", c.tried);
        assert!(c.silhouette > 0.8);
        for i in (0..pts.len()).step_by(2) {
            assert_eq!(c.assignment[i], c.assignment[0]);
            assert_ne!(c.assignment[i + 1], c.assignment[0]);
        }
        let hi = &c.clusters[c.assignment[0]];
        assert_eq!(hi.precise.len(), N_GENES);
        assert!(hi.squeezed.is_empty());
        assert_eq!(cluster(&pts, 5, 1), Some(c), "deterministic for a seed");
    }

    #[test]
    fn silhouette_of_perfect_split_is_one() {
        let x = vec![vec![0.0], vec![0.0], vec![10.0], vec![10.0]];
        assert!((silhouette(&x, &[0, 0, 1, 1], 2) - 1.0).abs() < 1e-12);
        assert!(silhouette(&x, &[0, 1, 0, 1], 2) < 0.0);
    }
}
