//! Reliability: a catalogue of bad inputs across formats and commands (each: exit code 2, one
//! line naming the file and the place, no panic, nothing written), and one regression test per
//! defect of docs/RELIABILITY.md that a process can show (`--force` keeps the user's files, a
//! closed standard output, corrupted weights, the built-in demo data, divergence).
mod common;

use common::{dataset, ok, s, seqae, tiny_model};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// One tiny model for every case that needs one (trained once per test process).
fn shared_model() -> &'static Path {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, model) = MODEL.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        (dir, model)
    });
    model
}

/// A `.npy` file: the version-1 header for `descr` and `shape` (as Python writes it), then
/// `data`.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A copy of the shared model in `dir/name`, changed by `edit`.
fn model_copy(dir: &Path, name: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let copy = dir.join(name);
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(shared_model()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    edit(&copy);
    copy
}

/// One bad input: files to create in the input folder, the command (`{in}` is the input
/// folder, `{out}` an empty output folder, `{model}` the shared model), and a text the one
/// error line must hold (the file and the place).
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: &'static str,
    needle: &'static str,
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, &[u8])>,
    args: &'static str,
    needle: &'static str,
) -> Case {
    Case {
        name,
        files: files.into_iter().map(|(n, b)| (n, b.to_vec())).collect(),
        args,
        needle,
    }
}

