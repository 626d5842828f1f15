//! Hypercare charts: one metric's daily values against its target as an SVG made at build
//! time (no JavaScript; it prints). The line breaks where a day has no data; met days are
//! dots, missed days a larger cross in a ring (shape, not only colour); the target is a
//! dashed line. Colours come from the theme's CSS classes (`hc-*`), so the chart follows
//! light, dark and print. The SVG has a title and a description; the figures themselves
//! are a table beside it (see the hypercare page template).

use std::fmt::Write;

use crate::load::hypercare::{format_number, Metric};
use crate::plan::hypercare::State;
use crate::util::escape_html as esc;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// The chart of `metric` over `values` (one per day, day 1 first). `id` makes the title's
/// and description's element ids unique on the page.
pub fn metric_svg(id: &str, metric: &Metric, values: &[(Option<f64>, State)]) -> String {
    let n = values.len().max(1);
    let target = metric.target.value;
    let known: Vec<f64> = values.iter().filter_map(|(v, _)| *v).collect();
    let (mut lo, mut hi) = known
        .iter()
        .fold((target, target), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    if (hi - lo).abs() < 1e-9 {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = (hi - lo) * 0.12;
    let (lo, hi) = (lo - pad, hi + pad);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |day: usize| LEFT + (day as f64 + 0.5) / n as f64 * plot_w;
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;
    let unit = metric.unit.as_deref().unwrap_or("");
    let met = values.iter().filter(|(_, s)| *s == State::Met).count();
    let missed: Vec<usize> = values
        .iter()
        .enumerate()
        .filter(|(_, (_, s))| *s == State::Missed)
        .map(|(i, _)| i + 1)
        .collect();
    let with = met + missed.len();
    let mut desc = format!(
        "{with} of {n} days have figures: {met} met the target, {} missed it",
        missed.len()
    );
    if !missed.is_empty() {
        let days: Vec<String> = missed.iter().map(|d| d.to_string()).collect();
        let _ = write!(
            desc,
            " (day{} {})",
            if missed.len() == 1 { "" } else { "s" },
            days.join(", ")
        );
    }
    if let Some((day, v)) = values
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, (v, _))| v.map(|v| (i + 1, v)))
    {
        let _ = write!(desc, ". Latest: {}{unit} on day {day}", format_number(v));
    }
    desc.push('.');
    let mut s = String::with_capacity(4096 + values.len() * 120);
    let _ = write!(
        s,
        "<svg class=\"hc-chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
<title id=\"{id}-title\">{} — daily values against the target {}{}</title><desc id=\"{id}-desc\">{}</desc>",
        esc(&metric.label),
        esc(&metric.target.label()),
        esc(unit),
        esc(&desc)
    );
    // Horizontal grid: four steps.
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            "<line class=\"hc-grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\"/><text class=\"hc-axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            esc(&axis_number(v, hi - lo))
        );
    }
    // Day labels: about ten.
    let step = n.div_ceil(10).max(1);
    for d in (0..n).filter(|d| d % step == 0 || *d == n - 1) {
        let _ = write!(
            s,
            "<text class=\"hc-axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(d),
            H - BOTTOM + 16.0,
            d + 1
        );
    }
    let _ = write!(
        s,
        "<text class=\"hc-axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">day</text>",
        LEFT + plot_w / 2.0,
        H - 4.0
    );
    // Target.
    let ty = y(target);
    let _ = write!(
        s,
        "<line class=\"hc-target\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/><text class=\"hc-target-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">target {}{}</text>",
        W - RIGHT,
        W - RIGHT - 2.0,
        ty - 5.0,
        esc(&metric.target.label()),
        esc(unit)
    );
    // The line, broken at days with no data.
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, s: &mut String| {
        if run.len() > 1 {
            s.push_str("<polyline class=\"hc-line\" points=\"");
            for (px, py) in run.iter() {
                let _ = write!(s, "{px:.1},{py:.1} ");
            }
            s.push_str("\"/>");
        }
        run.clear();
    };
    for (i, (v, _)) in values.iter().enumerate() {
        match v {
            Some(v) => run.push((x(i), y(*v))),
            None => flush(&mut run, &mut s),
        }
    }
    flush(&mut run, &mut s);
    for (i, (v, state)) in values.iter().enumerate() {
        let Some(v) = v else { continue };
        let (px, py) = (x(i), y(*v));
        if *state == State::Missed {
            let _ = write!(
                s,
                "<g class=\"hc-missed\"><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"6.5\"/><path d=\"M{:.1} {:.1}l7 7m0 -7l-7 7\"/></g>",
                px - 3.5,
                py - 3.5
            );
        } else {
            let _ = write!(
                s,
                "<circle class=\"hc-met\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\"/>"
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// An axis label with as many decimals as the range needs.
fn axis_number(v: f64, range: f64) -> String {
    if range >= 20.0 {
        format!("{v:.0}")
    } else if range >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::hypercare::Target;

    #[test]
    fn a_missed_day_is_a_cross_and_gaps_break_the_line() {
        let m = Metric {
            id: "uptime".into(),
            label: "Uptime".into(),
            unit: Some("%".into()),
            target: Target::parse(">= 99").unwrap(),
            group: "System health".into(),
        };
        let values = [
            (Some(98.0), State::Missed),
            (Some(99.5), State::Met),
            (None, State::NoData),
            (Some(99.9), State::Met),
            (Some(99.8), State::Met),
        ];
        let svg = metric_svg("c-uptime", &m, &values);
        assert_eq!(svg.matches("class=\"hc-missed\"").count(), 1);
        assert_eq!(svg.matches("class=\"hc-met\"").count(), 3);
        // Days 1–2 and 4–5: two pieces of line.
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(
            "<title id=\"c-uptime-title\">Uptime — daily values against the target ≥ 99%</title>"
        ));
        assert!(svg.contains("4 of 5 days have figures: 3 met the target, 1 missed it (day 1). Latest: 99.8% on day 5."));
    }
}
