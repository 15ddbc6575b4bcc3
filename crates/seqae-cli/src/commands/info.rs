//! `seqae info`: what a dataset holds.
use crate::args::{DataArgs, InfoArgs};
use crate::error::CliResult;

/// Prints counts, channels, lengths, labels and missing values of the data.
pub fn run(args: &InfoArgs) -> CliResult<()> {
    let set = args.data.read()?;
    let s = set.summary();
    if args.json {
        let mut v = serde_json::to_value(&s).expect("summary serialises");
        v["path"] = args.data.path.display().to_string().into();
        v["class_names"] = set.class_names().to_vec().into();
        say!("{v}");
    } else {
        say!("data        {}", args.data.path.display());
        say!("sequences   {}", s.n);
        say!("channels    {}", s.channels);
        say!(
            "length      min {} / median {} / max {}",
            s.min_len,
            s.median_len,
            s.max_len
        );
        if s.labels > 0 {
            let names = set.class_names();
            let counts: Vec<String> = match set.label_indices() {
                Some(idx) => names
                    .iter()
                    .enumerate()
                    .map(|(k, n)| format!("{n} ({})", idx.iter().filter(|&&i| i == k).count()))
                    .collect(),
                None => Vec::new(),
            };
            say!("labels      {}: {}", s.labels, counts.join(", "));
        } else {
            say!("labels      none");
        }
        say!("missing     {}", s.missing);
    }
    Ok(())
}

impl DataArgs {
    /// Reads the data named on the command line with the reader flags.
    pub fn read(&self) -> CliResult<seqae_data::SequenceSet> {
        Ok(seqae_data::read_path(&self.path, &self.options()?)?)
    }
}
