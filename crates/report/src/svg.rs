//! Charts as inline SVG, generated here: bars with 95% interval whiskers, a radar, a risk ×
//! attack heat map and the refusal trade-off scatter. Built with `maud`, so every label (task
//! names, risk codes, model labels: untrusted text) is escaped like the rest of the page.
//! Coordinates are written with one decimal, so the same data gives the same bytes.

use maud::{Markup, html};

use crate::Lang;
use crate::text::{Heatmap, Radar, TradeoffPoint, clean, num, t, x as esc};

pub(crate) const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

pub(crate) fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// One decimal: SVG coordinates.
fn c(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "0.0".into()
    }
}

fn clamp01(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Display width in Latin-letter units: CJK and other wide characters count two.
fn width_units(s: &str) -> usize {
    s.chars()
        .map(|ch| if (ch as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// `s` cut to about `max` units, with an ellipsis when cut.
pub(crate) fn fit(s: &str, max: usize) -> String {
    let s = clean(s);
    let s = s.as_ref();
    if width_units(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for ch in s.chars() {
        let cw = if (ch as u32) >= 0x1100 { 2 } else { 1 };
        if w + cw > max.saturating_sub(1) {
            break;
        }
        w += cw;
        out.push(ch);
    }
    out.push('…');
    out
}

/// A row of a bar chart: a label and, per series (model), the metric with its interval.
pub(crate) struct BarRow {
    pub label: String,
    /// Per series: (value, ci_low, ci_high, n); None when not measured.
    pub values: Vec<Option<(f64, f64, f64, usize)>>,
}

fn legend(series: &[String], x: f64, y: f64, max_units: usize) -> Markup {
    html! {
        @for (i, s) in series.iter().enumerate() {
            @let ly = y + 16.0 * i as f64;
            rect x=(c(x)) y=(c(ly - 9.0)) width="10" height="10" fill=(color(i)) {}
            text x=(c(x + 15.0)) y=(c(ly)) font-size="11" { (fit(s, max_units)) title { (esc(s)) } }
        }
    }
}

/// Horizontal bars in [0, 1], one per series within each row, with 95% interval whiskers.
pub(crate) fn bars(rows: &[BarRow], series: &[String], lang: Lang) -> Markup {
    const LABEL_W: f64 = 250.0;
    const PLOT_W: f64 = 420.0;
    const VALUE_W: f64 = 110.0;
    const BAR_H: f64 = 12.0;
    const GAP: f64 = 8.0;
    let legend_h = if series.len() > 1 {
        16.0 * series.len() as f64 + 6.0
    } else {
        0.0
    };
    let top = 22.0 + legend_h;
    let per_row = BAR_H * series.len().max(1) as f64 + GAP;
    let height = top + per_row * rows.len() as f64 + 20.0;
    let width = LABEL_W + PLOT_W + VALUE_W;
    let x0 = LABEL_W;
    let sx = |v: f64| x0 + PLOT_W * clamp01(v);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox={ "0 0 " (c(width)) " " (c(height)) } width=(c(width)) role="img" aria-label=(t(lang, "条形图：各指标的取值及其 95% 置信区间", "Bar chart: each metric's value with its 95% interval")) {
            @if series.len() > 1 { (legend(series, x0, 14.0, 80)) }
            @for k in 0..=4 {
                @let v = k as f64 / 4.0;
                line x1=(c(sx(v))) y1=(c(top - 6.0)) x2=(c(sx(v))) y2=(c(height - 18.0)) stroke="#ddd" stroke-width="1" {}
                text x=(c(sx(v))) y=(c(height - 5.0)) font-size="10" text-anchor="middle" fill="#666" { (format!("{v:.2}")) }
            }
            @for (r, row) in rows.iter().enumerate() {
                @let y = top + per_row * r as f64;
                text x=(c(LABEL_W - 8.0)) y=(c(y + per_row / 2.0)) font-size="11" text-anchor="end" dominant-baseline="middle" {
                    (fit(&row.label, 38)) title { (esc(&row.label)) }
                }
                @for (i, v) in row.values.iter().enumerate() {
                    @let by = y + BAR_H * i as f64;
                    @match v {
                        Some((value, lo, hi, n)) if *n > 0 => {
                            rect x=(c(x0)) y=(c(by + 1.0)) width=(c(sx(*value) - x0)) height=(c(BAR_H - 2.0)) fill=(color(i)) fill-opacity="0.75" {
                                title { (esc(series.get(i).map(String::as_str).unwrap_or(""))) ": " (num(*value)) " [" (num(*lo)) ", " (num(*hi)) "] n=" (n) }
                            }
                            line x1=(c(sx(*lo))) y1=(c(by + BAR_H / 2.0)) x2=(c(sx(*hi))) y2=(c(by + BAR_H / 2.0)) stroke="#222" stroke-width="1.2" {}
                            line x1=(c(sx(*lo))) y1=(c(by + 2.0)) x2=(c(sx(*lo))) y2=(c(by + BAR_H - 2.0)) stroke="#222" stroke-width="1.2" {}
                            line x1=(c(sx(*hi))) y1=(c(by + 2.0)) x2=(c(sx(*hi))) y2=(c(by + BAR_H - 2.0)) stroke="#222" stroke-width="1.2" {}
                            text x=(c(x0 + PLOT_W + 6.0)) y=(c(by + BAR_H / 2.0)) font-size="10" dominant-baseline="middle" fill="#333" {
                                (num(*value)) " (n=" (n) ")"
                            }
                        }
                        _ => {
                            text x=(c(x0 + 4.0)) y=(c(by + BAR_H / 2.0)) font-size="10" dominant-baseline="middle" fill="#999" {
                                (t(lang, "未测量", "not measured"))
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A radar of capability areas, values in [0, 1]; one polygon per model.
pub(crate) fn radar(r: &Radar, lang: Lang) -> Markup {
    let legend_h = if r.series.len() > 1 {
        16.0 * r.series.len() as f64 + 8.0
    } else {
        0.0
    };
    let (w, h) = (640.0, 440.0 + legend_h);
    let (cx, cy, radius) = (w / 2.0, 220.0 + legend_h, 150.0);
    let n = r.axes.len().max(1);
    let angle =
        |i: usize| -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
    let point = |i: usize, v: f64| {
        (
            cx + radius * clamp01(v) * angle(i).cos(),
            cy + radius * clamp01(v) * angle(i).sin(),
        )
    };
    let ring = |v: f64| {
        (0..n)
            .map(|i| point(i, v))
            .map(|(x, y)| format!("{},{}", c(x), c(y)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let series: Vec<String> = r.series.iter().map(|(m, _)| m.clone()).collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox={ "0 0 " (c(w)) " " (c(h)) } width=(c(w)) role="img" aria-label=(t(lang, "雷达图：各维度的得分", "Radar chart: the score on each dimension")) {
            @for k in 1..=4 {
                polygon points=(ring(k as f64 / 4.0)) fill="none" stroke="#ddd" stroke-width="1" {}
            }
            @for k in 1..=4 {
                @let (tx, ty) = point(0, k as f64 / 4.0);
                text x=(c(tx + 4.0)) y=(c(ty + 10.0)) font-size="9" fill="#999" { (format!("{:.2}", k as f64 / 4.0)) }
            }
            @for i in 0..r.axes.len() {
                @let (x, y) = point(i, 1.0);
                @let (lx, ly) = point(i, 1.08);
                @let anchor = if (lx - cx).abs() < 1.0 { "middle" } else if lx > cx { "start" } else { "end" };
                // Labels above and below the chart keep clear of the outer ring.
                @let ly = if ly < cy - radius * 0.5 { ly - 8.0 } else if ly > cy + radius * 0.5 { ly + 8.0 } else { ly };
                line x1=(c(cx)) y1=(c(cy)) x2=(c(x)) y2=(c(y)) stroke="#ccc" stroke-width="1" {}
                text x=(c(lx)) y=(c(ly)) font-size="11" text-anchor=(anchor) dominant-baseline="middle" {
                    (fit(&r.axes[i], 34)) @if r.lower_better.get(i).copied().unwrap_or(false) { " ↓" }
                    title { (esc(&r.axes[i])) }
                }
            }
            @for (s, (model, values)) in r.series.iter().enumerate() {
                @let pts = values.iter().enumerate().map(|(i, v)| point(i, v.unwrap_or(0.0))).map(|(x, y)| format!("{},{}", c(x), c(y))).collect::<Vec<_>>().join(" ");
                polygon points=(pts) fill=(color(s)) fill-opacity="0.12" stroke=(color(s)) stroke-width="2" { title { (esc(model)) } }
                @for (i, v) in values.iter().enumerate() {
                    @if let Some(v) = v {
                        @let (x, y) = point(i, *v);
                        circle cx=(c(x)) cy=(c(y)) r="3" fill=(color(s)) { title { (esc(model)) " · " (esc(&r.axes[i])) ": " (num(*v)) } }
                    }
                }
            }
            @if series.len() > 1 { (legend(&series, 10.0, 16.0, 64)) }
            text x=(c(w - 10.0)) y=(c(h - 8.0)) font-size="10" text-anchor="end" fill="#666" {
                (t(lang, "↓ 越低越好", "↓ lower is better"))
            }
        }
    }
}

/// White (0) to dark red (1).
fn heat(v: f64) -> String {
    let v = clamp01(v);
    let lerp = |a: f64, b: f64| (a + (b - a) * v).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        lerp(255.0, 165.0),
        lerp(247.0, 15.0),
        lerp(236.0, 21.0)
    )
}

/// Risk (rows) × attack (columns); `row_label` names a risk code.
pub(crate) fn heatmap(h: &Heatmap<'_>, row_label: &dyn Fn(&str) -> String) -> Markup {
    const LABEL_W: f64 = 250.0;
    const CELL_W: f64 = 62.0;
    const CELL_H: f64 = 20.0;
    const HEAD_H: f64 = 92.0;
    // Room on the right for the last rotated column heading.
    let width = LABEL_W + CELL_W * h.attacks.len() as f64 + 110.0;
    let height = HEAD_H + CELL_H * h.risks.len() as f64 + 10.0;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox={ "0 0 " (c(width)) " " (c(height)) } width=(c(width)) role="img" aria-label="风险 × 攻击热力图 / Risk × attack heat map: attack success per risk and attack" {
            @for (j, a) in h.attacks.iter().enumerate() {
                @let x = LABEL_W + CELL_W * j as f64 + CELL_W / 2.0;
                text x=(c(x)) y=(c(HEAD_H - 6.0)) font-size="11" transform={ "rotate(-40 " (c(x)) " " (c(HEAD_H - 6.0)) ")" } {
                    (fit(a, 22)) title { (esc(a)) }
                }
            }
            @for (i, risk) in h.risks.iter().enumerate() {
                @let y = HEAD_H + CELL_H * i as f64;
                @let label = row_label(risk);
                text x=(c(LABEL_W - 6.0)) y=(c(y + CELL_H / 2.0)) font-size="11" text-anchor="end" dominant-baseline="middle" {
                    (fit(&label, 42)) title { (esc(&label)) }
                }
                @for (j, cell) in h.cells[i].iter().enumerate() {
                    @let x = LABEL_W + CELL_W * j as f64;
                    @match cell {
                        Some((v, n)) => {
                            rect x=(c(x + 1.0)) y=(c(y + 1.0)) width=(c(CELL_W - 2.0)) height=(c(CELL_H - 2.0)) fill=(heat(*v)) {
                                title { (esc(risk)) " × " (esc(h.attacks[j])) ": " (num(*v)) " (n=" (n) ")" }
                            }
                            text x=(c(x + CELL_W / 2.0)) y=(c(y + CELL_H / 2.0)) font-size="10" text-anchor="middle" dominant-baseline="middle"
                                fill=(if *v > 0.55 { "#fff" } else { "#222" }) { (format!("{v:.2}")) }
                        }
                        None => {
                            rect x=(c(x + 1.0)) y=(c(y + 1.0)) width=(c(CELL_W - 2.0)) height=(c(CELL_H - 2.0)) fill="#eee" {}
                            text x=(c(x + CELL_W / 2.0)) y=(c(y + CELL_H / 2.0)) font-size="10" text-anchor="middle" dominant-baseline="middle" fill="#999" { "–" }
                        }
                    }
                }
            }
        }
    }
}

/// The upper end of an axis that holds `max`: a tenth at least, a whole at most.
fn axis_end(max: f64) -> f64 {
    ((max * 1.15 * 10.0).ceil() / 10.0).clamp(0.1, 1.0)
}

/// Models as points: over-refusal (x) against harmful compliance (y), with 95% intervals; both
/// are better when lower, so the best corner is the origin.
pub(crate) fn tradeoff(points: &[TradeoffPoint<'_>], lang: Lang) -> Markup {
    let (w, h) = (780.0, 420.0);
    let (left, right, top, bottom) = (70.0, 330.0, 20.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let xmax = axis_end(points.iter().map(|p| p.over.2).fold(0.0, f64::max));
    let ymax = axis_end(points.iter().map(|p| p.harmful.2).fold(0.0, f64::max));
    let sx = |v: f64| left + pw * (v.max(0.0) / xmax).min(1.0);
    let sy = |v: f64| top + ph - ph * (v.max(0.0) / ymax).min(1.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox={ "0 0 " (c(w)) " " (c(h)) } width=(c(w)) role="img" aria-label=(t(lang, "拒答与过度拒答的权衡：每个模型的两项比率及其 95% 置信区间", "Refusal trade-off: each model's over-refusal and harmful-compliance rates with 95% intervals")) {
            rect x=(c(left)) y=(c(top)) width=(c(pw)) height=(c(ph)) fill="none" stroke="#999" stroke-width="1" {}
            @for k in 0..=4 {
                @let fx = xmax * k as f64 / 4.0;
                @let fy = ymax * k as f64 / 4.0;
                line x1=(c(sx(fx))) y1=(c(top)) x2=(c(sx(fx))) y2=(c(top + ph)) stroke="#eee" stroke-width="1" {}
                line x1=(c(left)) y1=(c(sy(fy))) x2=(c(left + pw)) y2=(c(sy(fy))) stroke="#eee" stroke-width="1" {}
                text x=(c(sx(fx))) y=(c(top + ph + 14.0)) font-size="10" text-anchor="middle" fill="#666" { (format!("{fx:.3}")) }
                text x=(c(left - 6.0)) y=(c(sy(fy))) font-size="10" text-anchor="end" dominant-baseline="middle" fill="#666" { (format!("{fy:.3}")) }
            }
            text x=(c(left + pw / 2.0)) y=(c(h - 22.0)) font-size="11" text-anchor="middle" {
                (t(lang, "过度拒答率（应答题被拒答）→", "over-refusal (should-answer questions refused) →"))
            }
            text x="14" y=(c(top + ph / 2.0)) font-size="11" text-anchor="middle" transform={ "rotate(-90 14 " (c(top + ph / 2.0)) ")" } {
                (t(lang, "有害顺从率（应拒答题未拒答）→", "harmful compliance (should-refuse answered) →"))
            }
            text x=(c(left + 6.0)) y=(c(top + ph - 6.0)) font-size="10" fill="#2ca02c" { (t(lang, "↙ 更好", "↙ better")) }
            @for (i, p) in points.iter().enumerate() {
                @let (x, y) = (sx(p.over.0), sy(p.harmful.0));
                line x1=(c(sx(p.over.1))) y1=(c(y)) x2=(c(sx(p.over.2))) y2=(c(y)) stroke=(color(i)) stroke-width="1.5" {}
                line x1=(c(x)) y1=(c(sy(p.harmful.1))) x2=(c(x)) y2=(c(sy(p.harmful.2))) stroke=(color(i)) stroke-width="1.5" {}
                circle cx=(c(x)) cy=(c(y)) r="5" fill=(color(i)) {
                    title {
                        (esc(p.model)) ": " (t(lang, "有害顺从", "harmful compliance")) " " (num(p.harmful.0)) " [" (num(p.harmful.1)) ", " (num(p.harmful.2)) "] n=" (p.harmful.3)
                        "; " (t(lang, "过度拒答", "over-refusal")) " " (num(p.over.0)) " [" (num(p.over.1)) ", " (num(p.over.2)) "] n=" (p.over.3)
                    }
                }
            }
            @let names: Vec<String> = points.iter().map(|p| p.model.to_string()).collect();
            (legend(&names, left + pw + 16.0, top + 10.0, 50))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_wide_characters() {
        assert_eq!(fit("abc", 5), "abc");
        assert_eq!(fit("abcdefgh", 5), "abcd…");
        assert_eq!(fit("安全评估报告", 6), "安全…");
    }

    #[test]
    fn heat_scale_ends() {
        assert_eq!(heat(0.0), "#fff7ec");
        assert_eq!(heat(1.0), "#a50f15");
    }
}
