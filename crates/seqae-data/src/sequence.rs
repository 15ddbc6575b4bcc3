//! [`SequenceSet`]: ragged multivariate sequences stored in one flat buffer.
use crate::error::{DataError, Result};
use serde::Serialize;

/// A collection of `n` sequences, sequence `i` being `length(i) x channels` values.
///
/// Values are stored step-major in one buffer (`channels` values per step, sequences one after
/// another) with `n + 1` offsets counted in steps. A missing value is `NaN`. Labels and ids are
/// optional but, when present, there is one per sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceSet {
    channels: usize,
    values: Vec<f32>,
    offsets: Vec<usize>,
    labels: Option<Vec<String>>,
    class_names: Vec<String>,
    ids: Option<Vec<String>>,
}

/// Figures that describe a [`SequenceSet`] (what `seqae info` prints).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Number of sequences.
    pub n: usize,
    /// Values per time step.
    pub channels: usize,
    /// Shortest sequence length.
    pub min_len: usize,
    /// Median sequence length (the lower middle for an even count).
    pub median_len: usize,
    /// Longest sequence length.
    pub max_len: usize,
    /// Number of distinct labels (0 when unlabelled).
    pub labels: usize,
    /// Number of missing (`NaN`) values.
    pub missing: usize,
}

impl SequenceSet {
    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when the set holds no sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values per time step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Length (time steps) of sequence `i`.
    pub fn length(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Lengths of all sequences.
    pub fn lengths(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Longest sequence length (0 for an empty set).
    pub fn max_len(&self) -> usize {
        self.offsets
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// Values of sequence `i`, step-major (`length(i) * channels` values).
    pub fn sequence(&self, i: usize) -> &[f32] {
        let c = self.channels;
        &self.values[self.offsets[i] * c..self.offsets[i + 1] * c]
    }

    /// Mutable values of sequence `i`, step-major.
    pub fn sequence_mut(&mut self, i: usize) -> &mut [f32] {
        let c = self.channels;
        &mut self.values[self.offsets[i] * c..self.offsets[i + 1] * c]
    }

    /// All values, sequences one after another.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Labels, one per sequence, when the data has them.
    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// The distinct labels in their declared order (a `.ts` file's `@classLabel`), else in
    /// order of first appearance. Empty when unlabelled.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Each sequence's label as an index into [`Self::class_names`], when labelled.
    pub fn label_indices(&self) -> Option<Vec<usize>> {
        let labels = self.labels.as_ref()?;
        Some(
            labels
                .iter()
                .map(|l| {
                    self.class_names
                        .iter()
                        .position(|c| c == l)
                        .expect("class_names holds every label")
                })
                .collect(),
        )
    }

    /// Sequence ids, when the data has them.
    pub fn ids(&self) -> Option<&[String]> {
        self.ids.as_deref()
    }

    /// The id of sequence `i`: its own id when present, else its index.
    pub fn id(&self, i: usize) -> String {
        match &self.ids {
            Some(ids) => ids[i].clone(),
            None => i.to_string(),
        }
    }

    /// Number of missing (`NaN`) values.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    /// Counts, lengths, labels and missing values in one struct.
    pub fn summary(&self) -> Summary {
        let mut lengths = self.lengths();
        lengths.sort_unstable();
        Summary {
            n: self.len(),
            channels: self.channels,
            min_len: lengths.first().copied().unwrap_or(0),
            median_len: lengths
                .get(lengths.len().saturating_sub(1) / 2)
                .copied()
                .unwrap_or(0),
            max_len: lengths.last().copied().unwrap_or(0),
            labels: self.class_names.len(),
            missing: self.missing(),
        }
    }

    /// A new set holding the sequences at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> SequenceSet {
        let mut b = SequenceSetBuilder::new(self.channels);
        b.class_names = self.class_names.clone();
        for &i in indices {
            b.push_unchecked(
                self.sequence(i),
                self.labels.as_ref().map(|l| l[i].clone()),
                self.ids.as_ref().map(|d| d[i].clone()),
            );
        }
        b.finish_unchecked(self.labels.is_some(), self.ids.is_some())
    }

    /// Appends `other` after `self`. Channel counts must agree; the result keeps labels (and
    /// ids) only when both sides have them.
    pub fn concat(mut self, other: SequenceSet) -> Result<SequenceSet> {
        if self.channels != other.channels {
            return Err(DataError::Invalid(format!(
                "cannot merge data with {} channels and data with {} channels",
                self.channels, other.channels
            )));
        }
        let base = *self.offsets.last().expect("offsets start with 0");
        self.values.extend_from_slice(&other.values);
        self.offsets
            .extend(other.offsets[1..].iter().map(|o| o + base));
        self.labels = match (self.labels, other.labels) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            _ => None,
        };
        if self.labels.is_some() {
            for c in other.class_names {
                if !self.class_names.contains(&c) {
                    self.class_names.push(c);
                }
            }
        } else {
            self.class_names.clear();
        }
        self.ids = match (self.ids, other.ids) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Some(a)
            }
            _ => None,
        };
        Ok(self)
    }
}

/// Builds a [`SequenceSet`] one sequence at a time, checking each.
#[derive(Clone, Debug)]
pub struct SequenceSetBuilder {
    channels: usize,
    values: Vec<f32>,
    offsets: Vec<usize>,
    labels: Vec<Option<String>>,
    ids: Vec<Option<String>>,
    class_names: Vec<String>,
}

impl SequenceSetBuilder {
    /// An empty builder for sequences of `channels` values per step.
    pub fn new(channels: usize) -> Self {
        SequenceSetBuilder {
            channels,
            values: Vec::new(),
            offsets: vec![0],
            labels: Vec::new(),
            ids: Vec::new(),
            class_names: Vec::new(),
        }
    }