fn catalogue() -> Vec<Case> {
    let ts = |body: &'static str| vec![("bad.ts", body.as_bytes())];
    let tsv = |body: &'static str| vec![("bad.tsv", body.as_bytes())];
    let csv = |body: &'static str| vec![("bad.csv", body.as_bytes())];
    let info = "info {in}/bad.ts";
    let same_rows = b"id,z0,z1\na,0.5,1\nb,0.5,1\nc,0.5,1\nd,0.5,1\n";
    let mut cases = vec![
        // Identical embeddings: what is wrong with the data, not a silhouette's rule.
        case(
            "cluster identical rows",
            vec![("e.csv", same_rows)],
            "cluster {in}/e.csv --out {out}/c.csv",
            "e.csv: all 4 rows are identical: there is nothing to cluster",
        ),
        case(
            "cluster kmeans k 2 on identical rows",
            vec![("e.csv", same_rows)],
            "cluster {in}/e.csv --clusterer kmeans --k 2 --out {out}/c.csv",
            "e.csv: all 4 rows are identical",
        ),
        case(
            "demo with one sequence",
            vec![("one.csv", b"1,2,3,4\n")],
            "demo --data {in}/one.csv --out {out}/rep",
            "one.csv: 1 sequence(s): the demo chooses k",
        ),
        case(
            "cluster a 1-D npy",
            vec![("e.npy", &npy("<f4", "(3,)", &f32s(&[1.0, 2.0, 3.0])))],
            "cluster {in}/e.npy --out {out}/c.csv",
            "e.npy: array of shape [3]: expected a 2-D array [n, d]",
        ),
        case(
            "npy trailing bytes",
            vec![(
                "bad.npy",
                &[npy("<f4", "(2, 2)", &f32s(&[1.0; 4])), b"junk".to_vec()].concat(),
            )],
            "info {in}/bad.npy",
            "bad.npy: 4 bytes after the data of shape [2, 2]",
        ),
        case(
            "ts NaN inside without --allow-missing",
            ts("@data\n1,NaN,3\n4,5,6\n"),
            info,
            "bad.ts:2: dimension 1, value 2: missing value before the end of the sequence (pass --allow-missing",
        ),
        case(
            "ts ? inside without --allow-missing",
            ts("@data\n1,2,3\n4,?,6\n"),
            info,
            "bad.ts:3: dimension 1, value 2: missing value",
        ),
        // Flags that would do nothing in the combination given.
        case(
            "teacher ratio without teacher forcing",
            vec![("x.ts", b"@data\n1,2\n")],
            "train {in}/x.ts --teacher-ratio 0.3 --out {out}/m",
            "--teacher-ratio 0.3: does nothing without --decoder-input teacher-forcing",
        ),
        case(
            "contrast weight without the contrastive objective",
            vec![("x.ts", b"@data\n1,2\n")],
            "train {in}/x.ts --contrast-weight 2 --out {out}/m",
            "--contrast-weight 2: does nothing without --objective contrastive",
        ),
        case(
            "dropout with one layer",
            vec![("x.ts", b"@data\n1,2\n")],
            "train {in}/x.ts --dropout 0.2 --out {out}/m",
            "--dropout 0.2: does nothing without --layers 2 or more",
        ),
        case(
            "one column as label and id",
            csv("id,lab,a,b\n1,x,1,2\n2,y,3,4\n"),
            "info {in}/bad.csv --label-column lab --id-column lab",
            "bad.csv: the label and id columns are the same column (column 2 ('lab'))",
        ),
        // A row of empty cells is refused, not dropped (later rows would get new ids).
        case(
            "csv row of empty cells",
            csv("a,b,c\n1,2,3\n,,\n4,5,6\n"),
            "info {in}/bad.csv",
            "bad.csv:3: sequence has no values",
        ),
        case(
            "cluster n-init unbounded",
            vec![("e.csv", b"id,z0\na,1\nb,2\nc,3\n")],
            "cluster {in}/e.csv --k 2 --n-init 1000000 --out {out}/c.csv",
            "--n-init 1000000: at most 1000",
        ),
        case(
            "plot silhouette k-max 1",
            vec![("e.csv", b"id,z0\na,1\nb,2\nc,3\nd,4\n")],
            "plot silhouette {in}/e.csv --k-max 1 --out {out}/s.png",
            "--k-max 1: the chart compares",
        ),
        case(
            "newline in a path",
            vec![],
            "info {in}/a\nb.ts",
            "b.ts: No such file",
        ),
        case(
            "output is a device",
            vec![("e.csv", b"id,z0\na,1\nb,2\nc,3\n")],
            "reduce {in}/e.csv --components 1 --out /dev/null --force",
            "/dev/null: not a regular file",
        ),
        case(
            "plot reconstructions count 0",
            vec![],
            "plot reconstructions {model} {in}/none.ts --count 0 --out {out}/r.png",
            "--count 0",
        ),
        // .ts
        case(
            "ts value",
            ts("@data\n1,2,x\n"),
            info,
            "bad.ts:2: dimension 1, value 3",
        ),
        case(
            "ts no @data",
            ts("@problemName x\n"),
            info,
            "bad.ts: no @data line",
        ),
        case(
            "ts unknown keyword",
            ts("@seriesLenth 3\n@data\n1,2,3\n"),
            info,
            "bad.ts:1: @serieslenth: unknown header keyword",
        ),
        case(
            "ts empty series",
            ts("@classLabel true 1\n@data\n:1\n"),
            info,
            "bad.ts:3: dimension 1: empty series",
        ),
        case(
            "ts dimensions change",
            ts("@data\n1,2:3,4\n5,6\n"),
            info,
            "bad.ts:3: 1 dimensions, but earlier lines have 2",
        ),
        case(
            "ts dimension lengths",
            ts("@data\n1,2:3\n"),
            info,
            "bad.ts:2: dimension 2: 1 values",
        ),
        case(
            "ts equal length broken",
            ts("@equalLength true\n@data\n1,2\n1,2,3\n"),
            info,
            "bad.ts:4: length 3, but line 3",
        ),
        case(
            "ts series length",
            ts("@equalLength true\n@seriesLength 3\n@data\n1,2\n"),
            info,
            "bad.ts:4: length 2, but the header declares @seriesLength 3",
        ),
        case(
            "ts undeclared label",
            ts("@classLabel true a b\n@data\n1,2:c\n"),
            info,
            "bad.ts:3: class label: label 'c'",
        ),
        case(
            "ts missing forbidden",
            ts("@missing false\n@data\n1,?,3\n"),
            info,
            "bad.ts:3: dimension 1, value 2: missing value",
        ),
        case(
            "ts time stamps",
            ts("@timeStamps true\n@data\n(1,2)\n"),
            info,
            "bad.ts:1: @timestamps: time-stamped",
        ),
        case("ts empty file", ts(""), info, "bad.ts: empty file"),
        case(
            "ts infinite",
            ts("@data\n1,inf\n"),
            info,
            "bad.ts:2: dimension 1, value 2: value 'inf' is infinite",
        ),
        case(
            "ts all missing",
            ts("@data\n?,?\n"),
            info,
            "bad.ts:2: every value is missing",
        ),
        case(
            "ts univariate conflict",
            ts("@univariate true\n@dimensions 2\n@data\n1\n"),
            info,
            "bad.ts: header says @univariate true but @dimensions 2",
        ),
        case(
            "ts bad flag",
            ts("@missing maybe\n@data\n1\n"),
            info,
            "bad.ts:1: @missing: expected true or false",
        ),
        case(
            "ts no label",
            ts("@classLabel true a\n@data\n1,2\n"),
            info,
            "bad.ts:3: expected values followed by ':'",
        ),
        case(
            "ts not utf-8",
            vec![("bad.ts", b"@data\n1,\xff\xfe\n")],
            info,
            "bad.ts:2: not UTF-8 text",
        ),
        case(
            "ts text before header",
            ts("hello\n@data\n1\n"),
            info,
            "bad.ts:1: expected a header line",
        ),
        case(
            "ts dimensions 0",
            ts("@dimensions 0\n@data\n1\n"),
            info,
            "bad.ts: @dimensions 0",
        ),
        // .tsv
        case(
            "tsv value",
            tsv("1\t0.5\tabc\n"),
            "info {in}/bad.tsv",
            "bad.tsv:1: column 3: expected a number, found 'abc'",
        ),
        case(
            "tsv empty label",
            tsv("\t1\t2\n"),
            "info {in}/bad.tsv",
            "bad.tsv:1: column 1 (label): empty class label",
        ),
        case(
            "tsv missing inside",
            tsv("1\t1\tNaN\t2\n"),
            "info {in}/bad.tsv",
            "bad.tsv:1",
        ),
        case(
            "tsv too large",
            tsv("1\t1\t1e39\n"),
            "info {in}/bad.tsv",
            "bad.tsv:1: column 3: value '1e39' is infinite or too large",
        ),
        // .csv
        case(
            "csv value",
            csv("a,b\n1,x\n"),
            "info {in}/bad.csv",
            "bad.csv:2",
        ),
        case(
            "csv ragged",
            csv("1,2,3\n4,5\n"),
            "info {in}/bad.csv",
            "bad.csv:2: 2 fields, but line 1 has 3",
        ),
        case(
            "csv no rows",
            csv("\n\n"),
            "info {in}/bad.csv",
            "bad.csv: empty file",
        ),
        case(
            "csv unknown label column",
            csv("id,x,y\na,1,2\n"),
            "info {in}/bad.csv --label-column nosuch",
            "nosuch",
        ),
        case(
            "csv long time",
            csv("id,time,x\na,1,2\na,x,3\n"),
            "info {in}/bad.csv --format csv-long",
            "bad.csv:3",
        ),
        // .npy
        case(
            "npy shape overflow",
            vec![("bad.npy", &npy("<f4", "(4294967296, 4294967296, 1)", &[]))],
            "info {in}/bad.npy",
            "bad.npy: array of shape [4294967296, 4294967296, 1] is larger than any file",
        ),
        case(
            "npy shape beyond file",
            vec![("bad.npy", &npy("<f4", "(65536, 65536, 2)", &[0; 64]))],
            "info {in}/bad.npy",
            "bad.npy: header declares shape [65536, 65536, 2]",
        ),
        case(
            "npy truncated",
            vec![("bad.npy", &npy("<f4", "(10, 5)", &[0; 20]))],
            "info {in}/bad.npy",
            "bad.npy: header declares shape [10, 5] (200 bytes of data)",
        ),
        case(
            "npy integer dtype",
            vec![("bad.npy", &npy("<i4", "(2, 2)", &[0; 16]))],
            "info {in}/bad.npy",
            "bad.npy: dtype <i4",
        ),
        case(
            "npy one dimension",
            vec![("bad.npy", &npy("<f4", "(4,)", &[0; 16]))],
            "info {in}/bad.npy",
            "bad.npy: array of shape [4]",
        ),
        case(
            "npy not npy",
            vec![("bad.npy", b"hello world, not an array")],
            "info {in}/bad.npy",
            "bad.npy: not a readable .npy file",
        ),
        case(
            "npy missing inside",
            vec![(
                "bad.npy",
                &npy("<f4", "(1, 3)", &f32s(&[1.0, f32::NAN, 2.0])),
            )],
            "info {in}/bad.npy",
            "bad.npy: element [0, 1, 0]: missing value",
        ),
        case(
            "npy no sequences",
            vec![("bad.npy", &npy("<f4", "(0, 3)", &[]))],
            "info {in}/bad.npy",
            "bad.npy: no sequences",
        ),
        case(
            "npy infinite",
            vec![(
                "bad.npy",
                &npy("<f4", "(1, 2)", &f32s(&[1.0, f32::INFINITY])),
            )],
            "info {in}/bad.npy",
            "bad.npy: element [0, 1, 0]: infinite value",
        ),
        // files and folders
        case(
            "unknown extension",
            vec![("x.xlsx", b"1,2")],
            "info {in}/x.xlsx",
            "x.xlsx: unknown file type",
        ),
        case(
            "missing file",
            vec![],
            "info {in}/none.ts",
            "none.ts: No such file",
        ),
        case(
            "empty folder",
            vec![],
            "info {in}",
            "folder holds no dataset file",
        ),
        case(
            "folder channels differ",
            vec![("a.ts", b"@data\n1,2\n"), ("b.ts", b"@data\n1,2:3,4\n")],
            "info {in}",
            "b.ts: has 2 channels but",
        ),
        case(
            "folder labelled and not",
            vec![
                ("a.ts", b"@classLabel true x\n@data\n1,2:x\n"),
                ("b.ts", b"@data\n1,2\n"),
            ],
            "info {in}",
            "b.ts: is unlabelled but",
        ),
        // commands on models and tables
        case(
            "embed channels",
            vec![("two.ts", b"@data\n1,2:3,4\n")],
            "embed {model} {in}/two.ts --out {out}/e.csv",
            "two.ts: has 2 channels, but the model",
        ),
        case(
            "embed no model",
            vec![("x.ts", b"@data\n1,2\n")],
            "embed {in}/x.ts {in}/x.ts --out {out}/e.csv",
            "x.ts: not a seqae model",
        ),
        case(
            "cluster folder",
            vec![],
            "cluster {in} --out {out}/c.csv",
            "is a folder: expected a table file",
        ),
        case(
            "cluster txt",
            vec![("e.txt", b"1,2\n")],
            "cluster {in}/e.txt --out {out}/c.csv",
            "e.txt: unknown input table type",
        ),
        case(
            "cluster k-max 1",
            vec![("e.csv", b"id,z0\na,1\nb,2\nc,3\n")],
            "cluster {in}/e.csv --k-max 1 --out {out}/c.csv",
            "--k-max 1",
        ),
        case(
            "cluster bad table value",
            vec![("e.csv", b"id,z0\na,1\nb,x\n")],
            "cluster {in}/e.csv --out {out}/c.csv",
            "e.csv:3: column 'z0'",
        ),
        case(
            "train extreme minmax",
            vec![("big.ts", b"@data\n3e38,-3e38,1\n3e38,2,1\n")],
            "train {in}/big.ts --normalize minmax --out {out}/m",
            "channel 1 do not fit in f32",
        ),
        case(
            "train missing folder",
            vec![],
            "train {in}/../../no/data.ts --out {out}/a/b/m",
            "data.ts",
        ),
        case(
            "train out folder missing",
            vec![("x.ts", b"@data\n1,2\n")],
            "train {in}/x.ts --out {out}/a/b/m",
            "folder",
        ),
        case(
            "embed out folder missing",
            vec![],
            "embed {model} {in}/../../no.ts --out {out}/a/e.csv",
            "no.ts",
        ),
        case(
            "train model too large",
            vec![("x.ts", b"@data\n1,2\n")],
            "train {in}/x.ts --hidden 100000 --out {out}/m",
            "--hidden 100000 --layers 1 --latent 32: up to",
        ),
        case(
            "reconstruct out type",
            vec![("x.ts", b"@data\n1,2\n")],
            "reconstruct {model} {in}/x.ts --out {out}/r.txt",
            "r.txt: unknown output type",
        ),
    ];
    cases.push(case(
        "endless line",
        vec![],
        "info {in}/zero.ts",
        "zero.ts:1: line longer than 64 MiB",
    ));
    // A GPU asked of a build without one: what to build, before any work.
    #[cfg(not(feature = "gpu"))]
    cases.push(case(
        "embed on the gpu without gpu support",
        vec![("one.ts", b"@data\n1,2,3,4\n5,6,7,8\n")],
        "embed {model} {in}/one.ts --out {out}/e.csv --backend gpu",
        "built without GPU support; build it with `cargo build --release --features gpu`",
    ));
    cases
}

