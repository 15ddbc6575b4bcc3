//! Rendering tests: every chart to PNG and SVG, degenerate inputs, and error cases; a module
//! per chart, and one for output handling (formats, sizes, paths, text).

mod loss;
mod output;
mod prototypes;
mod reconstruction;
mod scatter;
mod silhouette;
mod variance;

use std::path::{Path, PathBuf};

use crate::*;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// Checks a written chart and that no temporary file is left beside it.
fn check_file(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => {
            assert!(
                bytes.starts_with(PNG_SIGNATURE),
                "{}: no PNG signature",
                path.display()
            );
            assert!(
                bytes.len() > 8_000,
                "{}: only {} bytes",
                path.display(),
                bytes.len()
            );
        }
        Some("svg") => {
            let text = String::from_utf8(bytes).expect("SVG is UTF-8");
            assert!(text.contains("<svg") && text.trim_end().ends_with("</svg>"));
            assert!(
                text.len() > 2_000,
                "{}: only {} bytes",
                path.display(),
                text.len()
            );
            assert!(text.contains("<text"), "{}: no text", path.display());
        }
        _ => panic!("unexpected extension"),
    }
    assert_no_temp_files(path.parent().unwrap());
}

fn assert_no_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".seqae-"),
            "temporary file left behind: {name}"
        );
    }
}

fn both(dir: &Path, stem: &str) -> [PathBuf; 2] {
    [
        dir.join(format!("{stem}.png")),
        dir.join(format!("{stem}.svg")),
    ]
}

fn wave(steps: usize, channels: usize, phase: f32) -> Vec<f32> {
    (0..steps * channels)
        .map(|k| {
            let (t, c) = ((k / channels) as f32, (k % channels) as f32);
            (0.3 * t + phase + c).sin() * (1.0 + 0.5 * c)
        })
        .collect()
}

fn scatter_points(n: usize) -> (Vec<[f32; 2]>, Vec<usize>, Vec<String>) {
    let points = (0..n)
        .map(|i| {
            let a = i as f32 * 0.7;
            [a.cos() * (1.0 + (i % 3) as f32), a.sin() + (i % 3) as f32]
        })
        .collect();
    let clusters = (0..n).map(|i| i % 3).collect();
    let labels = (0..n).map(|i| format!("class {}", i % 4)).collect();
    (points, clusters, labels)
}
