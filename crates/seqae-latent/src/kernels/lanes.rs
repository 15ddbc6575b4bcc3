//! The vocabulary of the kernels' single body: [`Points`], the 16 points of a panel pair,
//! one value each. On the portable and AVX2 paths they are two runs of eight [`Lanes`] (plain
//! arrays, AVX2 registers behind the [`Avx2Fma`] token), on the AVX-512 path one 16-lane
//! register behind the [`Avx512`] token. Every path does the same operation on every point in
//! the same order, so the AVX-512 path's results are the AVX2 path's bit for bit; each path
//! keeps the exact operations it has always used (`f32::max`/`min` or `vmaxps`/`vminps`,
//! fused or separate multiply-adds).

#[cfg(target_arch = "x86_64")]
use seqae_simd::{Avx2Fma, Avx512};
use seqae_simd::{Path, Portable, madd};

/// Lanes per vector of [`Lanes`], and points per panel.
pub(crate) const LANES: usize = 8;
/// Points of a panel pair: the values of one [`Points`].
pub(crate) const PAIR: usize = 2 * LANES;

/// One value for each of the 16 points of a panel pair (points 0-7: the first panel, 8-15:
/// the second). Index values hold `u32` values as `f32` bit patterns.
pub(crate) trait Points: Path {
    /// Sixteen `f32` values.
    type P: Copy;
    /// The most centres a kernel holds in registers at once: one accumulator per centre and
    /// [`Points`] value (16 registers of 8 lanes with AVX2: 6 centres of two halves; 32 of 16
    /// lanes with AVX-512: 12). The order of the centres is the same whatever the grouping,
    /// and so are the results. At most 12 (`by_group_size`).
    const MAX_GROUP: usize;
    /// `v` for every point.
    fn splat(self, v: f32) -> Self::P;
    /// The bit pattern of `v` for every point.
    fn splat_bits(self, v: u32) -> Self::P;
    /// Eight values of the first panel, then eight of the second.
    fn load_panels(self, a: &[f32; LANES], b: &[f32; LANES]) -> Self::P;
    /// Loads sixteen values.
    fn load(self, s: &[f32; PAIR]) -> Self::P;
    /// Stores sixteen values.
    fn store(self, v: Self::P, s: &mut [f32; PAIR]);
    /// Stores the bit patterns of sixteen values.
    fn store_bits(self, v: Self::P, s: &mut [u32; PAIR]);
    /// `a * b + c`, fused when [`Path::FMA`].
    fn madd(self, a: Self::P, b: Self::P, c: Self::P) -> Self::P;
    /// `a + b`.
    fn add(self, a: Self::P, b: Self::P) -> Self::P;
    /// `a * b`.
    fn mul(self, a: Self::P, b: Self::P) -> Self::P;
    /// `a - b`.
    fn sub(self, a: Self::P, b: Self::P) -> Self::P;
    /// Point-wise maximum.
    fn max(self, a: Self::P, b: Self::P) -> Self::P;
    /// Point-wise minimum.
    fn min(self, a: Self::P, b: Self::P) -> Self::P;
    /// `x` for the points where `a < b`, `y` elsewhere.
    fn select_lt(self, a: Self::P, b: Self::P, x: Self::P, y: Self::P) -> Self::P;
    /// The 8 x 8 block `rows` transposed: `out[l][f] = rows[f][l]` (exact).
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES];
}

/// The two halves of `s`.
#[inline(always)]
fn halves<T>(s: &[T; PAIR]) -> [&[T; LANES]; 2] {
    let (a, b) = s.split_at(LANES);
    [
        a.try_into().expect("8 lanes"),
        b.try_into().expect("8 lanes"),
    ]
}

/// The two halves of `s`, to write.
#[inline(always)]
fn halves_mut<T>(s: &mut [T; PAIR]) -> [&mut [T; LANES]; 2] {
    let (a, b) = s.split_at_mut(LANES);
    [
        a.try_into().expect("8 lanes"),
        b.try_into().expect("8 lanes"),
    ]
}

