//! Readers on the shipped datasets and on every kind of bad input.
use npyz::WriterBuilder;
use seqae_data::read::{Column, Format, ReadOptions, read_path};
use seqae_data::{DataError, SequenceSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn read(p: &Path) -> Result<SequenceSet, DataError> {
    read_path(p, &ReadOptions::default())
}

/// The error text for reading `text` as `name`, which must name the file.
fn error_of(name: &str, text: &str, opts: &ReadOptions) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), name, text);
    let e = read_path(&p, opts)
        .expect_err("bad input must be refused")
        .to_string();
    assert!(e.contains(name), "error does not name the file: {e}");
    e
}

#[test]
fn japanese_vowels_counts_channels_lengths_and_labels() {
    let set = read(&datasets().join("JapaneseVowels")).unwrap();
    let s = set.summary();
    // headers: @dimensions 12, @equalLength false, @classLabel true 1..9; 270 + 370 lines
    assert_eq!(
        (s.n, s.channels, s.min_len, s.max_len, s.labels, s.missing),
        (640, 12, 7, 29, 9, 0)
    );
    assert_eq!(
        set.class_names(),
        (1..=9).map(|i| i.to_string()).collect::<Vec<_>>()
    );
    // TRAIN comes first: its first line starts 1.860936,1.891651 for dimension 1, label 1
    assert_eq!(set.sequence(0)[0], 1.860936);
    assert_eq!(set.sequence(0)[12], 1.891651);
    assert_eq!(set.labels().unwrap()[0], "1");
    let train = read(&datasets().join("JapaneseVowels/JapaneseVowels_TRAIN.ts")).unwrap();
    assert_eq!(train.len(), 270);
    let idx = train.label_indices().unwrap();
    for k in 0..9 {
        assert_eq!(idx.iter().filter(|&&i| i == k).count(), 30);
    }
}

#[test]
fn basic_motions_counts_channels_lengths_and_labels() {
    let set = read(&datasets().join("BasicMotions")).unwrap();
    let s = set.summary();
    assert_eq!(
        (s.n, s.channels, s.min_len, s.max_len, s.labels),
        (80, 6, 100, 100, 4)
    );
    assert_eq!(
        set.class_names(),
        &["Standing", "Running", "Walking", "Badminton"]
    );
}

