//! PNG bar charts with plotters' bitmap backend. Text needs a CJK font: the first of the usual
//! fontconfig locations of Noto CJK / WenQuanYi / Droid that exists is loaded once. Without one,
//! [`bar_chart_png`] returns `None` and the report is written without the chart.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::BarChart;

/// Font files tried in order (Debian/Ubuntu/RHEL paths of fonts-noto-cjk and others).
const FONT_PATHS: [&str; 6] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
];

/// Family name the chart uses once a font is registered.
const FAMILY: &str = "taizhang-cjk";

/// Registers a CJK font with plotters once per process; `false` when none is installed.
fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        for path in FONT_PATHS {
            if let Ok(bytes) = std::fs::read(path) {
                // plotters keeps registered fonts for the life of the process.
                let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font(FAMILY, FontStyle::Normal, leaked).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// Chart size in pixels.
pub const CHART_SIZE: (u32, u32) = (960, 480);

/// Renders the chart as PNG bytes, or `None` without a CJK font or with no bars.
pub fn bar_chart_png(chart: &BarChart) -> Option<Vec<u8>> {
    if chart.bars.is_empty() || !font_ready() {
        return None;
    }
    let (w, h) = CHART_SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(chart, &mut rgb).ok()?;
    let img = image::RgbImage::from_raw(w, h, rgb)?;
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).ok()?;
    Some(png.into_inner())
}

fn draw<'a>(chart: &BarChart, buf: &'a mut [u8]) -> Result<(), Box<dyn std::error::Error + 'a>> {
    let root = BitMapBackend::with_buffer(buf, CHART_SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let max = chart.bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    let top = if chart.percent {
        100.0
    } else {
        (max * 1.15).max(1.0)
    };
    let n = chart.bars.len();
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.caption, (FAMILY, 28))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .build_cartesian_2d((0..n.saturating_sub(1)).into_segmented(), 0.0..top)?;
    let labels: Vec<String> = chart.bars.iter().map(|(l, _)| l.clone()).collect();
    c.configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .x_labels(n)
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|y| {
            if chart.percent {
                format!("{y:.0}%")
            } else {
                format!("{y:.0}")
            }
        })
        .label_style((FAMILY, 16))
        .draw()?;
    c.draw_series(
        Histogram::vertical(&c)
            .style(RGBColor(0x44, 0x72, 0xC4).filled())
            .margin(12)
            .data(chart.bars.iter().enumerate().map(|(i, (_, v))| (i, *v))),
    )?;
    root.present()?;
    Ok(())
}