/// Runs one case in fresh folders and checks everything the catalogue promises.
fn run_case(c: &Case, model: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    std::fs::create_dir(&out).unwrap();
    for (name, bytes) in &c.files {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    if c.name == "endless line" {
        std::os::unix::fs::symlink("/dev/zero", input.join("zero.ts")).unwrap();
    }
    let args: Vec<String> = c
        .args
        .split(' ')
        .map(|a| {
            a.replace("{in}", s(&input))
                .replace("{out}", s(&out))
                .replace("{model}", s(model))
        })
        .collect();
    let output = Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(&args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let mut problems = Vec::new();
    if output.status.code() != Some(2) {
        problems.push(format!("exit code {:?}", output.status.code()));
    }
    if lines.len() != 1 || !lines[0].starts_with("seqae: error: ") {
        problems.push(format!("not one error line: {stderr:?}"));
    }
    if !stderr.contains(c.needle) {
        problems.push(format!("no '{}' in {stderr:?}", c.needle));
    }
    let written: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    if !written.is_empty() {
        problems.push(format!(
            "left {} entries in the output folder",
            written.len()
        ));
    }
    let extra = std::fs::read_dir(&input).unwrap().count()
        - c.files.len()
        - usize::from(c.name == "endless line");
    if extra != 0 {
        problems.push(format!("left {extra} entries in the input folder"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", c.name, problems.join("; ")))
    }
}

#[test]
fn every_bad_input_exits_2_with_one_line_and_leaves_nothing() {
    let model = shared_model();
    let cases = catalogue();
    assert!(
        cases.len() >= 73 + usize::from(cfg!(not(feature = "gpu"))),
        "the catalogue has {} cases",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run_case(c, model).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corrupted_or_mismatched_weights_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let flipped = model_copy(dir.path(), "flipped", |m| {
        let path = m.join("weights.bpk");
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        for b in &mut bytes[mid..mid + 16] {
            *b ^= 0x55;
        }
        std::fs::write(&path, bytes).unwrap();
    });
    let out = dir.path().join("e.csv");
    let run = |model: &Path| seqae(&["embed", s(model), &dataset("Chinatown20"), "--out", s(&out)]);
    let o = run(&flipped);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("weights.bpk") && err.contains("checksum mismatch"),
        "{err}"
    );
    assert!(!out.exists());
    // An edited config: refused by its checksum before anything is built from it, in one
    // short line (a huge hidden size included: nothing is allocated).
    for (name, from, to) in [
        ("reshaped", "\"hidden\": 8", "\"hidden\": 9"),
        ("huge", "\"hidden\": 8", "\"hidden\": 1000000000"),
    ] {
        let edited = model_copy(dir.path(), name, |m| {
            let path = m.join("config.json");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace(from, to)).unwrap();
        });
        let o = run(&edited);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("config.json was edited"), "{err}");
        assert!(err.lines().count() == 1 && err.len() < 400, "{err}");
    }
    // Without its checksums a model is refused, with the way to recover.
    for field in ["weights_sha256", "config_sha256"] {
        let unsigned = model_copy(dir.path(), field, |m| {
            let path = m.join("config.json");
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            v.as_object_mut().unwrap().remove(field);
            std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        });
        let o = run(&unsigned);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(field) || err.contains("config_sha256"),
            "{err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn model_files_are_read_as_regular_files_within_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.csv");
    let run = |model: &Path| seqae(&["embed", s(model), &dataset("Chinatown20"), "--out", s(&out)]);
    for (name, target) in [("zero", "/dev/zero"), ("gone", "/no/such/file")] {
        let m = model_copy(dir.path(), name, |m| {
            let w = m.join("weights.bpk");
            std::fs::remove_file(&w).unwrap();
            std::os::unix::fs::symlink(target, &w).unwrap();
        });
        let o = run(&m);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("weights.bpk"), "{err}");
    }
    // A FIFO would block a reader forever: refused at once.
    let fifo = model_copy(dir.path(), "fifo", |m| {
        let w = m.join("config.json");
        std::fs::remove_file(&w).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&w)
            .status()
            .unwrap();
        assert!(made.success());
    });
    let o = run(&fifo);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // A weights file larger than the architecture can need.
    let padded = model_copy(dir.path(), "padded", |m| {
        let w = m.join("weights.bpk");
        let f = std::fs::OpenOptions::new().append(true).open(&w).unwrap();
        f.set_len(64 << 20).unwrap();
    });
    let o = run(&padded);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("more than this model can have"), "{err}");
}