#[test]
fn every_shipped_dataset_reads_quickly() {
    let expect = [
        ("GunPoint", 200, 1, 150, 2),
        ("ArrowHead", 211, 1, 251, 3),
        ("ItalyPowerDemand", 1096, 1, 24, 2),
        ("Chinatown20", 42, 1, 24, 2),
        ("BasicMotions", 80, 6, 100, 4),
        ("JapaneseVowels", 640, 12, 29, 9),
    ];
    for (name, n, c, len, k) in expect {
        let t = Instant::now();
        let set = read(&datasets().join(name)).unwrap();
        let s = set.summary();
        assert_eq!(
            (s.n, s.channels, s.max_len, s.labels),
            (n, c, len, k),
            "{name}"
        );
        println!(
            "{name}: {} sequences read in {:.1} ms",
            s.n,
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

#[test]
fn ts_variants_parse() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "m.ts",
        "# comment\n@problemName x\n@missing true\n@univariate false\n@dimensions 2\n@equalLength false\n\
         @classLabel true a b\n@data\n1,2,3:4,5,6:a\n\n7,?:8,9:b\n",
    );
    // A missing value before the end needs allow_missing, as in every format.
    let e = read(&p).unwrap_err().to_string();
    assert!(
        e.contains("m.ts:11: dimension 1, value 2: missing value before the end"),
        "{e}"
    );
    let allow = ReadOptions {
        allow_missing: true,
        ..Default::default()
    };
    let set = read_path(&p, &allow).unwrap();
    assert_eq!(set.lengths(), vec![3, 2]);
    assert_eq!(set.sequence(0), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert!(set.sequence(1)[2].is_nan());
    assert_eq!(set.summary().missing, 1);
    // Trailing missing steps are padding: they shorten the sequence.
    let p = write(dir.path(), "pad.ts", "@data\n1,2,NaN\n3,?,?\n4,5,6\n");
    assert_eq!(read(&p).unwrap().lengths(), vec![2, 1, 3]);
    // A declared label may contain ':'.
    let p = write(
        dir.path(),
        "colon.ts",
        "@classLabel true a:b c\n@data\n1,2:a:b\n3,4:c\n5,6:a:b\n",
    );
    let set = read(&p).unwrap();
    assert_eq!((set.channels(), set.class_names().len()), (1, 2));
    assert_eq!(set.labels().unwrap()[0], "a:b");
    // Old Mac line endings (CR alone) are lines too.
    let p = write(
        dir.path(),
        "cr.ts",
        "@classLabel true x y\r@data\r1,2:x\r3,4:y\r",
    );
    assert_eq!(read(&p).unwrap().len(), 2);
    // unlabelled, no header details
    let p = write(dir.path(), "u.ts", "@classLabel false\n@data\n1,2\n3,4,5\n");
    let set = read(&p).unwrap();
    assert!(set.labels().is_none());
    assert_eq!(set.lengths(), vec![2, 3]);
}

#[test]
fn ts_bad_inputs_name_the_line() {
    let o = ReadOptions::default();
    let e = error_of("a.ts", "", &o);
    assert!(e.contains("empty"), "{e}");
    let e = error_of("a.ts", "@problemName x\n", &o);
    assert!(e.contains("@data"), "{e}");
    let e = error_of("a.ts", "@classLabel true 1 2\n@data\n", &o);
    assert!(e.contains("no sequences"), "{e}");
    let e = error_of(
        "a.ts",
        "@dimensions 2\n@classLabel true 1\n@data\n1,2:3,4:1\n1,2:1\n",
        &o,
    );
    assert!(e.contains(":5:") && e.contains("declares 2"), "{e}");
    let e = error_of(
        "a.ts",
        "@equalLength true\n@classLabel false\n@data\n1,2\n1,2,3\n",
        &o,
    );
    assert!(e.contains(":5:") && e.contains("equalLength"), "{e}");
    let e = error_of(
        "a.ts",
        "@seriesLength 3\n@equalLength true\n@data\n1,2\n",
        &o,
    );
    assert!(e.contains(":4:") && e.contains("@seriesLength 3"), "{e}");
    let e = error_of("a.ts", "@classLabel true a b\n@data\n1,2:c\n", &o);
    assert!(
        e.contains(":3:") && e.contains("'c'") && e.contains("@classLabel"),
        "{e}"
    );
    let e = error_of(
        "a.ts",
        "@missing false\n@classLabel true a\n@data\n1,?,3:a\n",
        &o,
    );
    assert!(
        e.contains(":4: dimension 1, value 2") && e.contains("@missing false"),
        "{e}"
    );
    let e = error_of("a.ts", "@classLabel true a\n@data\n1,x,3:a\n", &o);
    assert!(
        e.contains(":3: dimension 1, value 2") && e.contains("'x'"),
        "{e}"
    );
    let e = error_of("a.ts", "@classLabel true a\n@data\n1,inf:a\n", &o);
    assert!(e.contains("infinite"), "{e}");
    let e = error_of("a.ts", "@dimensions 2\n@data\n1,2:3\n", &o);
    assert!(e.contains("dimension 2") && e.contains("1 values"), "{e}");
    let e = error_of("a.ts", "@univariate true\n@dimensions 3\n@data\n1\n", &o);
    assert!(e.contains("@univariate"), "{e}");
    let e = error_of("a.ts", "@timeStamps true\n@data\n(1,2)\n", &o);
    assert!(e.contains("not supported"), "{e}");
    let e = error_of("a.ts", "@classLabel false\n@data\n1,2\n:\n", &o);
    assert!(e.contains(":4:"), "{e}");
}

#[test]
fn tsv_reads_labels_padding_and_refuses_bad_cells() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "x.tsv", "1\t0.5\t1.5\t2.5\n-1\t3\t4\tNaN\n");
    let set = read(&p).unwrap();
    assert_eq!(set.lengths(), vec![3, 2]);
    assert_eq!(set.class_names(), &["1", "-1"]);
    let o = ReadOptions::default();
    let e = error_of("b.tsv", "1\t0.5\tfoo\n", &o);
    assert!(e.contains(":1: column 3") && e.contains("'foo'"), "{e}");
    let e = error_of("b.tsv", "1\t0.5\tNaN\t2\n", &o);
    assert!(e.contains("column 3") && e.contains("missing"), "{e}");
    let e = error_of("b.tsv", "1\tNaN\tNaN\n", &o);
    assert!(e.contains("zero length"), "{e}");
    let e = error_of("b.tsv", "1,2,3\n", &o);
    assert!(e.contains("comma"), "{e}");
    let e = error_of("b.tsv", "\n\n", &o);
    assert!(e.contains("empty"), "{e}");
    let ok = ReadOptions {
        allow_missing: true,
        ..Default::default()
    };
    let p = write(dir.path(), "m.tsv", "1\t0.5\tNaN\t2\n");
    assert_eq!(read_path(&p, &ok).unwrap().summary().missing, 1);
}