/// Sixteen points as two runs of eight lanes: every operation on the first, then the second
/// (written out, not as `array::map`, whose closures were left calls).
impl<S: Lanes> Points for S {
    type P = [S::F; 2];
    const MAX_GROUP: usize = 6;
    #[inline(always)]
    fn splat(self, v: f32) -> Self::P {
        [Lanes::splat(self, v); 2]
    }
    #[inline(always)]
    fn splat_bits(self, v: u32) -> Self::P {
        [Lanes::splat_bits(self, v); 2]
    }
    #[inline(always)]
    fn load_panels(self, a: &[f32; LANES], b: &[f32; LANES]) -> Self::P {
        [Lanes::load(self, a), Lanes::load(self, b)]
    }
    #[inline(always)]
    fn load(self, s: &[f32; PAIR]) -> Self::P {
        let [a, b] = halves(s);
        [Lanes::load(self, a), Lanes::load(self, b)]
    }
    #[inline(always)]
    fn store(self, v: Self::P, s: &mut [f32; PAIR]) {
        let [a, b] = halves_mut(s);
        Lanes::store(self, v[0], a);
        Lanes::store(self, v[1], b);
    }
    #[inline(always)]
    fn store_bits(self, v: Self::P, s: &mut [u32; PAIR]) {
        let [a, b] = halves_mut(s);
        Lanes::store_bits(self, v[0], a);
        Lanes::store_bits(self, v[1], b);
    }
    #[inline(always)]
    fn madd(self, a: Self::P, b: Self::P, c: Self::P) -> Self::P {
        [
            Lanes::madd(self, a[0], b[0], c[0]),
            Lanes::madd(self, a[1], b[1], c[1]),
        ]
    }
    #[inline(always)]
    fn add(self, a: Self::P, b: Self::P) -> Self::P {
        [Lanes::add(self, a[0], b[0]), Lanes::add(self, a[1], b[1])]
    }
    #[inline(always)]
    fn mul(self, a: Self::P, b: Self::P) -> Self::P {
        [Lanes::mul(self, a[0], b[0]), Lanes::mul(self, a[1], b[1])]
    }
    #[inline(always)]
    fn sub(self, a: Self::P, b: Self::P) -> Self::P {
        [Lanes::sub(self, a[0], b[0]), Lanes::sub(self, a[1], b[1])]
    }
    #[inline(always)]
    fn max(self, a: Self::P, b: Self::P) -> Self::P {
        [Lanes::max(self, a[0], b[0]), Lanes::max(self, a[1], b[1])]
    }
    #[inline(always)]
    fn min(self, a: Self::P, b: Self::P) -> Self::P {
        [Lanes::min(self, a[0], b[0]), Lanes::min(self, a[1], b[1])]
    }
    #[inline(always)]
    fn select_lt(self, a: Self::P, b: Self::P, x: Self::P, y: Self::P) -> Self::P {
        [
            Lanes::select_lt(self, a[0], b[0], x[0], y[0]),
            Lanes::select_lt(self, a[1], b[1], x[1], y[1]),
        ]
    }
    #[inline(always)]
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES] {
        Lanes::transpose(self, rows)
    }
}