#[test]
fn force_replaces_only_what_seqae_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path());
    std::fs::write(model.join("notes.txt"), "mine").unwrap();
    let before = std::fs::read(model.join("weights.bpk")).unwrap();
    ok(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&model),
        "--epochs",
        "2",
        "--hidden",
        "8",
        "--latent",
        "4",
        "--seed",
        "7",
        "--force",
        "--quiet",
    ]);
    assert_eq!(
        std::fs::read_to_string(model.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_ne!(std::fs::read(model.join("weights.bpk")).unwrap(), before);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["model"], "nothing beside the model");
}

#[test]
fn a_closed_standard_output_still_writes_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let emb = dir.path().join("emb.csv");
    ok(&[
        "embed",
        s(shared_model()),
        &dataset("Chinatown20"),
        "--out",
        s(&emb),
    ]);
    let clusters = dir.path().join("c.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(["cluster", s(&emb), "--k", "auto", "--out", s(&clusters)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is printed
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(clusters.is_file(), "c.csv was not written");
}

#[test]
fn the_demo_data_is_built_in() {
    // Run from a folder with no datasets/ beside it: the demo still has its data.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(["demo", "--out", "r", "--epochs", "1", "--hidden", "8", "-q"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let summary = std::fs::read_to_string(dir.path().join("r/summary.json")).unwrap();
    assert!(summary.contains("BasicMotions (built in)"), "{summary}");
    let embeddings = std::fs::read_to_string(dir.path().join("r/embeddings.csv")).unwrap();
    assert_eq!(embeddings.lines().count(), 81, "80 sequences and a header");
}