#[test]
fn wide_csv_with_header_label_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.csv",
        "id,t0,t1,t2,label\na,1,2,3,x\nb,4,5,,y\n",
    );
    let set = read(&p).unwrap();
    assert_eq!(set.lengths(), vec![3, 2]);
    assert_eq!(set.labels().unwrap(), &["x", "y"]);
    assert_eq!(set.ids().unwrap(), &["a", "b"]);
    // no header, label by index
    let p = write(dir.path(), "n.csv", "0,1.5,2.5\n1,3.5,4.5\n");
    let o = ReadOptions {
        label_column: Some(Column::Index(0)),
        ..Default::default()
    };
    let set = read_path(&p, &o).unwrap();
    assert_eq!(set.sequence(1), &[3.5, 4.5]);
    assert_eq!(set.class_names(), &["0", "1"]);
    // semicolons
    let p = write(dir.path(), "s.csv", "1;2\n3;4\n");
    let o = ReadOptions {
        delimiter: Some(b';'),
        ..Default::default()
    };
    assert_eq!(read_path(&p, &o).unwrap().len(), 2);
}

#[test]
fn wide_csv_bad_inputs() {
    let o = ReadOptions::default();
    let e = error_of("r.csv", "1,2,3\n4,5\n", &o);
    assert!(
        e.contains(":2:") && e.contains("2 fields") && e.contains("line 1 has 3"),
        "{e}"
    );
    let e = error_of("r.csv", "a,b\n1,2\n3,zz\n", &o);
    assert!(
        e.contains(":3: column 2 ('b')") && e.contains("'zz'"),
        "{e}"
    );
    let e = error_of("r.csv", "1,,3\n", &o);
    assert!(e.contains("column 2") && e.contains("missing"), "{e}");
    let e = error_of("r.csv", "a,b\n", &o);
    assert!(e.contains("only a header"), "{e}");
    let e = error_of("r.csv", "", &o);
    assert!(e.contains("empty"), "{e}");
    let e = error_of("r.csv", "label,x\nq,\n", &o);
    assert!(e.contains("zero length"), "{e}");
    let bad_col = ReadOptions {
        label_column: Some(Column::Name("kind".into())),
        ..Default::default()
    };
    let e = error_of("r.csv", "a,b\n1,2\n", &bad_col);
    assert!(e.contains("no label column named 'kind'"), "{e}");
    let bad_idx = ReadOptions {
        label_column: Some(Column::Index(9)),
        ..Default::default()
    };
    let e = error_of("r.csv", "1,2\n", &bad_idx);
    assert!(e.contains("column 9 does not exist"), "{e}");
    let e = error_of("r.csv", "1,1e40\n", &o);
    assert!(e.contains("too large"), "{e}");
}

