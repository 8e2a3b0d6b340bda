//! The bulletin's judgement (排名、通报批评、通报表扬), pure: a unit's score is the mean of its
//! rates (percent) that have a denominator in the period; units with fewer than the minimum
//! sample are marked 样本不足 and neither ranked nor named; the others are ranked by score
//! (best first), those below [`Thresholds::criticise_below`] are named (通报批评) and those at
//! or above [`Thresholds::commend_at`] commended (通报表扬).

use serde::{Deserialize, Serialize};

/// The configured thresholds (`ANJU_BULLETIN_*`), stored with each bulletin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Fewer dispatches + orders decided than this: 样本不足, not ranked.
    pub min_sample: u64,
    /// A score (percent) below this is named (通报批评).
    pub criticise_below: f64,
    /// A score (percent) at or above this is commended (通报表扬).
    pub commend_at: f64,
}

impl Thresholds {
    /// The thresholds of the configuration.
    pub fn of(c: &crate::config::Config) -> Thresholds {
        Thresholds {
            min_sample: u64::from(c.bulletin_min_sample),
            criticise_below: f64::from(c.bulletin_criticise_below),
            commend_at: f64::from(c.bulletin_commend_at),
        }
    }
}

/// What the bulletin says of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 通报批评.
    Criticised,
    /// 通报表扬.
    Commended,
}

/// A unit's standing in one ranking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// Dispatches plus rectification orders decided in the period.
    pub sample: u64,
    /// Fewer than the minimum sample: shown, not ranked (样本不足).
    pub small_sample: bool,
    /// Mean of the rates with a denominator (percent, one decimal); null when none has one.
    pub score: Option<f64>,
    /// 1 = best; null when not ranked.
    pub rank: Option<usize>,
    /// Named or commended.
    pub verdict: Option<Verdict>,
    /// The rates below the criticism threshold, by key (`response_rate`, …).
    pub below: Vec<String>,
}

/// A share in percent with one decimal (the rate of `stats::rates::rate`, scaled): `None` when
/// the denominator is 0.
pub fn percent(num: u64, den: u64) -> Option<f64> {
    crate::stats::rates::rate(num, den).map(|r| (r * 1000.0).round() / 10.0)
}

/// The standing of a unit with `sample` and its rates `(key, percent)`, before ranking.
pub fn standing(sample: u64, rates: &[(&str, Option<f64>)], t: &Thresholds) -> Standing {
    let known: Vec<f64> = rates.iter().filter_map(|(_, r)| *r).collect();
    let score = (!known.is_empty())
        .then(|| (known.iter().sum::<f64>() / known.len() as f64 * 10.0).round() / 10.0);
    Standing {
        sample,
        small_sample: sample < t.min_sample,
        score,
        rank: None,
        verdict: None,
        below: rates
            .iter()
            .filter(|(_, r)| r.is_some_and(|r| r < t.criticise_below))
            .map(|(k, _)| (*k).to_owned())
            .collect(),
    }
}

/// Ranks the standings (score descending; equal scores share a rank) and gives the verdicts.
pub fn rank(mut standings: Vec<&mut Standing>, t: &Thresholds) {
    standings.retain(|s| !s.small_sample && s.score.is_some());
    standings.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut last: Option<(f64, usize)> = None;
    for (i, s) in standings.into_iter().enumerate() {
        let score = s.score.unwrap_or(0.0);
        let r = match last {
            Some((prev, r)) if prev == score => r,
            _ => i + 1,
        };
        last = Some((score, r));
        s.rank = Some(r);
        s.verdict = if score < t.criticise_below {
            Some(Verdict::Criticised)
        } else if score >= t.commend_at {
            Some(Verdict::Commended)
        } else {
            None
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        min_sample: 5,
        criticise_below: 60.0,
        commend_at: 95.0,
    };

    #[test]
    fn small_samples_are_not_ranked_and_thresholds_name_and_commend() {
        let mut good = standing(
            6,
            &[("response_rate", Some(100.0)), ("resolution_rate", None)],
            &T,
        );
        let mut slow = standing(
            5,
            &[
                ("response_rate", Some(20.0)),
                ("satisfaction_rate", Some(80.0)),
            ],
            &T,
        );
        let mut mid = standing(9, &[("response_rate", Some(80.0))], &T);
        let mut tiny = standing(4, &[("response_rate", Some(0.0))], &T);
        let mut none = standing(7, &[("response_rate", None)], &T);
        rank(
            vec![&mut good, &mut slow, &mut mid, &mut tiny, &mut none],
            &T,
        );
        assert_eq!(
            (good.rank, good.verdict),
            (Some(1), Some(Verdict::Commended))
        );
        assert_eq!((mid.rank, mid.verdict), (Some(2), None));
        assert_eq!(slow.score, Some(50.0));
        assert_eq!(
            (slow.rank, slow.verdict),
            (Some(3), Some(Verdict::Criticised))
        );
        assert_eq!(slow.below, vec!["response_rate".to_owned()]);
        assert!(tiny.small_sample);
        assert_eq!((tiny.rank, tiny.verdict), (None, None));
        assert_eq!((none.score, none.rank), (None, None));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(1, 0), None);
    }
}