    /// Declares the class names in order (labels seen later that are not declared are
    /// appended in order of appearance).
    pub fn with_class_names(mut self, names: Vec<String>) -> Self {
        self.class_names = names;
        self
    }

    /// Values per time step.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Reserves room for `sequences` more sequences of `values` more values in all (for a
    /// reader that knows the sizes from a header it has checked against the file).
    pub fn reserve(&mut self, sequences: usize, values: usize) {
        self.values.reserve_exact(values);
        self.offsets.reserve_exact(sequences);
        self.labels.reserve_exact(sequences);
        self.ids.reserve_exact(sequences);
    }

    /// Number of sequences pushed so far.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when nothing has been pushed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds one sequence of step-major `values` (a multiple of `channels`, at least one step).
    /// Infinite values are refused; `NaN` marks a missing value.
    pub fn push(
        &mut self,
        values: &[f32],
        label: Option<String>,
        id: Option<String>,
    ) -> Result<()> {
        if self.channels == 0 {
            return Err(DataError::Invalid(
                "sequences need at least one channel".into(),
            ));
        }
        if values.is_empty() {
            return Err(DataError::Invalid(format!(
                "sequence {} has no time steps",
                self.len()
            )));
        }
        if !values.len().is_multiple_of(self.channels) {
            return Err(DataError::Invalid(format!(
                "sequence {} has {} values, not a multiple of {} channels",
                self.len(),
                values.len(),
                self.channels
            )));
        }
        if let Some(v) = values.iter().find(|v| v.is_infinite()) {
            return Err(DataError::Invalid(format!(
                "sequence {} holds an infinite value ({v})",
                self.len()
            )));
        }
        self.push_unchecked(values, label, id);
        Ok(())
    }

    fn push_unchecked(&mut self, values: &[f32], label: Option<String>, id: Option<String>) {
        self.values.extend_from_slice(values);
        let last = *self.offsets.last().expect("offsets start with 0");
        self.offsets.push(last + values.len() / self.channels);
        if let Some(l) = &label
            && !self.class_names.contains(l)
        {
            self.class_names.push(l.clone());
        }
        self.labels.push(label);
        self.ids.push(id);
    }

    /// The finished set. Labels (and ids) are kept when every sequence has one; a mix of
    /// labelled and unlabelled sequences is an error.
    pub fn finish(self) -> Result<SequenceSet> {
        let labelled = self.labels.iter().filter(|l| l.is_some()).count();
        if labelled != 0 && labelled != self.labels.len() {
            return Err(DataError::Invalid(format!(
                "{labelled} of {} sequences have a label: label all or none",
                self.labels.len()
            )));
        }
        let with_id = self.ids.iter().filter(|l| l.is_some()).count();
        if with_id != 0 && with_id != self.ids.len() {
            return Err(DataError::Invalid(format!(
                "{with_id} of {} sequences have an id: give all or none",
                self.ids.len()
            )));
        }
        let has_labels = labelled > 0;
        let has_ids = with_id > 0;
        Ok(self.finish_unchecked(has_labels, has_ids))
    }

    fn finish_unchecked(self, has_labels: bool, has_ids: bool) -> SequenceSet {
        let labels = has_labels.then(|| self.labels.into_iter().flatten().collect());
        let ids = has_ids.then(|| self.ids.into_iter().flatten().collect());
        SequenceSet {
            channels: self.channels,
            values: self.values,
            offsets: self.offsets,
            class_names: if has_labels {
                self.class_names
            } else {
                Vec::new()
            },
            labels,
            ids,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> SequenceSet {
        let mut b = SequenceSetBuilder::new(2);
        b.push(&[1.0, 2.0, 3.0, 4.0], Some("a".into()), None)
            .unwrap();
        b.push(&[5.0, f32::NAN], Some("b".into()), None).unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn stores_ragged_sequences() {
        let s = two();
        assert_eq!(s.len(), 2);
        assert_eq!(s.lengths(), vec![2, 1]);
        assert_eq!(s.sequence(0), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.sequence(1)[0], 5.0);
        assert_eq!(s.label_indices(), Some(vec![0, 1]));
        let sum = s.summary();
        assert_eq!(
            (sum.n, sum.min_len, sum.max_len, sum.labels, sum.missing),
            (2, 1, 2, 2, 1)
        );
    }

    #[test]
    fn refuses_bad_sequences() {
        let mut b = SequenceSetBuilder::new(2);
        assert!(b.push(&[], None, None).is_err());
        assert!(b.push(&[1.0, 2.0, 3.0], None, None).is_err());
        assert!(b.push(&[1.0, f32::INFINITY], None, None).is_err());
        b.push(&[1.0, 2.0], Some("x".into()), None).unwrap();
        b.push(&[1.0, 2.0], None, None).unwrap();
        assert!(b.finish().is_err());
    }

    #[test]
    fn subset_and_concat() {
        let s = two();
        let t = s.subset(&[1, 0]);
        assert_eq!(t.lengths(), vec![1, 2]);
        assert_eq!(t.labels().unwrap(), &["b".to_string(), "a".to_string()]);
        let u = s.clone().concat(t).unwrap();
        assert_eq!(u.len(), 4);
        assert_eq!(u.sequence(3), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(u.class_names().len(), 2);
        let mut b = SequenceSetBuilder::new(1);
        b.push(&[1.0], None, None).unwrap();
        assert!(s.concat(b.finish().unwrap()).is_err());
    }
}