#[test]
fn long_csv_groups_and_orders_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "l.csv",
        "id,time,x,y,label\ns1,1,10,11,A\ns2,0,5,6,B\ns1,0,1,2,A\ns1,2,20,21,A\n",
    );
    let o = ReadOptions {
        format: Some(Format::CsvLong),
        ..Default::default()
    };
    let set = read_path(&p, &o).unwrap();
    assert_eq!(set.channels(), 2);
    assert_eq!(set.ids().unwrap(), &["s1", "s2"]);
    assert_eq!(set.sequence(0), &[1.0, 2.0, 10.0, 11.0, 20.0, 21.0]);
    assert_eq!(set.labels().unwrap(), &["A", "B"]);
    let e = error_of("l.csv", "id,time,x,label\na,0,1,A\na,1,2,B\n", &o);
    assert!(
        e.contains(":3:") && e.contains("label 'B'") && e.contains("line 2"),
        "{e}"
    );
    let e = error_of("l.csv", "id,time,x\na,0,1\na,0,2\n", &o);
    assert!(e.contains(":3:") && e.contains("twice"), "{e}");
    let e = error_of("l.csv", "id,time,x\na,zero,1\n", &o);
    assert!(e.contains(":2: column 2 ('time')"), "{e}");
    let e = error_of("l.csv", "id,time\na,0\n", &o);
    assert!(e.contains("no value columns"), "{e}");
}

fn write_npy(dir: &Path, name: &str, shape: &[u64], data: &[f64], f32s: bool) -> PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    if f32s {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(f)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().map(|&x| x as f32)).unwrap();
        w.finish().unwrap();
    } else {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(f)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().copied()).unwrap();
        w.finish().unwrap();
    }
    p
}

#[test]
fn npy_2d_3d_f32_f64_and_bad_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_npy(
        dir.path(),
        "a.npy",
        &[2, 3],
        &[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN],
        true,
    );
    let set = read(&p).unwrap();
    assert_eq!((set.channels(), set.lengths()), (1, vec![3, 2]));
    let p = write_npy(
        dir.path(),
        "b.npy",
        &[1, 2, 2],
        &[1.0, 2.0, 3.0, 4.0],
        false,
    );
    let set = read(&p).unwrap();
    assert_eq!(
        (set.channels(), set.sequence(0)),
        (2, &[1.0f32, 2.0, 3.0, 4.0][..])
    );
    let p = write_npy(dir.path(), "c.npy", &[4], &[1.0, 2.0, 3.0, 4.0], true);
    let e = read(&p).unwrap_err().to_string();
    assert!(
        e.contains("c.npy") && e.contains("expected 2 dimensions"),
        "{e}"
    );
    let p = write_npy(dir.path(), "d.npy", &[1, 2], &[1.0, f64::INFINITY], false);
    let e = read(&p).unwrap_err().to_string();
    assert!(
        e.contains("element [0, 1, 0]") && e.contains("infinite"),
        "{e}"
    );
    let p = write_npy(dir.path(), "e.npy", &[1, 3], &[1.0, f64::NAN, 2.0], true);
    let e = read(&p).unwrap_err().to_string();
    assert!(
        e.contains("element [0, 1, 0]") && e.contains("missing"),
        "{e}"
    );
    let p = write_npy(dir.path(), "f.npy", &[0, 3], &[], true);
    assert!(read(&p).unwrap_err().to_string().contains("no sequences"));
    // wrong dtype
    let p = dir.path().join("g.npy");
    let f = std::fs::File::create(&p).unwrap();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[1, 2])
        .writer(f)
        .begin_nd()
        .unwrap();
    w.extend([1i32, 2]).unwrap();
    w.finish().unwrap();
    let e = read(&p).unwrap_err().to_string();
    assert!(e.contains("g.npy") && e.contains("dtype"), "{e}");
    let e = error_of("h.npy", "not numpy at all", &ReadOptions::default());
    assert!(e.contains("not a readable .npy"), "{e}");
}

