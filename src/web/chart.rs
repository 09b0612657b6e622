//! The chart of the transparency page: per month, the reports received
//! and, drawn inside each bar, those acknowledged in time. Inline SVG,
//! drawn and scaled here, so the page needs no script; its colours are
//! classes of the style sheet, since the page's policy allows no inline
//! style. The chart is one image with a text alternative; the table under
//! it stays the data a screen reader reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sotto_wire::api::MonthFigures;

use super::pages::{esc, Ctx};

/// Months the chart shows at most (the last two years); the table shows
/// them all.
pub const MAX_MONTHS: usize = 24;

/// The drawing's size in user units, and in CSS pixels where there is
/// room: the style sheet lets it shrink to a narrow screen, never grow, so
/// its 13px labels stay readable on a phone and no larger than the text.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 200.0;
/// Room above the plot for the top label, and below it for the months.
const TOP: f64 = 14.0;
const BOTTOM: f64 = 26.0;
/// The plot's height.
const PLOT: f64 = HEIGHT - TOP - BOTTOM;
/// A bar's slot is never wider than this, so one month is not a wall.
const MAX_SLOT: f64 = 64.0;
/// Room a month label (`2026-11` at 13px, about 56 units) needs: where
/// slots are narrower, every second, third… month is labelled.
const LABEL: f64 = 64.0;

/// One month as the chart draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    /// `YYYY-MM`.
    pub month: String,
    /// Reports received.
    pub received: u64,
    /// Of those, acknowledged in time.
    pub in_time: u64,
}

impl From<&MonthFigures> for Bar {
    fn from(m: &MonthFigures) -> Self {
        Self {
            month: m.month.clone(),
            received: m.received,
            in_time: m.acknowledged_in_time,
        }
    }
}

/// What the chart draws: bars, oldest first, and whether older months
/// were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Months {
    /// The months drawn.
    pub bars: Vec<Bar>,
    /// Older months exist that are not drawn.
    pub cut: bool,
}

fn parse_month(s: &str) -> Option<(u32, u32)> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some((y, m))
}

fn previous((y, m): (u32, u32)) -> Option<(u32, u32)> {
    if m == 1 {
        Some((y.checked_sub(1)?, 12))
    } else {
        Some((y, m - 1))
    }
}

/// The months to draw: the figures list only months with activity, so the
/// quiet months between them are drawn as zeros (a gap in time must look
/// like one). At most the last [`MAX_MONTHS`], counted back from the last
/// month with activity, so the work is bounded whatever the figures say.
pub fn months(figures: &[MonthFigures]) -> Months {
    let parsed: Option<BTreeMap<(u32, u32), &MonthFigures>> = figures
        .iter()
        .map(|f| parse_month(&f.month).map(|k| (k, f)))
        .collect();
    let Some(by_month) = parsed else {
        // Not months as the replay writes them: drawn as they come.
        let skip = figures.len().saturating_sub(MAX_MONTHS);
        return Months {
            bars: figures[skip..].iter().map(Bar::from).collect(),
            cut: skip > 0,
        };
    };
    let (Some((&first, _)), Some((&last, _))) =
        (by_month.first_key_value(), by_month.last_key_value())
    else {
        return Months {
            bars: Vec::new(),
            cut: false,
        };
    };
    let mut bars = Vec::new();
    let mut at = Some(last);
    let mut cut = false;
    while let Some(month) = at {
        bars.push(by_month.get(&month).map_or_else(
            || Bar {
                month: format!("{:04}-{:02}", month.0, month.1),
                received: 0,
                in_time: 0,
            },
            |f| Bar::from(*f),
        ));
        if month == first {
            break;
        }
        if bars.len() == MAX_MONTHS {
            cut = true;
            break;
        }
        at = previous(month);
    }
    bars.reverse();
    Months { bars, cut }
}

/// The top of the value axis: the smallest 1, 2 or 5 × 10ⁿ at or above
/// `max`, so the axis reads in round numbers; 1 when there is nothing to
/// draw; `max` itself where a round number above it does not fit in u64.
pub fn axis_top(max: u64) -> u64 {
    let mut magnitude: u64 = 1;
    loop {
        for step in [1, 2, 5] {
            match magnitude.checked_mul(step) {
                Some(top) if top >= max => return top,
                Some(_) => {}
                None => return max,
            }
        }
        match magnitude.checked_mul(10) {
            Some(next) => magnitude = next,
            None => return max,
        }
    }
}

/// The height of `value` on an axis up to `top`, in a plot `height` high
/// (never above it, never negative).
pub fn bar_height(value: u64, top: u64, height: f64) -> f64 {
    if top == 0 {
        return 0.0;
    }
    // Through f64: a ratio needs no exactness, and u64 products overflow.
    value.min(top) as f64 / top as f64 * height
}

