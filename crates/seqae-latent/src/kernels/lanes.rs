//! Eight `f32` lanes, the vocabulary of the kernels' single body: plain arrays on the portable
//! path, AVX2 registers behind the [`Avx2Fma`] token. Each path keeps the exact operations it
//! has always used (`f32::max`/`min` or `vmaxps`/`vminps`, fused or separate multiply-adds).

#[cfg(target_arch = "x86_64")]
use seqae_simd::Avx2Fma;
use seqae_simd::{Path, Portable, madd};

/// Lanes per vector.
pub(crate) const LANES: usize = 8;

/// Eight-lane operations of one path. Index lanes hold `u32` values as `f32` bit patterns.
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
}