#[test]
fn divergence_exits_1_and_saves_only_a_finished_epoch() {
    // The first update already overflows: no epoch finished, so nothing is saved (the model
    // tests check that a later divergence keeps the last good epoch's weights).
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let out = seqae(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&model),
        "--lr",
        "1e30",
        "--clip",
        "0",
        "--normalize",
        "none",
        "--epochs",
        "5",
        "--quiet",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    if err.contains("nothing was saved") {
        assert!(!model.exists());
    } else {
        assert!(err.contains("were saved to"), "{err}");
        let emb = dir.path().join("e.csv");
        ok(&[
            "embed",
            s(&model),
            &dataset("Chinatown20"),
            "--out",
            s(&emb),
        ]);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        usize::from(model.exists())
    );
}

/// Starts `seqae train` on GunPoint into `out`, waits until its first checkpoint is
/// published, and returns the running process.
fn train_until_checkpoint(out: &Path, extra: &[&str]) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(["train", &dataset("GunPoint"), "--out", s(out), "--quiet"])
        .args(["--checkpoint-secs", "0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !out.join("training.json").is_file() {
        assert!(child.try_wait().unwrap().is_none(), "training ended early");
        assert!(start.elapsed().as_secs() < 120, "no checkpoint appeared");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

#[test]
fn kill_9_then_resume_ends_with_the_uninterrupted_model() {
    let dir = tempfile::tempdir().unwrap();
    let epochs = ["--epochs", "30"];
    let full = dir.path().join("full");
    let gunpoint = dataset("GunPoint");
    let mut args = vec!["train", &gunpoint, "--out", s(&full), "--quiet"];
    args.extend(epochs);
    ok(&args);
    let part = dir.path().join("part");
    let mut child = train_until_checkpoint(&part, &epochs);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(part.join("training.json")).unwrap())
            .unwrap();
    let killed_at = state["epoch"].as_u64().unwrap();
    assert!(running && killed_at < 30, "killed after epoch {killed_at}");
    // What the kill left is a loadable model.
    ok(&[
        "embed",
        s(&part),
        &gunpoint,
        "--out",
        s(&dir.path().join("mid.csv")),
    ]);
    let mut again = vec!["train", &gunpoint, "--out", s(&part), "--quiet", "--resume"];
    again.extend(epochs);
    ok(&again);
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    ok(&["embed", s(&full), &gunpoint, "--out", s(&a)]);
    ok(&["embed", s(&part), &gunpoint, "--out", s(&b)]);
    assert_eq!(
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        "embeddings differ"
    );
    assert_eq!(
        std::fs::read_to_string(full.join("history.json")).unwrap(),
        std::fs::read_to_string(part.join("history.json")).unwrap()
    );
    assert!(
        !part.join("training.json").exists(),
        "the finished model keeps no checkpoint"
    );
    // A checkpoint of other settings is refused.
    let other = train_until_checkpoint(&dir.path().join("other"), &epochs);
    let mut other = other;
    other.kill().unwrap();
    other.wait().unwrap();
    let o = seqae(&[
        "train",
        &gunpoint,
        "--out",
        s(&dir.path().join("other")),
        "--resume",
        "--epochs",
        "31",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("other training settings"));
}

#[test]
fn sigint_and_sigterm_keep_the_last_epoch_and_exit_128_plus_the_signal() {
    let dir = tempfile::tempdir().unwrap();
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let out = dir.path().join(format!("m{code}"));
        let child = train_until_checkpoint(&out, &["--epochs", "500"]);
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(code), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("holds the checkpoint of the last finished epoch"),
            "{err}"
        );
        let emb = dir.path().join(format!("e{code}.csv"));
        ok(&["embed", s(&out), &dataset("GunPoint"), "--out", s(&emb)]);
    }
}

