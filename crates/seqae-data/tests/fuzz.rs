//! Property tests: every reader, fed random bytes or a valid file with bytes changed, returns
//! a set or an error naming the file; it never panics.
use proptest::prelude::*;
use seqae_data::{Format, ReadOptions, read::read_file};
use std::path::Path;

const VALID: [(&str, &[u8]); 4] = [
    (
        "a.ts",
        b"@problemName x\n@univariate false\n@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n7,8,9:1,2,3:b\n",
    ),
    ("a.tsv", b"1\t0.5\t0.7\t0.9\n2\t1.5\t1.7\tNaN\n"),
    ("a.csv", b"id,label,t0,t1,t2\ns1,a,1,2,3\ns2,b,4,5,6\n"),
    ("a.npy", b""), // filled by npy_file()
];

fn npy_file() -> Vec<u8> {
    let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// Reads `bytes` as file `name` in `format`; an error must name the file.
fn read_bytes(name: &str, format: Format, bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let options = ReadOptions {
        format: Some(format),
        allow_missing: true,
        ..Default::default()
    };
    if let Err(e) = read_file(&path, &options) {
        prop_assert!(e.to_string().contains(name), "{e}");
    }
    Ok(())
}

fn formats() -> [(&'static str, Format); 5] {
    [
        ("f.ts", Format::Ts),
        ("f.tsv", Format::Tsv),
        ("f.csv", Format::Csv),
        ("f.csv", Format::CsvLong),
        ("f.npy", Format::Npy),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        for (name, format) in formats() {
            read_bytes(name, format, &bytes)?;
        }
    }

    #[test]
    fn mutated_valid_files_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let (name, valid) = VALID[which];
        let mut bytes = if name.ends_with(".npy") { npy_file() } else { valid.to_vec() };
        for (at, b) in edits {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        if cut.is_multiple_of(3) {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        let format = Format::from_path(Path::new(name)).unwrap();
        read_bytes(name, format, &bytes)?;
    }
}

#[test]
fn the_valid_files_read() {
    for (name, bytes) in VALID {
        let bytes = if name.ends_with(".npy") {
            npy_file()
        } else {
            bytes.to_vec()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let set = read_file(&path, &ReadOptions::default()).unwrap();
        assert_eq!(set.len(), 2, "{name}");
    }
}