#[test]
fn folders_merge_train_then_test_and_check_channels() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "X_TEST.tsv", "2\t9\t9\n");
    write(dir.path(), "X_TRAIN.tsv", "1\t1\t1\n");
    let set = read(dir.path()).unwrap();
    assert_eq!(set.labels().unwrap(), &["1", "2"]);
    write(
        dir.path(),
        "Y.ts",
        "@dimensions 2\n@classLabel true 1\n@data\n1:2:1\n",
    );
    let e = read(dir.path()).unwrap_err().to_string();
    assert!(e.contains("Y.ts") && e.contains("channels"), "{e}");
}

#[test]
fn random_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 12345u64;
    for round in 0..300 {
        let len = (round * 7) % 200;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"0123456789,.:?\t\n@#-eNa dlsbt"[(state >> 33) as usize % 28]
            })
            .collect();
        for ext in ["ts", "tsv", "csv", "npy"] {
            let p = dir.path().join(format!("r.{ext}"));
            std::fs::write(&p, &bytes).unwrap();
            let _ = read(&p);
            let long = ReadOptions {
                format: Some(Format::CsvLong),
                ..Default::default()
            };
            let _ = read_path(&p, &long);
        }
    }
}

/// An `.npy` read in chunks gives the whole read's sequences in order, chunk by chunk; other
/// formats come as one chunk; an error in a later chunk still names the element.
#[test]
fn npy_in_chunks_equals_the_whole_read() {
    let dir = tempfile::tempdir().unwrap();
    let (n, t, c) = (7usize, 5usize, 2usize);
    let mut data: Vec<f64> = (0..n * t * c).map(|i| (i as f64 * 0.37).sin()).collect();
    // Sequence 3 is padded to 3 steps.
    for v in &mut data[(3 * t + 3) * c..(3 * t + 5) * c] {
        *v = f64::NAN;
    }
    let p = write_npy(
        dir.path(),
        "a.npy",
        &[n as u64, t as u64, c as u64],
        &data,
        true,
    );
    let o = ReadOptions::default();
    let whole = read_path(&p, &o).unwrap();
    let mut chunks = seqae_data::read_chunks(&p, &o, 3).unwrap();
    let mut sizes = Vec::new();
    let mut at = 0;
    while let Some(set) = chunks.next_chunk().unwrap() {
        sizes.push(set.len());
        for i in 0..set.len() {
            assert_eq!(
                set.sequence(i),
                whole.sequence(at + i),
                "sequence {}",
                at + i
            );
        }
        at += set.len();
    }
    assert_eq!(sizes, vec![3, 3, 1]);
    assert_eq!(whole.length(3), 3);

    let mut bad = data.clone();
    bad[(5 * t + 1) * c] = f64::NAN; // a gap in sequence 5: missing, not padding
    let p = write_npy(
        dir.path(),
        "b.npy",
        &[n as u64, t as u64, c as u64],
        &bad,
        true,
    );
    let mut chunks = seqae_data::read_chunks(&p, &o, 3).unwrap();
    assert!(chunks.next_chunk().unwrap().is_some());
    let e = chunks.next_chunk().unwrap_err().to_string();
    assert!(
        e.contains("b.npy") && e.contains("element [5, 1, 0]"),
        "{e}"
    );

    let tsv = dir.path().join("c.tsv");
    std::fs::write(&tsv, "1\t0.5\t0.25\n2\t0.1\t0.2\n").unwrap();
    let mut chunks = seqae_data::read_chunks(&tsv, &o, 1).unwrap();
    assert_eq!(chunks.next_chunk().unwrap().unwrap().len(), 2);
    assert!(chunks.next_chunk().unwrap().is_none());
}