#[test]
fn a_signal_saves_the_last_finished_epoch_and_reports_what_is_on_disk() {
    // No timed checkpoint falls due during the run: what the stop reports must be written
    // by the stop itself.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let child = Command::new(env!("CARGO_BIN_EXE_seqae"))
        .args(["train", &dataset("GunPoint"), "--out", s(&out), "--quiet"])
        .args(["--epochs", "100000", "--checkpoint-secs", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!out.exists(), "a checkpoint was written before the signal");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{err}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("training.json")).unwrap()).unwrap();
    let saved = state["epoch"].as_u64().unwrap();
    assert!(saved >= 1, "{state}");
    assert!(
        err.contains(&format!("last finished epoch ({saved})")),
        "the message names another epoch than the one on disk ({saved}): {err}"
    );
    // What is on disk loads as a model.
    ok(&[
        "embed",
        s(&out),
        &dataset("GunPoint"),
        "--out",
        s(&dir.path().join("e.csv")),
    ]);
}

#[test]
fn an_output_that_is_an_input_is_refused_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let original = "a,b,c,d\n1,2,3,4\n4,5,6,7\n";
    std::fs::write(&data, original).unwrap();
    let model = shared_model();
    // The same file by name, and through a hard link.
    let link = dir.path().join("link.csv");
    std::fs::hard_link(&data, &link).unwrap();
    for out in [&data, &link] {
        let o = seqae(&["embed", s(model), s(&data), "--out", s(out), "--force"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("is the input") && !err.contains("--force"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&data).unwrap(), original);
    }
}

