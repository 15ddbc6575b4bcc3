//! Dynamic time warping (Sakoe and Chiba, IEEE Trans. ASSP 1978) with a band: the cost of
//! the cheapest monotone alignment of two sequences, where step `i` of one may meet step `j`
//! of the other only when `|i - j|` is within the band's radius (widened to the difference in
//! length, so that sequences of unequal length always align). The local cost is the squared
//! Euclidean distance between the steps' channel vectors; the result is the square root of
//! the summed cost, as tslearn's `dtw`.

/// The band radius for sequences of at most `max_len` steps: `fraction` of the length,
/// rounded up, at least 1.
pub fn band_radius(max_len: usize, fraction: f64) -> usize {
    ((max_len as f64 * fraction).ceil() as usize).max(1)
}

/// Working rows of one thread.
#[derive(Default)]
pub(crate) struct Rows {
    prev: Vec<f32>,
    cur: Vec<f32>,
}

/// The banded DTW distance between `a` and `b`, each `(values, steps)` step-major with
/// `channels` channels. Stops early and returns infinity once every cell of a row costs
/// more than `bound` (squared), since no alignment can then come under it.
pub(crate) fn dtw(
    (a, la): (&[f32], usize),
    (b, lb): (&[f32], usize),
    channels: usize,
    radius: usize,
    bound: f32,
    rows: &mut Rows,
) -> f32 {
    if la == 0 || lb == 0 {
        return if la == lb { 0.0 } else { f32::INFINITY };
    }
    let r = radius.max(la.abs_diff(lb));
    rows.prev.clear();
    rows.prev.resize(lb + 1, f32::INFINITY);
    rows.cur.clear();
    rows.cur.resize(lb + 1, f32::INFINITY);
    rows.prev[0] = 0.0;
    let bound_sq = if bound.is_finite() {
        bound * bound
    } else {
        f32::INFINITY
    };
    for i in 1..=la {
        let lo = i.saturating_sub(r).max(1);
        let hi = (i + r).min(lb);
        rows.cur.iter_mut().for_each(|v| *v = f32::INFINITY);
        let ai = &a[(i - 1) * channels..i * channels];
        let mut row_min = f32::INFINITY;
        for j in lo..=hi {
            let bj = &b[(j - 1) * channels..j * channels];
            let cost: f32 = ai.iter().zip(bj).map(|(x, y)| (x - y) * (x - y)).sum();
            let best = rows.prev[j - 1].min(rows.prev[j]).min(rows.cur[j - 1]);
            let v = cost + best;
            rows.cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > bound_sq {
            return f32::INFINITY;
        }
        std::mem::swap(&mut rows.prev, &mut rows.cur);
    }
    rows.prev[lb].sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Full dynamic programme without a band.
    fn reference(a: &[f32], b: &[f32]) -> f32 {
        let (n, m) = (a.len(), b.len());
        let mut d = vec![vec![f32::INFINITY; m + 1]; n + 1];
        d[0][0] = 0.0;
        for i in 1..=n {
            for j in 1..=m {
                let c = (a[i - 1] - b[j - 1]).powi(2);
                d[i][j] = c + d[i - 1][j - 1].min(d[i - 1][j]).min(d[i][j - 1]);
            }
        }
        d[n][m].sqrt()
    }

    #[test]
    fn a_wide_band_is_the_full_programme() {
        let a: Vec<f32> = (0..30).map(|t| (t as f32 * 0.4).sin()).collect();
        let b: Vec<f32> = (0..23).map(|t| (t as f32 * 0.5 + 0.3).sin()).collect();
        let mut rows = Rows::default();
        let got = dtw((&a, 30), (&b, 23), 1, 30, f32::INFINITY, &mut rows);
        assert!((got - reference(&a, &b)).abs() < 1e-5);
        // A narrow band costs at least as much; unequal lengths still align.
        let narrow = dtw((&a, 30), (&b, 23), 1, 1, f32::INFINITY, &mut rows);
        assert!(narrow.is_finite() && narrow >= got - 1e-6);
    }

    #[test]
    fn warping_absorbs_a_small_shift_and_the_bound_stops_early() {
        let bump = |at: f32| -> Vec<f32> {
            (0..50)
                .map(|t| (-((t as f32 - at) / 2.0).powi(2)).exp())
                .collect()
        };
        let (a, b) = (bump(20.0), bump(23.0));
        let mut rows = Rows::default();
        let euclid: f32 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt();
        let warped = dtw((&a, 50), (&b, 50), 1, 5, f32::INFINITY, &mut rows);
        assert!(warped < 0.2 * euclid, "{warped} vs {euclid}");
        assert_eq!(
            dtw((&a, 50), (&b, 50), 1, 0, 0.01, &mut rows),
            f32::INFINITY
        );
        assert_eq!(band_radius(128, 0.1), 13);
    }
}
