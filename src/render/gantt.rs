//! The cutover timeline as an SVG Gantt chart, drawn at build time: no JavaScript, and it
//! prints. Tasks are grouped by phase; critical tasks, milestones, go/no-go gates and the
//! point of no return each have their own look; the axis shows the plan's zone and offset.
//! With go-live night's state (`plan::live`), each task's row also has a second, thinner bar:
//! what actually happened (done, in progress up to now, blocked) and the forecast of the
//! rest, against the planned bar above it, with a line at now.

use std::fmt::Write;

use chrono::{DateTime, Duration, Timelike};
use chrono_tz::Tz;

use crate::model::cutover::TaskKind;
use crate::plan::cutover::Schedule;
use crate::plan::live::{LiveState, TaskState};
use crate::project::Project;
use crate::util::escape_html as esc;

const WIDTH: f64 = 1200.0;
const LABEL: f64 = 300.0;
const ROW: f64 = 22.0;
const HEADER: f64 = 46.0;
const RIGHT: f64 = 16.0;
/// Room left of the first bar for a milestone's diamond.
const PAD: f64 = 10.0;

/// Tick spacing so the axis gets roughly 8–16 labels.
fn tick_step(span: Duration) -> Duration {
    let hours = span.num_minutes() as f64 / 60.0;
    let candidates = [1, 2, 3, 4, 6, 12, 24, 48, 168];
    let h = candidates
        .iter()
        .copied()
        .find(|h| hours / f64::from(*h) <= 16.0)
        .unwrap_or(168);
    Duration::hours(i64::from(h))
}