#[test]
fn a_folder_with_an_unreadable_data_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = format!("{}/Chinatown20_TRAIN.ts", dataset("Chinatown20"));
    for (name, make) in [("link", "ln"), ("fifo", "mkfifo")] {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        std::fs::copy(&src, d.join("a.ts")).unwrap();
        let b = d.join("b.ts");
        let status = if make == "ln" {
            std::process::Command::new("ln")
                .args(["-s", "/gone/b.ts", s(&b)])
                .status()
        } else {
            std::process::Command::new("mkfifo").arg(&b).status()
        };
        assert!(status.unwrap().success());
        let o = seqae(&["info", s(&d)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("b.ts"), "{name}: {err}");
    }
}

#[test]
fn a_sequence_too_long_for_memory_is_refused_before_embedding() {
    // Two sequences of 2,000,000 steps under a 6 GB address-space limit: the batch would need
    // far more; it is refused with exit 2 instead of aborting on a failed allocation.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("long.ts");
    let mut text = String::from("@univariate true\n@data\n");
    for _ in 0..2 {
        let row: Vec<&str> = (0..2_000_000)
            .map(|t| if t % 2 == 0 { "0.25" } else { "0.75" })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    std::fs::write(&data, text).unwrap();
    // A model of the default size (the issue's): its states for 4,000,000 steps do not fit.
    let model = dir.path().join("m");
    ok(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&model),
        "--epochs",
        "1",
        "--quiet",
    ]);
    let out = dir.path().join("e.csv");
    let command = format!(
        "ulimit -v 6000000; exec '{}' embed '{}' '{}' --out '{}'",
        env!("CARGO_BIN_EXE_seqae"),
        s(&model),
        s(&data),
        s(&out)
    );
    let o = Command::new("sh").args(["-c", &command]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not enough memory") && err.contains("2000000 steps"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}

#[test]
fn a_failed_write_exits_1_naming_the_users_path_and_leaves_nothing() {
    // A file-size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so that writes fail with EFBIG)
    // stands in for a full disk: no privileges needed.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    ok(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&model),
        "--epochs",
        "1",
        "-q",
    ]);
    let limited = |args: &[&str]| {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let command = format!(
            "ulimit -f 16; trap '' XFSZ; exec '{}' {}",
            env!("CARGO_BIN_EXE_seqae"),
            quoted.join(" ")
        );
        Command::new("sh").args(["-c", &command]).output().unwrap()
    };
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let gunpoint = dataset("GunPoint");
    let (m2, e, rep) = (out.join("m2"), out.join("e.csv"), out.join("rep"));
    for (args, target) in [
        (
            vec!["train", &gunpoint, "--out", s(&m2), "--epochs", "1", "-q"],
            &m2,
        ),
        (vec!["embed", s(&model), &gunpoint, "--out", s(&e)], &e),
        (vec!["demo", "--out", s(&rep), "--epochs", "1", "-q"], &rep),
    ] {
        let o = limited(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            last.starts_with(&format!("seqae: error: {}", target.display()))
                && last.contains("cannot write")
                && !last.contains(".tmp-"),
            "{args:?}: {err}"
        );
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

/// `seqae train GunPoint --epochs 100000 --resume` into `out` (a run never meant to end).
fn resume_long_run(out: &Path) -> std::process::Output {
    seqae(&[
        "train",
        &dataset("GunPoint"),
        "--out",
        s(out),
        "--quiet",
        "--checkpoint-secs",
        "0",
        "--epochs",
        "100000",
        "--resume",
    ])
}

#[test]
fn a_second_run_into_the_same_model_is_refused_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut first = train_until_checkpoint(&out, &["--epochs", "100000"]);
    let o = resume_long_run(&out);
    let err = String::from_utf8_lossy(&o.stderr);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "another seqae process (pid {}) is training into it",
            first.id()
        )),
        "{err}"
    );
    // The claim went with the killed process: the next run into the folder proceeds.
    ok(&[
        "train",
        &dataset("GunPoint"),
        "--out",
        s(&out),
        "--quiet",
        "--epochs",
        "1",
        "--force",
    ]);
    assert!(!dir.path().join(".m.lock").exists());
}

#[test]
fn a_checkpoint_edited_past_its_last_epoch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut child = train_until_checkpoint(&out, &["--epochs", "100000"]);
    child.kill().unwrap();
    child.wait().unwrap();
    let path = out.join("training.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    state["epoch"] = serde_json::json!(200000);
    std::fs::write(&path, state.to_string()).unwrap();
    let o = resume_long_run(&out);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("training.json says epoch 200000 past the run's last epoch (100000)"),
        "{err}"
    );
    // Nothing was replaced.
    assert!(path.is_file());
}

#[test]
fn resume_without_a_checkpoint_says_training_starts_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = seqae(&[
        "train",
        &dataset("Chinatown20"),
        "--out",
        s(&out),
        "--epochs",
        "1",
        "--quiet",
        "--resume",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("does not exist: there is nothing to resume, so training starts afresh"),
        "{err}"
    );
    assert!(out.join("config.json").is_file());
}
