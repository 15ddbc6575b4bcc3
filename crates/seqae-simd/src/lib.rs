//! The instruction sets seqae's kernels are written for, detected once per process, and the
//! zero-sized tokens that prove a feature is present.
//!
//! A kernel compiled with `#[target_feature(enable = "avx2,fma")]` may only run on a CPU that
//! has those features. Safe wrappers take an [`Avx2Fma`] token, which only [`Avx2Fma::detect`]
//! (after checking the CPU) can create, so a safe caller can never reach the instructions on a
//! CPU without them; likewise [`Avx512`] for `#[target_feature(enable = "avx512f,avx2,fma")]`.
//! [`Isa`] names the paths for tests and benchmarks, which may force a slower one on any CPU
//! (`SEQAE_ISA`).
use std::sync::OnceLock;

/// A code path of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain Rust, every CPU.
    Portable,
    /// x86-64 AVX2 with FMA (8 `f32` lanes, 16 registers).
    Avx2Fma,
    /// x86-64 AVX-512F, with AVX2 and FMA (16 `f32` lanes, 32 registers).
    Avx512,
}

impl Isa {
    /// Every path, slowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2Fma, Isa::Avx512];

    /// The best path this CPU supports, unless the environment variable `SEQAE_ISA`
    /// (`portable`, `avx2` or `avx512`) asks for another. Read once per process; a path the
    /// CPU lacks, or an unknown name, falls back to the best one.
    pub fn best() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| {
            let wanted = std::env::var("SEQAE_ISA").ok();
            Isa::chosen(wanted.as_deref())
        })
    }

    /// The path `SEQAE_ISA = wanted` selects on this CPU (see [`Isa::best`]).
    pub fn chosen(wanted: Option<&str>) -> Isa {
        let fastest = Isa::ALL
            .into_iter()
            .rev()
            .find(|isa| isa.supported())
            .unwrap_or(Isa::Portable);
        wanted
            .and_then(Isa::from_name)
            .filter(|isa| isa.supported())
            .unwrap_or(fastest)
    }

    /// The path of a short name ([`Isa::name`]), case-insensitive.
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Isa::Portable => true,
            Isa::Avx2Fma => Avx2Fma::supported(),
            Isa::Avx512 => Avx512::supported(),
        }
    }

    /// The AVX2 token when this path may use AVX2 (the AVX2 and AVX-512 paths) and the CPU
    /// has it: kernels without an AVX-512 body run their AVX2 body on the AVX-512 path.
    pub fn avx2_fma(self) -> Option<Avx2Fma> {
        match self {
            Isa::Avx2Fma | Isa::Avx512 => Avx2Fma::detect(),
            Isa::Portable => None,
        }
    }

    /// The AVX-512 token when this path is it and the CPU has it.
    pub fn avx512(self) -> Option<Avx512> {
        match self {
            Isa::Avx512 => Avx512::detect(),
            Isa::Portable | Isa::Avx2Fma => None,
        }
    }

    /// A short name (`portable`, `avx2`, `avx512`).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::Avx2Fma => "avx2",
            Isa::Avx512 => "avx512",
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

/// Proof that the CPU has AVX-512F, AVX2 and FMA: zero-sized, created only by
/// [`Avx512::detect`].
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Avx512 {
    /// The token, if the CPU has AVX-512F, AVX2 and FMA (checked once per process).
    pub fn detect() -> Option<Avx512> {
        Self::supported().then_some(Avx512(()))
    }

    fn supported() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            static HAS: OnceLock<bool> = OnceLock::new();
            *HAS.get_or_init(|| {
                Avx2Fma::supported() && std::arch::is_x86_feature_detected!("avx512f")
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

    /// The AVX2 token, on the AVX2 and AVX-512 paths.
    fn avx2_fma(self) -> Option<Avx2Fma>;

    /// The AVX-512 token, on the AVX-512 path.
    #[inline(always)]
    fn avx512(self) -> Option<Avx512> {
        None
    }

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

impl Path for Avx512 {
    const FMA: bool = true;
    #[inline(always)]
    fn avx2_fma(self) -> Option<Avx2Fma> {
        Some(Avx2Fma(()))
    }
    #[inline(always)]
    fn avx512(self) -> Option<Avx512> {
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
        assert_eq!(Isa::Avx512.avx512().is_some(), Isa::Avx512.supported());
        assert!(Isa::Avx2Fma.avx512().is_none());
        // AVX-512 implies AVX2: a CPU with the first has the second.
        assert!(!Isa::Avx512.supported() || Isa::Avx2Fma.supported());
        assert!(Isa::best().supported());
    }

    #[test]
    fn the_environment_variable_picks_a_supported_path_or_the_fastest() {
        let fastest = *Isa::ALL.iter().rev().find(|i| i.supported()).unwrap();
        assert_eq!(Isa::chosen(None), fastest);
        assert_eq!(Isa::chosen(Some("PORTABLE")), Isa::Portable);
        assert_eq!(Isa::chosen(Some("no-such-path")), fastest);
        for isa in Isa::ALL {
            let want = if isa.supported() { isa } else { fastest };
            assert_eq!(Isa::chosen(Some(isa.name())), want, "{isa}");
        }
    }

    #[test]
    fn madd_agrees_both_ways() {
        assert_eq!(madd::<true>(2.0, 3.0, 1.0), 7.0);
        assert_eq!(madd::<false>(2.0, 3.0, 1.0), 7.0);
    }
}