/// The SVG for the cutover plan, with the night's actual and forecast bars when `live` is
/// given; `None` when it has no tasks.
pub fn svg(p: &Project, s: &Schedule, live: Option<&LiveState>) -> Option<String> {
    let (start, end) = s.window?;
    let zone: Tz = p.zone;
    let mut start = start.with_timezone(&zone);
    let mut end = end.with_timezone(&zone);
    if let Some(l) = live {
        for t in &l.tasks {
            let first = t.actual_start.unwrap_or(t.forecast_start);
            start = start.min(first.with_timezone(&zone));
            end = end.max(t.forecast_finish.with_timezone(&zone));
        }
    }
    let span = (end - start).max(Duration::minutes(30));
    let plot = WIDTH - LABEL - RIGHT - PAD;
    let x = |t: DateTime<Tz>| {
        LABEL + PAD + ((t - start).num_seconds() as f64 / span.num_seconds() as f64) * plot
    };

    // Rows: a header row per phase (phases in order of their first start), then its tasks by start.
    let mut phases: Vec<(Option<&str>, DateTime<Tz>)> = Vec::new();
    for (t, st) in p.cutover.tasks.iter().zip(&s.tasks) {
        match phases.iter_mut().find(|(ph, _)| *ph == t.phase.as_deref()) {
            Some((_, first)) => *first = (*first).min(st.start),
            None => phases.push((t.phase.as_deref(), st.start)),
        }
    }
    phases.sort_by_key(|(_, first)| *first);
    let phases: Vec<Option<&str>> = phases.into_iter().map(|(ph, _)| ph).collect();
    let mut rows: Vec<Row> = Vec::new();
    for phase in &phases {
        if phases.len() > 1 || phase.is_some() {
            rows.push(Row::Phase(phase.unwrap_or("Other")));
        }
        let mut tasks: Vec<usize> = (0..p.cutover.tasks.len())
            .filter(|&i| p.cutover.tasks[i].phase.as_deref() == *phase)
            .collect();
        tasks.sort_by_key(|&i| (s.tasks[i].start, i));
        rows.extend(tasks.into_iter().map(Row::Task));
    }
    let height = HEADER + rows.len() as f64 * ROW + if live.is_some() { 44.0 } else { 30.0 };
    let mut out = String::with_capacity(rows.len() * 400);
    let _ = write!(
        out,
        r#"<svg class="gantt{}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="gantt-title gantt-desc" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">
<title id="gantt-title">Cutover timeline</title>
<desc id="gantt-desc">{} tasks from {} to {} ({}); critical path highlighted{}.</desc>
<style>.gantt .bar{{fill:#5b8def}}.gantt .bar.critical{{fill:#d64545}}.gantt .phase{{font-weight:600;fill:currentColor}}.gantt .label{{fill:currentColor}}.gantt .grid{{stroke:#8a94a6;stroke-opacity:.35}}.gantt .day{{stroke:#8a94a6;stroke-opacity:.8}}.gantt .t0{{stroke:#1f9d55;stroke-width:2}}.gantt .pnr{{fill:#b42318}}.gantt .gate{{fill:#b7791f}}.gantt .milestone{{fill:#4a5568}}.gantt .axis{{fill:currentColor;font-size:11px}}.gantt .band{{fill:#8a94a6;fill-opacity:.08}}.gantt .pnr-line{{stroke:#b42318;stroke-dasharray:4 3}}.gantt .actual{{fill:#1f7a4d}}.gantt .actual.blocked{{fill:#b42318}}.gantt .forecast{{fill:none;stroke:#1f7a4d;stroke-dasharray:3 2}}.gantt .now{{stroke:#0a58ab;stroke-width:2}}.gantt.is-live .bar{{fill-opacity:.55}}</style>
"#,
        if live.is_some() { " is-live" } else { "" },
        p.cutover.tasks.len(),
        start.format("%a %-d %b %H:%M"),
        end.format("%a %-d %b %H:%M %Z"),
        crate::time::format_duration(end - start),
        if live.is_some() {
            "; under each planned bar, what actually happened (solid) and the forecast (dashed)"
        } else {
            ""
        },
    );

    // Axis: ticks on whole local hours of the plan's zone (stepping wall-clock time, so the
    // labels stay aligned across a DST change), a stronger line at midnight.
    let step = tick_step(span);
    let step_hours = step.num_hours().clamp(1, 24 * 7);
    let bottom = height - 24.0;
    let mut local = start
        .naive_local()
        .date()
        .and_hms_opt(0, 0, 0)
        .unwrap_or(start.naive_local());
    while local <= end.naive_local() {
        let tick = crate::time::local_to_instant(local, zone);
        // A local hour that does not exist (skipped by a spring-forward change) resolves to
        // the next one: no tick of its own, or the axis would show that hour twice.
        if tick >= start && tick <= end && tick.naive_local() == local {
            let tx = x(tick);
            let class = if tick.hour() == 0 { "day" } else { "grid" };
            let label = if tick.hour() == 0 || step_hours >= 24 {
                tick.format("%a %-d %b").to_string()
            } else {
                tick.format("%H:%M").to_string()
            };
            let _ = writeln!(
                out,
                r#"<line class="{class}" x1="{tx:.1}" y1="{HEADER}" x2="{tx:.1}" y2="{bottom:.1}"/><text class="axis" x="{tx:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
                HEADER - 8.0
            );
        }
        local += Duration::hours(step_hours);
    }
    let _ = writeln!(
        out,
        r#"<text class="axis" x="{LABEL}" y="16">Times in {} ({} at the start, {} at the end)</text>"#,
        esc(zone.name()),
        crate::render::format::utc_offset(&start),
        crate::render::format::utc_offset(&end)
    );

    for (r, row) in rows.iter().enumerate() {
        let y = HEADER + r as f64 * ROW;
        match row {
            Row::Phase(name) => {
                let _ = writeln!(
                    out,
                    r#"<rect class="band" x="0" y="{y:.1}" width="{WIDTH}" height="{ROW}"/><text class="phase" x="6" y="{:.1}">{}</text>"#,
                    y + 15.0,
                    esc(&title_case(name))
                );
            }
            Row::Task(i) => {
                let t = &p.cutover.tasks[*i];
                let st = &s.tasks[*i];
                let (x0, x1) = (x(st.start), x(st.finish));
                let mid = y + ROW / 2.0;
                let label = truncate(&t.title, 44);
                let mut tip = format!(
                    "{} — {} to {} ({}), slack {}{}",
                    t.title,
                    st.start.format("%a %H:%M"),
                    st.finish.format("%a %H:%M %Z"),
                    crate::time::format_duration(t.duration),
                    crate::time::format_duration(st.slack),
                    if st.critical { ", critical" } else { "" }
                );
                let tonight = live.and_then(|l| l.tasks.get(*i).map(|t| (l, t)));
                if let Some((_, lt)) = tonight {
                    let _ = write!(
                        tip,
                        "; tonight: {}, {} to {}",
                        lt.state.label(),
                        lt.actual_start.unwrap_or(lt.forecast_start).format("%H:%M"),
                        lt.forecast_finish.format("%H:%M %Z")
                    );
                }
                let _ = write!(
                    out,
                    r#"<g><title>{}</title><text class="label" x="14" y="{:.1}">{}</text>"#,
                    esc(&tip),
                    y + 15.0,
                    esc(&label)
                );
                match t.kind {
                    TaskKind::Task if x1 - x0 >= 1.0 => {
                        let class = if st.critical { "bar critical" } else { "bar" };
                        let _ = write!(
                            out,
                            r#"<rect class="{class}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="2"/>"#,
                            y + 5.0,
                            x1 - x0,
                            ROW - 10.0
                        );
                    }
                    kind => {
                        let class = match kind {
                            TaskKind::PointOfNoReturn => "pnr",
                            TaskKind::GoNoGo => "gate",
                            _ if st.critical => "bar critical",
                            _ => "milestone",
                        };
                        let d = 6.0;
                        let _ = write!(
                            out,
                            r#"<path class="{class}" d="M{x0:.1} {:.1} l{d} {d} l-{d} {d} l-{d} -{d} z"/>"#,
                            mid - d
                        );
                        if x1 - x0 >= 1.0 {
                            let _ = write!(
                                out,
                                r#"<rect class="{class}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="4"/>"#,
                                mid - 2.0,
                                x1 - x0
                            );
                        }
                    }
                }
                if let Some((l, lt)) = tonight {
                    // Under the planned bar: actual (solid) up to the finish or now, then the
                    // forecast (dashed outline).
                    let yb = y + ROW - 6.0;
                    let now = l.as_of.with_timezone(&zone);
                    let solid_end = match lt.state {
                        TaskState::Done => lt.actual_finish,
                        TaskState::InProgress | TaskState::Blocked => lt.actual_start.map(|_| now),
                        _ => None,
                    };
                    if let (Some(a), Some(b)) = (lt.actual_start, solid_end) {
                        let (a, b) = (x(a.with_timezone(&zone)), x(b.with_timezone(&zone)));
                        let class = if lt.state == TaskState::Blocked {
                            "actual blocked"
                        } else {
                            "actual"
                        };
                        let _ = write!(
                            out,
                            r#"<rect class="{class}" x="{a:.1}" y="{yb:.1}" width="{:.1}" height="4"/>"#,
                            (b - a).max(2.0)
                        );
                    }
                    if lt.state != TaskState::Done {
                        let from = solid_end.unwrap_or(lt.forecast_start).with_timezone(&zone);
                        let (a, b) = (x(from), x(lt.forecast_finish.with_timezone(&zone)));
                        if b - a >= 1.0 {
                            let _ = write!(
                                out,
                                r#"<rect class="forecast" x="{a:.1}" y="{yb:.1}" width="{:.1}" height="4"/>"#,
                                b - a
                            );
                        }
                    }
                }
                out.push_str("</g>\n");
            }
        }
    }
    // A labelled vertical line across the chart at `at`, when it falls inside the window.
    let mut marker = |at: DateTime<Tz>, class: &str, label: &str, label_y: f64| {
        if at >= start && at <= end {
            let tx = x(at);
            let _ = writeln!(
                out,
                r#"<line class="{class}" x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{bottom:.1}"/><text class="axis" x="{:.1}" y="{label_y:.1}">{label}</text>"#,
                HEADER - 4.0,
                tx + 4.0,
            );
        }
    };
    if let Some(l) = live {
        marker(l.as_of.with_timezone(&zone), "now", "Now", bottom - 4.0);
    }
    marker(p.go_live.with_timezone(&zone), "t0", "T-0", bottom + 14.0);
    if let Some(i) = s.point_of_no_return {
        let tx = x(s.tasks[i].start);
        // Label on the side with room.
        let (lx, anchor) = if tx > WIDTH - 140.0 {
            (tx - 4.0, "end")
        } else {
            (tx + 4.0, "start")
        };
        let _ = writeln!(
            out,
            r#"<line class="pnr-line" x1="{tx:.1}" y1="{HEADER}" x2="{tx:.1}" y2="{bottom:.1}"/><text class="axis" x="{lx:.1}" y="{:.1}" text-anchor="{anchor}">Point of no return</text>"#,
            bottom + 14.0
        );
    }
    out.push_str("</svg>\n");
    Some(out)
}

enum Row<'a> {
    Phase(&'a str),
    Task(usize),
}

fn title_case(s: &str) -> String {
    let s = s.replace(['-', '_'], " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_scale_with_the_window() {
        assert_eq!(tick_step(Duration::hours(6)), Duration::hours(1));
        assert_eq!(tick_step(Duration::hours(30)), Duration::hours(2));
        assert_eq!(tick_step(Duration::hours(93)), Duration::hours(6));
        assert_eq!(tick_step(Duration::days(30)), Duration::hours(48));
    }

    #[test]
    fn the_night_draws_actual_and_forecast_bars_under_the_plan() {
        use chrono::TimeZone;
        let mut p = crate::load::live::tests::night();
        let log = "- task: freeze\n  started: 2027-03-27 23:02\n- task: freeze\n  finished: 2027-03-27 23:35\n- task: extract\n  started: 2027-03-27 23:40\n- task: extract\n  blocked: 2027-03-28 00:40\n";
        p.live = crate::load::live::tests::check(&p, log).unwrap();
        let s = crate::plan::cutover::schedule(&p.cutover, p.go_live);
        let plain = svg(&p, &s, None).unwrap();
        assert!(!plain.contains("class=\"actual") && !plain.contains("class=\"now\""));
        let now = chrono::Utc.with_ymd_and_hms(2027, 3, 28, 0, 50, 0).unwrap();
        let l = crate::plan::live::state(&p, &s, now);
        let live = svg(&p, &s, Some(&l)).unwrap();
        // freeze done (solid), extract blocked (solid red to now, then its forecast), the
        // four tasks not started as forecasts only, and the line at now.
        assert_eq!(live.matches(r#"class="actual""#).count(), 1, "{live}");
        assert_eq!(live.matches(r#"class="actual blocked""#).count(), 1);
        assert_eq!(
            live.matches(r#"class="forecast""#).count(),
            4,
            "zero-length ponr has none"
        );
        assert!(live.contains(r#"<line class="now""#));
        assert!(live.contains("tonight: blocked, 23:40 to 02:40 BST"));
    }

    #[test]
    fn the_axis_names_each_hour_once_across_the_spring_forward_change() {
        // London, 2027-03-28: 01:00 GMT becomes 02:00 BST; the night runs 23:00 → 04:15.
        let p = crate::load::live::tests::night();
        let s = crate::plan::cutover::schedule(&p.cutover, p.go_live);
        let svg = svg(&p, &s, None).unwrap();
        let labels: Vec<&str> = svg
            .split(r#"text-anchor="middle">"#)
            .skip(1)
            .filter_map(|t| t.split('<').next())
            .collect();
        assert_eq!(labels, ["23:00", "Sun 28 Mar", "02:00", "03:00", "04:00"]);
    }

    #[test]
    fn long_titles_are_shortened() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd…");
    }
}
