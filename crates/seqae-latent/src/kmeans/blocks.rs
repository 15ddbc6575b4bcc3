//! Deterministic partitions of the panel pairs into parallel blocks and cache-sized tiles, and
//! the splitting of per-point outputs to match.

use crate::kernels::PAIR;

/// Blocks of panel pairs; their number depends only on `n_pairs` (deterministic reductions).
pub(super) fn pair_blocks(n_pairs: usize) -> Vec<std::ops::Range<usize>> {
    let n_blocks = n_pairs.div_ceil(64).clamp(1, 64);
    let per = n_pairs.div_ceil(n_blocks).max(1);
    (0..n_blocks)
        .map(|b| (b * per).min(n_pairs)..((b + 1) * per).min(n_pairs))
        .filter(|r| !r.is_empty())
        .collect()
}

/// Splits `out` into consecutive mutable parts of `len(block) * stride` values (the last part
/// is cut short if `out` is shorter, as for unpadded label arrays).
pub(super) fn split_by_blocks<'a, T>(
    mut out: &'a mut [T],
    blocks: &[std::ops::Range<usize>],
    stride: usize,
) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(blocks.len());
    for r in blocks {
        let take = (r.len() * stride).min(out.len());
        let (head, tail) = out.split_at_mut(take);
        parts.push(head);
        out = tail;
    }
    parts
}

/// Per-block tile, in pairs: about 64 KiB of panel data, so a tile stays in L2 while all runs
/// are processed on it (the data is read from memory once per pass, not once per run).
pub(super) fn tile_pairs(d: usize) -> usize {
    (65536 / (PAIR * d * 4)).max(1)
}

/// Splits each run's slice by blocks and regroups the parts by block.
pub(super) fn split_runs<'a, T>(
    runs: Vec<&'a mut [T]>,
    blocks: &[std::ops::Range<usize>],
    stride: usize,
) -> Vec<Vec<&'a mut [T]>> {
    let mut per_block: Vec<Vec<&'a mut [T]>> = blocks
        .iter()
        .map(|_| Vec::with_capacity(runs.len()))
        .collect();
    for r in runs {
        for (b, part) in split_by_blocks(r, blocks, stride).into_iter().enumerate() {
            per_block[b].push(part);
        }
    }
    per_block
}

/// Calls `f(tile_pairs_range, offset_in_block_points)` for consecutive tiles of block `b`.
pub(super) fn for_tiles(
    b: &std::ops::Range<usize>,
    d: usize,
    mut f: impl FnMut(std::ops::Range<usize>, usize),
) {
    let tp = tile_pairs(d);
    let mut t0 = b.start;
    while t0 < b.end {
        let t1 = (t0 + tp).min(b.end);
        f(t0..t1, (t0 - b.start) * PAIR);
        t0 = t1;
    }
}