// Every intrinsic below needs AVX-512F; `self` is an `Avx512` token, which exists only on a
// CPU that has it, so each call is sound. The methods are inlined into the kernels'
// `#[target_feature(enable = "avx512f,avx2,fma")]` functions, where the intrinsics compile to
// single instructions (`vmaxps`, `vminps` and the `<` compare as on the AVX2 path).
#[cfg(target_arch = "x86_64")]
impl Points for Avx512 {
    type P = std::arch::x86_64::__m512;
    const MAX_GROUP: usize = 12;
    #[inline(always)]
    fn splat(self, v: f32) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_set1_ps(v) }
    }
    #[inline(always)]
    fn splat_bits(self, v: u32) -> Self::P {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { _mm512_castsi512_ps(_mm512_set1_epi32(v as i32)) }
    }
    #[inline(always)]
    fn load_panels(self, a: &[f32; LANES], b: &[f32; LANES]) -> Self::P {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX-512F; `a` and `b` hold the eight values read from each.
        unsafe {
            let lo = _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(a.as_ptr())));
            let hi = _mm256_castps_pd(_mm256_loadu_ps(b.as_ptr()));
            _mm512_castpd_ps(_mm512_insertf64x4::<1>(lo, hi))
        }
    }
    #[inline(always)]
    fn load(self, s: &[f32; PAIR]) -> Self::P {
        // SAFETY: the token proves AVX-512F; `s` holds the sixteen values read.
        unsafe { std::arch::x86_64::_mm512_loadu_ps(s.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: Self::P, s: &mut [f32; PAIR]) {
        // SAFETY: the token proves AVX-512F; `s` has room for the sixteen values written.
        unsafe { std::arch::x86_64::_mm512_storeu_ps(s.as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn store_bits(self, v: Self::P, s: &mut [u32; PAIR]) {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX-512F; `s` has room for the sixteen values written.
        unsafe { _mm512_storeu_si512(s.as_mut_ptr().cast(), _mm512_castps_si512(v)) }
    }
    #[inline(always)]
    fn madd(self, a: Self::P, b: Self::P, c: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn add(self, a: Self::P, b: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: Self::P, b: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: Self::P, b: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn max(self, a: Self::P, b: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: Self::P, b: Self::P) -> Self::P {
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { std::arch::x86_64::_mm512_min_ps(a, b) }
    }
    #[inline(always)]
    fn select_lt(self, a: Self::P, b: Self::P, x: Self::P, y: Self::P) -> Self::P {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX-512F (see above).
        unsafe { _mm512_mask_blend_ps(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b), y, x) }
    }
    #[inline(always)]
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES] {
        // The AVX2 shuffles: eight lanes a row.
        Lanes::transpose(Path::avx2_fma(self).expect("AVX-512 implies AVX2"), rows)
    }
}

/// Eight-lane operations of one path (the portable and AVX2 paths build [`Points`] from
/// them). Index lanes hold `u32` values as `f32` bit patterns.
pub(crate) trait Lanes: Path {
    /// Eight `f32` lanes.
    type F: Copy;
    /// `v` in every lane.
    fn splat(self, v: f32) -> Self::F;
    /// The bit pattern of `v` in every lane.
    fn splat_bits(self, v: u32) -> Self::F;
    /// Loads eight values.
    fn load(self, s: &[f32; LANES]) -> Self::F;
    /// Stores eight values.
    fn store(self, v: Self::F, s: &mut [f32; LANES]);
    /// Stores the bit patterns of eight lanes.
    fn store_bits(self, v: Self::F, s: &mut [u32; LANES]);
    /// `a * b + c`, fused when [`Path::FMA`].
    fn madd(self, a: Self::F, b: Self::F, c: Self::F) -> Self::F;
    /// `a + b`.
    fn add(self, a: Self::F, b: Self::F) -> Self::F;
    /// `a * b`.
    fn mul(self, a: Self::F, b: Self::F) -> Self::F;
    /// `a - b`.
    fn sub(self, a: Self::F, b: Self::F) -> Self::F;
    /// Lane-wise maximum.
    fn max(self, a: Self::F, b: Self::F) -> Self::F;
    /// Lane-wise minimum.
    fn min(self, a: Self::F, b: Self::F) -> Self::F;
    /// `x` in the lanes where `a < b`, `y` elsewhere.
    fn select_lt(self, a: Self::F, b: Self::F, x: Self::F, y: Self::F) -> Self::F;
    /// The 8 x 8 block `rows` transposed: `out[l][f] = rows[f][l]` (exact).
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES];
}

/// `f(l)` for the eight lanes.
#[inline(always)]
fn each(f: impl Fn(usize) -> f32) -> [f32; LANES] {
    std::array::from_fn(f)
}

impl Lanes for Portable {
    type F = [f32; LANES];
    #[inline(always)]
    fn splat(self, v: f32) -> Self::F {
        [v; LANES]
    }
    #[inline(always)]
    fn splat_bits(self, v: u32) -> Self::F {
        [f32::from_bits(v); LANES]
    }
    #[inline(always)]
    fn load(self, s: &[f32; LANES]) -> Self::F {
        *s
    }
    #[inline(always)]
    fn store(self, v: Self::F, s: &mut [f32; LANES]) {
        *s = v;
    }
    #[inline(always)]
    fn store_bits(self, v: Self::F, s: &mut [u32; LANES]) {
        *s = v.map(f32::to_bits);
    }
    #[inline(always)]
    fn madd(self, a: Self::F, b: Self::F, c: Self::F) -> Self::F {
        each(|l| madd::<{ <Portable as Path>::FMA }>(a[l], b[l], c[l]))
    }
    #[inline(always)]
    fn add(self, a: Self::F, b: Self::F) -> Self::F {
        each(|l| a[l] + b[l])
    }
    #[inline(always)]
    fn mul(self, a: Self::F, b: Self::F) -> Self::F {
        each(|l| a[l] * b[l])
    }
    #[inline(always)]
    fn sub(self, a: Self::F, b: Self::F) -> Self::F {
        each(|l| a[l] - b[l])
    }
    #[inline(always)]
    fn max(self, a: Self::F, b: Self::F) -> Self::F {
        each(|l| a[l].max(b[l]))
    }
    #[inline(always)]
    fn min(self, a: Self::F, b: Self::F) -> Self::F {
        each(|l| a[l].min(b[l]))
    }
    #[inline(always)]
    fn select_lt(self, a: Self::F, b: Self::F, x: Self::F, y: Self::F) -> Self::F {
        each(|l| if a[l] < b[l] { x[l] } else { y[l] })
    }
    #[inline(always)]
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES] {
        let mut out = [[0.0f32; LANES]; LANES];
        for (f, row) in rows.iter().enumerate() {
            for (o, &v) in out.iter_mut().zip(row.iter()) {
                o[f] = v;
            }
        }
        out
    }
}

// Every intrinsic below needs AVX2 or FMA; `self` is an `Avx2Fma` token, which exists only on a
// CPU that has both, so each call is sound. The methods are inlined into the kernels'
// `#[target_feature(enable = "avx2,fma")]` functions, where the intrinsics compile to single
// instructions.
#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2Fma {
    type F = std::arch::x86_64::__m256;
    #[inline(always)]
    fn splat(self, v: f32) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_set1_ps(v) }
    }
    #[inline(always)]
    fn splat_bits(self, v: u32) -> Self::F {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX2 (see above).
        unsafe { _mm256_castsi256_ps(_mm256_set1_epi32(v as i32)) }
    }
    #[inline(always)]
    fn load(self, s: &[f32; LANES]) -> Self::F {
        // SAFETY: the token proves AVX2; `s` holds the eight values read.
        unsafe { std::arch::x86_64::_mm256_loadu_ps(s.as_ptr()) }
    }
    #[inline(always)]
    fn store(self, v: Self::F, s: &mut [f32; LANES]) {
        // SAFETY: the token proves AVX2; `s` has room for the eight values written.
        unsafe { std::arch::x86_64::_mm256_storeu_ps(s.as_mut_ptr(), v) }
    }
    #[inline(always)]
    fn store_bits(self, v: Self::F, s: &mut [u32; LANES]) {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX2; `s` has room for the eight values written.
        unsafe { _mm256_storeu_si256(s.as_mut_ptr().cast(), _mm256_castps_si256(v)) }
    }
    #[inline(always)]
    fn madd(self, a: Self::F, b: Self::F, c: Self::F) -> Self::F {
        // SAFETY: the token proves FMA (see above).
        unsafe { std::arch::x86_64::_mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn add(self, a: Self::F, b: Self::F) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: Self::F, b: Self::F) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: Self::F, b: Self::F) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn max(self, a: Self::F, b: Self::F) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_max_ps(a, b) }
    }
    #[inline(always)]
    fn min(self, a: Self::F, b: Self::F) -> Self::F {
        // SAFETY: the token proves AVX2 (see above).
        unsafe { std::arch::x86_64::_mm256_min_ps(a, b) }
    }
    #[inline(always)]
    fn select_lt(self, a: Self::F, b: Self::F, x: Self::F, y: Self::F) -> Self::F {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX2 (see above).
        unsafe { _mm256_blendv_ps(y, x, _mm256_cmp_ps::<_CMP_LT_OQ>(a, b)) }
    }
    #[inline(always)]
    fn transpose(self, rows: [&[f32; LANES]; LANES]) -> [[f32; LANES]; LANES] {
        use std::arch::x86_64::*;
        // SAFETY: the token proves AVX2 (see above); each load reads one row of eight values
        // and each store writes one row of `out`.
        unsafe {
            let mut r = [_mm256_setzero_ps(); LANES];
            for (v, row) in r.iter_mut().zip(rows) {
                *v = _mm256_loadu_ps(row.as_ptr());
            }
            // Pairs of rows interleaved, then quadruples, within each 128-bit half: `q[i]`
            // holds features 0-3 of points i and i + 4 (i < 4), features 4-7 of them (i >= 4).
            let t = [
                _mm256_unpacklo_ps(r[0], r[1]),
                _mm256_unpackhi_ps(r[0], r[1]),
                _mm256_unpacklo_ps(r[2], r[3]),
                _mm256_unpackhi_ps(r[2], r[3]),
                _mm256_unpacklo_ps(r[4], r[5]),
                _mm256_unpackhi_ps(r[4], r[5]),
                _mm256_unpacklo_ps(r[6], r[7]),
                _mm256_unpackhi_ps(r[6], r[7]),
            ];
            let q = [
                _mm256_shuffle_ps::<0x44>(t[0], t[2]),
                _mm256_shuffle_ps::<0xee>(t[0], t[2]),
                _mm256_shuffle_ps::<0x44>(t[1], t[3]),
                _mm256_shuffle_ps::<0xee>(t[1], t[3]),
                _mm256_shuffle_ps::<0x44>(t[4], t[6]),
                _mm256_shuffle_ps::<0xee>(t[4], t[6]),
                _mm256_shuffle_ps::<0x44>(t[5], t[7]),
                _mm256_shuffle_ps::<0xee>(t[5], t[7]),
            ];
            let mut out = [[0.0f32; LANES]; LANES];
            for i in 0..4 {
                let (a, b) = (q[i], q[i + 4]);
                _mm256_storeu_ps(out[i].as_mut_ptr(), _mm256_permute2f128_ps::<0x20>(a, b));
                _mm256_storeu_ps(
                    out[i + 4].as_mut_ptr(),
                    _mm256_permute2f128_ps::<0x31>(a, b),
                );
            }
            out
        }
    }
}
