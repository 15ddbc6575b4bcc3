//! Tests of the distance kernels: every path against a scalar reference of its own arithmetic.
use super::*;

fn naive_sq(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// `x . c` in feature order, fused or not: what a kernel computes for one point and centre.
fn plain_dot(fma: bool, x: &[f32], c: &[f32]) -> f32 {
    x.iter().zip(c).fold(
        0.0f32,
        |acc, (&a, &b)| {
            if fma { a.mul_add(b, acc) } else { a * b + acc }
        },
    )
}

#[test]
fn groups_are_balanced() {
    assert_eq!(groups(1, 6), vec![(0, 1)]);
    assert_eq!(groups(6, 6), vec![(0, 6)]);
    assert_eq!(groups(10, 6), vec![(0, 5), (5, 5)]);
    assert_eq!(groups(13, 6), vec![(0, 5), (5, 4), (9, 4)]);
    assert_eq!(groups(10, 12), vec![(0, 10)]);
    assert_eq!(groups(25, 12), vec![(0, 9), (9, 8), (17, 8)]);
}

/// Every path against a plain scalar reference of the same arithmetic (bit for bit) and
/// against naive squared distances (within rounding).
#[test]
fn kernels_match_plain_reference_on_every_path() {
    for isa in test_paths() {
        let fma = isa.avx2_fma().is_some();
        for &(n, d, k) in &[
            (1usize, 1usize, 1usize),
            (17, 3, 2),
            (40, 7, 10),
            (33, 32, 13),
            (50, 19, 6),
        ] {
            let at = format!("{isa}: n {n} d {d} k {k}");
            let x: Vec<f32> = (0..n * d)
                .map(|i| ((i * 37 % 101) as f32) * 0.1 - 5.0)
                .collect();
            let c: Vec<f32> = (0..k * d)
                .map(|i| ((i * 53 % 97) as f32) * 0.1 - 4.0)
                .collect();
            let offset = vec![0.0f32; d];
            let p = Panels::new(&x, n, d, &offset);
            let cs = Centres::new(&c, k, d);
            let (xs, cr) = (
                |i: usize| &x[i * d..(i + 1) * d],
                |j: usize| &c[j * d..(j + 1) * d],
            );

            let mut lab = vec![0u32; p.n_pairs * PAIR];
            nearest(isa, &p, &cs, 0..p.n_pairs, &mut lab, None);
            let mut sums = vec![0.0f64; k * d];
            let mut lab2 = vec![0u32; p.n_pairs * PAIR];
            nearest(isa, &p, &cs, 0..p.n_pairs, &mut lab2, Some(&mut sums));
            assert_eq!(lab, lab2, "{at}");
            let mut want = vec![0.0f64; k * d];
            for i in 0..n {
                // first minimum of |c|^2 - 2 x.c
                let score = |j: usize| {
                    let dot = plain_dot(fma, xs(i), cr(j));
                    if fma {
                        (-2.0f32).mul_add(dot, cs.sq[j])
                    } else {
                        cs.sq[j] - 2.0 * dot
                    }
                };
                let best = (0..k).fold(0, |b, j| if score(j) < score(b) { j } else { b });
                assert_eq!(lab[i] as usize, best, "{at}: point {i}");
                let dd: Vec<f32> = (0..k).map(|j| naive_sq(xs(i), cr(j))).collect();
                let min = dd.iter().copied().fold(f32::INFINITY, f32::min);
                assert!(dd[best] <= min + 1e-3 * min.max(1.0), "{at}: point {i}");
                for f in 0..d {
                    want[best * d + f] += xs(i)[f] as f64;
                }
            }
            assert_eq!(sums, want, "{at}: sums");

            let mut dist = vec![0.0f32; k * p.n_pairs * PAIR];
            candidates(isa, &p, &cs, None, 0..p.n_pairs, &mut dist);
            let stride = p.n_pairs * PAIR;
            for i in 0..n {
                assert!((p.sq[i] - naive_sq(xs(i), &offset)).abs() <= 1e-3 * p.sq[i].max(1.0));
                for j in 0..k {
                    let dot = plain_dot(fma, xs(i), cr(j));
                    let plain = if fma {
                        p.sq[i] + (-2.0f32).mul_add(dot, cs.sq[j])
                    } else {
                        p.sq[i] + cs.sq[j] - 2.0 * dot
                    };
                    let got = dist[j * stride + i];
                    assert_eq!(got.to_bits(), plain.max(0.0).to_bits(), "{at}: {i}, {j}");
                    let dd = naive_sq(xs(i), cr(j));
                    assert!((got - dd).abs() <= 1e-3 * dd.max(1.0), "{at}: {i}, {j}");
                }
            }
            // closest clamps
            let closest = vec![0.5f32; p.n_pairs * PAIR];
            candidates(isa, &p, &cs, Some(&closest), 0..p.n_pairs, &mut dist);
            assert!(dist.iter().all(|&v| v <= 0.5), "{at}");
        }
    }
}

/// Centres given twice tie exactly: every path keeps the first of the two (ties are
/// decided by a strict `<` in centre order, across and inside groups).
#[test]
fn ties_go_to_the_first_centre_on_every_path() {
    let (n, d, k) = (45usize, 5usize, 14usize);
    let x: Vec<f32> = (0..n * d)
        .map(|i| ((i * 29 % 83) as f32) * 0.1 - 4.0)
        .collect();
    let half: Vec<f32> = (0..k / 2 * d)
        .map(|i| ((i * 61 % 89) as f32) * 0.1 - 4.0)
        .collect();
    // Centre 2j and 2j + 1 are the same point.
    let c: Vec<f32> = half.chunks_exact(d).flat_map(|r| r.repeat(2)).collect();
    let (p, cs) = (Panels::new(&x, n, d, &vec![0.0; d]), Centres::new(&c, k, d));
    for isa in test_paths() {
        let mut lab = vec![0u32; p.n_pairs * PAIR];
        nearest(isa, &p, &cs, 0..p.n_pairs, &mut lab, None);
        assert!(
            lab[..n].iter().all(|&j| j % 2 == 0),
            "{isa}: {:?}",
            &lab[..n]
        );
        // Not all points go to one centre (and k = 14 makes two groups on every path).
        assert!(lab[..n].iter().any(|&j| j != lab[0]), "{isa}");
    }
}

#[test]
fn sums_and_distances_match_plain_reference_on_every_path() {
    let v: Vec<f64> = (0..37).map(|i| (i as f64 * 0.7).sin()).collect();
    let sq: Vec<f64> = (0..37).map(|i| (i as f64 * 0.3).cos().abs()).collect();
    let mut acc = [0.0f64; 8];
    for (i, x) in v[..32].iter().enumerate() {
        acc[i % 8] += x;
    }
    let mut want =
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for x in &v[32..] {
        want += x;
    }
    let want_rows: Vec<f64> = v
        .iter()
        .zip(&sq)
        .map(|(r, s)| (r + 0.25 + s).max(0.0).sqrt())
        .collect();
    for isa in test_paths() {
        assert_eq!(sum_f64(isa, &v).to_bits(), want.to_bits(), "{isa}");
        let mut row = v.clone();
        sqrt_dists(isa, &mut row, 0.25, &sq);
        assert_eq!(row, want_rows, "{isa}");
    }
}