/// The chart as a `<figure>`: the SVG, its legend, and a note when older
/// months are left out. `None` when there is nothing to draw.
pub fn figure(ctx: &Ctx, m: &Months) -> Option<String> {
    let (first, last) = (m.bars.first()?, m.bars.last()?);
    let n = m.bars.len();
    let max = m
        .bars
        .iter()
        .map(|b| b.received.max(b.in_time))
        .max()
        .unwrap_or(0);
    let top = axis_top(max);
    let rtl = ctx.lang.dir() == "rtl";
    // Digits of the top label are about 8 units wide at 13px.
    let gutter = 10.0 + 8.0 * top.to_string().len() as f64;
    // Half a label of room after the newest bar, whose label is always
    // drawn, centred under it.
    let plot_w = WIDTH - gutter - LABEL / 2.0;
    let base = HEIGHT - BOTTOM;
    let slot = (plot_w / n as f64).min(MAX_SLOT);
    // Right to left, the months run from the right edge, and the axis
    // stands on the right, where reading starts; the numbers stay digits.
    let x = |from_start: f64| if rtl { WIDTH - from_start } else { from_start };
    let (label_x, anchor) = if rtl {
        (WIDTH - gutter + 6.0, "start")
    } else {
        (gutter - 6.0, "end")
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<figure class=\"chart\">\n<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"chart-title\" aria-describedby=\"chart-desc\" direction=\"ltr\" \
         focusable=\"false\">\n<title id=\"chart-title\">{}</title>\n<desc id=\"chart-desc\">{}</desc>",
        ctx.t("transparency.chart.title"),
        ctx.f(
            "transparency.chart.desc",
            &[
                ("first", &first.month),
                ("last", &last.month),
                ("max", &max.to_string()),
            ],
        ),
    );
    let mut ticks = vec![0, top];
    if top % 2 == 0 {
        ticks.insert(1, top / 2);
    }
    s.push_str("<g class=\"grid\">");
    for t in ticks {
        let y = base - bar_height(t, top, PLOT);
        let _ = write!(
            s,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"{}/>\
             <text x=\"{label_x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{t}</text>",
            x(gutter),
            x(gutter + plot_w),
            if t == 0 { " class=\"axis\"" } else { "" },
            y + 4.0,
        );
    }
    s.push_str("</g>\n<g class=\"bars\">\n");
    // At least 1 (`slot` is positive and at most LABEL).
    let every = (LABEL / slot).ceil().max(1.0) as usize;
    let mut labels = String::new();
    for (i, b) in m.bars.iter().enumerate() {
        let centre = x(gutter + (i as f64 + 0.5) * slot);
        let _ = write!(
            s,
            "<g><title>{}</title>",
            ctx.f(
                "transparency.chart.bar",
                &[
                    ("month", &b.month),
                    ("received", &b.received.to_string()),
                    ("in_time", &b.in_time.to_string()),
                ],
            )
        );
        for (class, value, width) in [
            ("bar-received", b.received, slot * 0.7),
            ("bar-in-time", b.in_time, slot * 0.4),
        ] {
            let h = bar_height(value, top, PLOT);
            let _ = write!(
                s,
                "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{h:.1}\"/>",
                centre - width / 2.0,
                base - h,
            );
        }
        s.push_str("</g>\n");
        // The newest month is always labelled; older ones as room allows.
        // A label under a bar at the edge is moved in to fit the drawing.
        if (n - 1 - i) % every == 0 {
            let _ = write!(
                labels,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                centre.clamp(LABEL / 2.0, WIDTH - LABEL / 2.0),
                HEIGHT - 8.0,
                esc(&b.month)
            );
        }
    }
    let _ = writeln!(
        s,
        "</g>\n<g class=\"months\">{labels}</g>\n</svg>\n<figcaption>\n<ul class=\"legend\">\
         <li><span class=\"swatch received\" aria-hidden=\"true\"></span>{}</li>\
         <li><span class=\"swatch in-time\" aria-hidden=\"true\"></span>{}</li></ul>",
        ctx.t("transparency.legend.received"),
        ctx.t("transparency.legend.in_time"),
    );
    if m.cut {
        let _ = writeln!(
            s,
            "<p class=\"meta\">{}</p>",
            ctx.f(
                "transparency.chart.cut",
                &[("months", &MAX_MONTHS.to_string())]
            )
        );
    }
    s.push_str("</figcaption>\n</figure>\n");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    fn month(month: &str, received: u64, in_time: u64) -> MonthFigures {
        MonthFigures {
            month: month.into(),
            received,
            acknowledged_in_time: in_time,
            acknowledged_late: 0,
            resolved: 0,
            record_only: 0,
            bad_faith: 0,
        }
    }

    fn ctx(tag: &str) -> Ctx {
        Ctx {
            lang: Lang::by_tag(tag).unwrap(),
            path: "/transparency".into(),
            base: String::new(),
            origin: String::new(),
        }
    }

    /// The `x` of each received bar, in drawing order (oldest first).
    fn bar_xs(svg: &str) -> Vec<f64> {
        svg.split("<rect class=\"bar-received\" x=\"")
            .skip(1)
            .map(|r| r.split('"').next().unwrap().parse().unwrap())
            .collect()
    }

    /// The height of each bar, in drawing order.
    fn heights(svg: &str) -> Vec<f64> {
        svg.split("<rect ")
            .skip(1)
            .map(|r| {
                let h = r.split(" height=\"").nth(1).unwrap();
                h.split('"').next().unwrap().parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn the_axis_ends_on_a_round_number_at_or_above_the_largest_figure() {
        for (max, top) in [
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 5),
            (7, 10),
            (10, 10),
            (11, 20),
            (1_234_567, 2_000_000),
            (10_u64.pow(19), 10_u64.pow(19)),
        ] {
            assert_eq!(axis_top(max), top, "{max}");
        }
    }

    #[test]
    fn figures_too_big_for_a_round_top_are_their_own_top() {
        assert_eq!(axis_top(u64::MAX), u64::MAX);
        assert_eq!(axis_top(10_u64.pow(19) + 1), 10_u64.pow(19) + 1);
        assert_eq!(bar_height(u64::MAX, u64::MAX, 180.0), 180.0);
        assert_eq!(bar_height(u64::MAX / 2, u64::MAX, 180.0).round(), 90.0);
    }

    #[test]
    fn a_bar_is_never_taller_than_the_plot_nor_below_it() {
        assert_eq!(bar_height(0, 1, 180.0), 0.0);
        assert_eq!(bar_height(5, 10, 180.0), 90.0);
        assert_eq!(bar_height(50, 10, 180.0), 180.0);
        assert_eq!(bar_height(5, 0, 180.0), 0.0);
    }

    #[test]
    fn no_months_draw_no_chart() {
        let m = months(&[]);
        assert!(m.bars.is_empty() && !m.cut);
        assert_eq!(figure(&ctx("en"), &m), None);
    }

    #[test]
    fn one_month_is_one_bar_of_full_height_and_no_wider_than_a_slot() {
        let m = months(&[month("2026-11", 3, 2)]);
        assert_eq!(m.bars.len(), 1);
        let svg = figure(&ctx("en"), &m).unwrap();
        assert_eq!(svg.matches("class=\"bar-received\"").count(), 1);
        assert_eq!(svg.matches("class=\"bar-in-time\"").count(), 1);
        // Axis to 5: 3 and 2 fifths of the plot, 160 high.
        assert_eq!(heights(&svg), vec![96.0, 64.0]);
        assert!(svg.contains("2026-11: 3 received, 2 acknowledged in time"));
        assert!(svg.contains("width=\"44.8\""), "{svg}");
    }

    #[test]
    fn quiet_months_between_busy_ones_are_drawn_as_zeros() {
        let m = months(&[month("2025-11", 1, 1), month("2026-02", 4, 0)]);
        let names: Vec<_> = m.bars.iter().map(|b| b.month.as_str()).collect();
        assert_eq!(names, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(m.bars[1].received, 0);
        assert_eq!(m.bars[3].received, 4);
        assert!(!m.cut);
    }

    #[test]
    fn only_the_last_two_years_are_drawn_and_the_caption_says_so() {
        let m = months(&[month("2020-01", 9, 9), month("2026-11", 1, 0)]);
        assert_eq!(m.bars.len(), MAX_MONTHS);
        assert!(m.cut);
        assert_eq!(m.bars[0].month, "2024-12");
        let svg = figure(&ctx("en"), &m).unwrap();
        assert!(svg.contains("last 24 months"), "{svg}");
        // Every fourth month labelled (slots of 17.6 for labels of 64),
        // the newest among them, and none beyond the drawing's edges.
        let xs: Vec<f64> = svg
            .split("<text x=\"")
            .skip(1)
            .filter(|t| t.contains("text-anchor=\"middle\""))
            .map(|t| t.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(xs.len(), 6, "{svg}");
        assert!(
            xs.iter().all(|x| (32.0..=WIDTH - 32.0).contains(x)),
            "{xs:?}"
        );
        assert!(svg.contains(">2026-11</text>"));
    }

    #[test]
    fn huge_figures_draw_finite_bars_inside_the_plot() {
        let m = months(&[month("2026-10", u64::MAX, 1), month("2026-11", 1, 1)]);
        let svg = figure(&ctx("de"), &m).unwrap();
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(heights(&svg).iter().all(|h| (0.0..=PLOT).contains(h)));
        assert!(svg.contains(&u64::MAX.to_string()));
    }

    #[test]
    fn right_to_left_the_months_run_from_the_right() {
        let m = months(&[month("2026-10", 2, 1), month("2026-11", 3, 2)]);
        let ltr = bar_xs(&figure(&ctx("en"), &m).unwrap());
        let rtl = bar_xs(&figure(&ctx("ar"), &m).unwrap());
        assert!(ltr[0] < ltr[1], "{ltr:?}");
        assert!(rtl[0] > rtl[1], "{rtl:?}");
        // Mirror images of each other.
        for (l, r) in ltr.iter().zip(&rtl) {
            let width = 44.8;
            assert!((l + r + width - WIDTH).abs() < 0.2, "{l} {r}");
        }
    }

    #[test]
    fn months_not_in_the_replays_form_are_drawn_as_they_come() {
        let m = months(&[month("<b>", 1, 0), month("2026-11", 1, 1)]);
        assert_eq!(m.bars.len(), 2);
        let svg = figure(&ctx("en"), &m).unwrap();
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
    }
}
