//! The instruction sets seqae's kernels are written for, detected once per process, and the
//! zero-sized tokens that prove a feature is present.
//!
//! A kernel compiled with `#[target_feature(enable = "avx2,fma")]` may only run on a CPU that
//! has those features. Safe wrappers take an [`Avx2Fma`] token, which only [`Avx2Fma::detect`]
//! (after checking the CPU) can create, so a safe caller can never reach the instructions on a
//! CPU without them. [`Isa`] names the paths for tests and benchmarks, which may force the
//! portable one on any CPU.
use std::sync::OnceLock;

/// A code path of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain Rust, every CPU.
    Portable,
    /// x86-64 AVX2 with FMA (8 `f32` lanes, 16 registers).
    Avx2Fma,
}

impl Isa {
    /// Every path, slowest first.
    pub const ALL: [Isa; 2] = [Isa::Portable, Isa::Avx2Fma];

    /// The best path this CPU supports, unless the environment variable `SEQAE_ISA`
    /// (`portable` or `avx2`) asks for another it supports. Read once per process.
    pub fn best() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| {
            let wanted = std::env::var("SEQAE_ISA").ok();
            match wanted.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("portable") => Isa::Portable,
                _ if Avx2Fma::supported() => Isa::Avx2Fma,
                _ => Isa::Portable,
            }
        })
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            Isa::Avx2Fma => Avx2Fma::supported(),
        }
    }

    /// The token of the AVX2 path when this path is it and the CPU has it.
    pub fn avx2_fma(self) -> Option<Avx2Fma> {
        match self {
            Isa::Avx2Fma => Avx2Fma::detect(),
            Isa::Portable => None,
        }
    }

    /// A short name (`portable`, `avx2`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2Fma => "avx2",
        }
    }
}

impl std::fmt::Display for Isa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Proof that the CPU has AVX2 and FMA: zero-sized, created only by [`Avx2Fma::detect`].
#[derive(Clone, Copy, Debug)]
pub struct Avx2Fma(());

impl Avx2Fma {
    /// The token, if the CPU has AVX2 and FMA (checked once per process).
    pub fn detect() -> Option<Avx2Fma> {
        Self::supported().then_some(Avx2Fma(()))
    }

    fn supported() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            static HAS: OnceLock<bool> = OnceLock::new();
            *HAS.get_or_init(|| {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    }
}

/// `x * y + z`: one fused instruction where the caller is compiled for FMA (`FMA`), a
/// multiply and an add otherwise (a software `mul_add` would be far slower).
#[inline(always)]
pub fn madd<const FMA: bool>(x: f32, y: f32, z: f32) -> f32 {
    if FMA { x.mul_add(y, z) } else { x * y + z }
}

/// A code path as a type, for kernels generic over it: a value of the type is the proof that
/// the CPU can run the path ([`Portable`] always, [`Avx2Fma`] only from its detection).
/// Kernels take the value and compile their inner loops for the path (inlined into a
/// `#[target_feature]` wrapper on the AVX2 path).
pub trait Path: Copy + Send + Sync + 'static {
    /// Whether [`Path::madd`] is one fused instruction on this path.
    const FMA: bool;

    /// The AVX2 token, on the AVX2 path.
    fn avx2_fma(self) -> Option<Avx2Fma>;

    /// `x * y + z` as this path computes it (see [`madd`]).
    #[inline(always)]
    fn madd(x: f32, y: f32, z: f32) -> f32 {
        if Self::FMA {
            x.mul_add(y, z)
        } else {
            x * y + z
        }
    }
}

/// The portable path: plain Rust, every CPU.
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl Path for Portable {
    const FMA: bool = false;
    #[inline(always)]
    fn avx2_fma(self) -> Option<Avx2Fma> {
        None
    }
}

impl Path for Avx2Fma {
    const FMA: bool = true;
    #[inline(always)]
    fn avx2_fma(self) -> Option<Avx2Fma> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_is_always_supported_and_tokens_match_detection() {
        assert!(Isa::Portable.supported());
        assert!(Isa::Portable.avx2_fma().is_none());
        assert_eq!(Isa::Avx2Fma.avx2_fma().is_some(), Isa::Avx2Fma.supported());
        assert!(Isa::best().supported());
    }

    #[test]
    fn madd_agrees_both_ways() {
        assert_eq!(madd::<true>(2.0, 3.0, 1.0), 7.0);
        assert_eq!(madd::<false>(2.0, 3.0, 1.0), 7.0);
    }
}
