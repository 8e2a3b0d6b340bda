//! Timing, percentiles, peak memory and the Markdown tables the benches print.

use std::collections::BTreeMap;
use std::time::Duration;

/// Milliseconds in `d`, fractional.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p`-quantile (0 ≤ p ≤ 1) of ascending `sorted`, by the nearest rank
/// (`round((n − 1) · p)`); 0 when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// [`percentile`] of ascending latencies in microseconds, in milliseconds.
pub fn percentile_us_as_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let i = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted_us[i.min(sorted_us.len() - 1)]) / 1000.0
}

/// Sorts `v` and returns its [`percentile`].
pub fn percentile_of(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, p)
}

/// The middle value of `v` (the upper one of an even count); NaN when empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `x` rounded to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A `/proc/<pid>/status` line such as `VmHWM:` of process `pid` (`"self"` for this one), in MB;
/// `None` when the file or the line is missing (not Linux, the process gone).
pub fn proc_status_mb(pid: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()
        .map(|kb| kb / 1024.0)
}

/// This process's peak resident set (VmHWM) in MB to one decimal; 0 when unknown.
pub fn vmhwm_mb() -> f64 {
    proc_status_mb("self", "VmHWM:").map_or(0.0, |mb| (mb * 10.0).round() / 10.0)
}

/// This process's resident set now (VmRSS) in MB to one decimal; 0 when unknown.
pub fn vmrss_mb() -> f64 {
    proc_status_mb("self", "VmRSS:").map_or(0.0, |mb| (mb * 10.0).round() / 10.0)
}

/// Resets this process's peak resident set (VmHWM) to the current one (Linux `clear_refs` 5), so
/// a later [`vmhwm_mb`] is the peak of what ran in between.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Prints one two-column Markdown table per `(title, rows)`: `| title | value |` then a row per
/// `(figure, value)`, a blank line after each.
pub fn print_value_tables<T: std::fmt::Display>(tables: Vec<(T, Vec<(String, String)>)>) {
    for (title, rows) in tables {
        println!("| {title} | value |\n| --- | --- |");
        for (k, v) in rows {
            println!("| {k} | {v} |");
        }
        println!();
    }
}

/// Prints a Markdown table with a row per `(label, key)` of `lines` and a column per
/// `(name, figures)` of `columns`: the figure under `key`, whole numbers without decimals, others
/// with two, `–` when a column lacks it.
pub fn print_figure_table(lines: &[(&str, &str)], columns: &[(&str, BTreeMap<String, f64>)]) {
    print!("| figure |");
    for (name, _) in columns {
        print!(" {name} |");
    }
    println!();
    print!("| --- |");
    for _ in columns {
        print!(" ---: |");
    }
    println!();
    for (label, key) in lines {
        print!("| {label} |");
        for (_, f) in columns {
            match f.get(*key) {
                Some(v) if v.fract() == 0.0 => print!(" {v:.0} |"),
                Some(v) => print!(" {v:.2} |"),
                None => print!(" – |"),
            }
        }
        println!();
    }
}

/// The figures of each backend, each measured in a child process of its own so its peak memory
/// is its own: runs this executable again with `--child NAME [URL]` for each `(name, url)` and
/// reads the child's last stdout line as a JSON map of figures. A failed child is reported on
/// stderr and left out.
pub fn figures_from_children(
    backends: Vec<(&'static str, Option<String>)>,
) -> anyhow::Result<Vec<(&'static str, BTreeMap<String, f64>)>> {
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for (name, url) in backends {
        eprintln!("running {name} …");
        let mut cmd = std::process::Command::new(&exe);
        cmd.arg("--child").arg(name);
        if let Some(u) = &url {
            cmd.arg(u);
        }
        let out = cmd.output()?;
        if !out.status.success() {
            eprintln!("{name} failed: {}", String::from_utf8_lossy(&out.stderr));
            continue;
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let figures: BTreeMap<String, f64> = serde_json::from_str(line.trim())?;
        rows.push((name, figures));
    }
    Ok(rows)
}

/// Run in a child started by [`figures_from_children`]: when the arguments hold
/// `--child NAME [URL]`, runs `run(NAME, URL)` on a two-worker runtime, prints its figures as one
/// JSON line and returns `Some`; otherwise `None` (this is the parent).
pub fn run_as_child<F, Fut>(run: F) -> Option<anyhow::Result<()>>
where
    F: FnOnce(String, Option<String>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<BTreeMap<String, f64>>>,
{
    let args: Vec<String> = std::env::args().collect();
    let pos = args.iter().position(|a| a == "--child")?;
    let backend = args.get(pos + 1).cloned().unwrap_or_default();
    let url = args.get(pos + 2).cloned();
    Some((|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let figures = rt.block_on(run(backend, url))?;
        println!("{}", serde_json::to_string(&figures)?);
        Ok(())
    })())
}
