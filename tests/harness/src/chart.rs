//! The benchmark's PNG charts, drawn with plotters (text with DejaVu Sans,
//! Debian's fonts-dejavu-core).

use crate::bench::{Row, SIZES};
use crate::util::{Error, Res};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use std::path::Path;
use std::sync::Once;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn font() -> Res<()> {
    static ONCE: Once = Once::new();
    let mut err = None;
    ONCE.call_once(|| match std::fs::read(FONT) {
        Ok(bytes) => {
            if register_font("sans-serif", FontStyle::Normal, Box::leak(bytes.into_boxed_slice())).is_err() {
                err = Some(format!("{FONT}: not a font plotters can read"));
            }
        }
        Err(e) => err = Some(format!("{FONT}: {e} (Debian package fonts-dejavu-core)")),
    });
    err.map_or(Ok(()), |e| Err(Error(e)))
}

fn e<T: std::fmt::Debug>(x: T) -> Error {
    Error(format!("plotting: {x:?}"))
}

/// The setups of each bar group, with their colours.
const BARS: [(&str, &str, RGBColor); 4] = [
    ("bare", "bare e1000e", RGBColor(150, 150, 150)),
    ("bonding", "bonding active-backup", RGBColor(90, 160, 90)),
    ("c", "C net_failover", RGBColor(70, 110, 190)),
    ("rust", "ours", RGBColor(220, 120, 40)),
];

/// A bar chart of instructions per packet: TX and RX at both sizes, bare,
/// bonding, C and ours side by side (medians; the bar's line spans min-max).
pub fn bars(path: &Path, rows: &[Row]) -> Res<()> {
    font()?;
    let groups: Vec<(&str, u32)> =
        ["tx", "rx"].iter().flat_map(|w| SIZES.iter().map(move |s| (*w, *s))).collect();
    // The bare figures are those of the C guest.
    let get = |case: &str, what: &str, size: u32| {
        crate::bench::find_row(rows, if case == "bare" { "c" } else { case }, case, what, size)
    };
    let top = rows.iter().filter(|r| r.what != "stats").map(Row::max).fold(0.0, f64::max) * 1.15;
    let root = BitMapBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let n = groups.len() as f64 * 5.0;
    let mut chart = ChartBuilder::on(&root)
        .caption("Guest instructions per packet (pktgen, QEMU -icount, 1 vCPU)", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..n, 0.0..top)
        .map_err(e)?;
    let labels: Vec<String> = groups
        .iter()
        .map(|(w, s)| format!("{} {} B", w.to_uppercase(), if *s == 60 { 64 } else { 1500 }))
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("instructions per packet")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    for (k, (case, label, colour)) in BARS.iter().enumerate() {
        let mut bars = Vec::new();
        let mut whiskers = Vec::new();
        for (g, (what, size)) in groups.iter().enumerate() {
            if let Some(r) = get(case, what, *size) {
                let x0 = g as f64 * 5.0 + 0.5 + k as f64;
                bars.push(Rectangle::new([(x0, 0.0), (x0 + 0.9, r.median())], colour.filled()));
                let xm = x0 + 0.45;
                whiskers.push(PathElement::new(vec![(xm, r.min()), (xm, r.max())], BLACK.stroke_width(2)));
            }
        }
        chart
            .draw_series(bars)
            .map_err(e)?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
        chart.draw_series(whiskers).map_err(e)?;
    }
    // The group names under the axis, centred under each group's bars.
    for (g, label) in labels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(g as f64 * 5.0 + 2.45, 0.0));
        let style = TextStyle::from(("sans-serif", 16).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(label.clone(), (px, py + 8), style)).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// One unplug/re-plug cycle of the scenario suite, binned for the timeline.
pub struct Timeline {
    /// `C` or `ours`.
    pub label: String,
    /// Per 50 ms bin: its start (ms from the first datagram or echo request on
    /// the standby), packets through the standby, packets through the primary.
    pub bins: Vec<(f64, u32, u32)>,
    /// When lost packets were sent (ms, same origin).
    pub lost: Vec<f64>,
    /// When the flow came back to the primary (ms).
    pub back_ms: f64,
}

/// The timeline PNG: packets per 50 ms through the standby and the primary
/// around one unplug/re-plug cycle, lost ones marked, one panel per stack.
pub fn timeline(path: &Path, lines: &[Timeline]) -> Res<()> {
    font()?;
    let root = BitMapBackend::new(path, (1000, 300 * lines.len() as u32 + 40)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let (title, body) = root.split_vertically(40);
    title
        .titled(
            "Unplug and re-plug under traffic: packets per 50 ms (host time; x marks lost packets)",
            ("sans-serif", 20),
        )
        .map_err(e)?;
    let x0 = lines.iter().flat_map(|l| l.bins.first()).map(|b| b.0).fold(0.0, f64::min);
    let x1 = lines.iter().flat_map(|l| l.bins.last()).map(|b| b.0 + 50.0).fold(0.0, f64::max);
    let ymax = lines.iter().flat_map(|l| &l.bins).map(|b| b.1.max(b.2)).max().unwrap_or(1) as f64 + 1.0;
    for (area, l) in body.split_evenly((lines.len(), 1)).iter().zip(lines) {
        let mut chart = ChartBuilder::on(area)
            .caption(&l.label, ("sans-serif", 17))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, -0.6..ymax)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("ms from the first packet on the standby (the unplug)")
            .y_desc("packets / 50 ms")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        // First packet on the standby, and first on the primary again.
        chart
            .draw_series(
                [0.0, l.back_ms].map(|x| PathElement::new(vec![(x, -0.6), (x, ymax)], BLACK.mix(0.4))),
            )
            .map_err(e)?;
        let standby = RGBColor(70, 110, 190);
        let primary = RGBColor(220, 120, 40);
        chart
            .draw_series(LineSeries::new(l.bins.iter().map(|b| (b.0, b.1 as f64)), standby.stroke_width(2)))
            .map_err(e)?
            .label("standby (virtio-net)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], standby.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(l.bins.iter().map(|b| (b.0, b.2 as f64)), primary.stroke_width(2)))
            .map_err(e)?
            .label("primary (e1000e)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], primary.stroke_width(2)));
        chart
            .draw_series(l.lost.iter().map(|&t| Cross::new((t, -0.3), 5, RED.stroke_width(2))))
            .map_err(e)?
            .label(format!("lost ({})", l.lost.len()))
            .legend(|(x, y)| Cross::new((x + 8, y), 5, RED.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(e)?;
    }
    root.present().map_err(e)?;
    Ok(())
}
