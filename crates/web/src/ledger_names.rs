//! Names and labels for the ledger pages: unit and person names by id, the unit tree as picker
//! options, the department leaders, the code lists of the filters, and a matter row decorated
//! with its display names for the templates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use minijinja::HtmlEscape;
use serde::Serialize;
use serde_json::{Value, json};
use taizhang_app::ledger::MatterView;
use taizhang_app::names::NameDirectory;
use taizhang_app::org::UnitTree;
use taizhang_app::{App, AppResult};
use taizhang_domain::daily_check::CheckCategory;
use taizhang_domain::lifecycle::{MatterStatus, Transition};
use taizhang_domain::matter::{SourceCategory, Urgency};

/// A `<option>`: value and label (with tree indentation for units).
#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    pub value: String,
    pub label: String,
}

fn opt(value: impl ToString, label: impl Into<String>) -> Opt {
    Opt {
        value: value.to_string(),
        label: label.into(),
    }
}

/// Names of units and people for one request: the unit tree and the people directory come from
/// the application's validated caches, so a page costs two fingerprint queries, not a load of
/// every unit and person.
#[derive(Default)]
pub struct Names {
    tree: Arc<UnitTree>,
    dir: Arc<NameDirectory>,
    /// Live units in tree order, indented by depth, and the same as `<option>`s: made once
    /// per version of the unit tree.
    pub units: Arc<UnitPicker>,
    /// 部领导 (lead leaders).
    pub leader_opts: Vec<Opt>,
}

/// The unit picker of a version of the unit tree. At 10^6 matters the bench organization has
/// 5,021 units: building the options took a tenth of a 台账 page's server time and rendering them
/// through the template half of it (14.7 ms per page), on every page.
#[derive(Debug, Default)]
pub struct UnitPicker {
    /// Live units in tree order, indented by depth.
    pub opts: Vec<Opt>,
    /// `opts` as HTML `<option>` elements, escaped.
    html: String,
}

impl UnitPicker {
    fn build(tree: &UnitTree) -> UnitPicker {
        let mut children: BTreeMap<Option<i64>, Vec<&taizhang_store::org::Unit>> = BTreeMap::new();
        for u in tree.units.values().filter(|u| u.retired_at.is_none()) {
            children.entry(u.parent_id).or_default().push(u);
        }
        for v in children.values_mut() {
            v.sort_by_key(|u| (u.sort_order, u.id));
        }
        let mut opts = Vec::new();
        let mut stack: Vec<(i64, usize)> = children
            .get(&None)
            .map(|v| v.iter().rev().map(|u| (u.id, 0)).collect())
            .unwrap_or_default();
        while let Some((id, depth)) = stack.pop() {
            if let Some(u) = tree.units.get(&id) {
                opts.push(opt(id, format!("{}{}", "　".repeat(depth), u.name)));
            }
            if let Some(kids) = children.get(&Some(id)) {
                stack.extend(kids.iter().rev().map(|u| (u.id, depth + 1)));
            }
        }
        let mut html = String::with_capacity(opts.len() * 48);
        for o in &opts {
            let _ = write!(
                html,
                "<option value=\"{}\">{}</option>",
                HtmlEscape(&o.value),
                HtmlEscape(&o.label)
            );
        }
        UnitPicker { opts, html }
    }

    /// The `<option>`s, the one whose value is `current` (a unit id) selected: HTML to insert
    /// as it is (`|safe`).
    pub fn options_html(&self, current: &str) -> String {
        if current.is_empty() || !current.bytes().all(|b| b.is_ascii_digit()) {
            return self.html.clone();
        }
        self.html.replacen(
            &format!("<option value=\"{current}\">"),
            &format!("<option value=\"{current}\" selected>"),
            1,
        )
    }
}

/// The last unit picker built, with the tree it was built from.
static PICKER: Mutex<Option<(Arc<UnitTree>, Arc<UnitPicker>)>> = Mutex::new(None);

/// The unit picker of `tree`: kept while the application serves that same tree (it replaces
/// the tree when the units change).
fn picker(tree: &Arc<UnitTree>) -> Arc<UnitPicker> {
    if let Ok(kept) = PICKER.lock()
        && let Some((t, p)) = kept.as_ref()
        && Arc::ptr_eq(t, tree)
    {
        return Arc::clone(p);
    }
    let p = Arc::new(UnitPicker::build(tree));
    if let Ok(mut kept) = PICKER.lock() {
        *kept = Some((Arc::clone(tree), Arc::clone(&p)));
    }
    p
}

impl Names {
    pub async fn load(app: &App) -> AppResult<Names> {
        let mut c = app.store.read().await?;
        let tree = app.unit_tree(&mut c).await?;
        let dir = app.name_directory(&mut c).await?;
        drop(c);
        let units = picker(&tree);
        let leader_opts = dir
            .leaders
            .iter()
            .map(|(id, name)| opt(id, name.clone()))
            .collect();
        Ok(Names {
            tree,
            dir,
            units,
            leader_opts,
        })
    }

    pub fn unit(&self, id: i64) -> String {
        self.tree
            .units
            .get(&id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| format!("单位{id}"))
    }

    pub fn person(&self, id: Option<i64>) -> String {
        match id {
            None => "系统".into(),
            Some(id) => self
                .dir
                .name(id)
                .map_or_else(|| format!("人员{id}"), str::to_owned),
        }
    }

    /// A matter row for the templates: the view plus display names and labels.
    pub fn row(&self, v: &MatterView, assisting: &[i64]) -> Value {
        let mut out = serde_json::to_value(v).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut out {
            let r = &v.row;
            m.insert("lead_unit".into(), json!(self.unit(r.lead_unit_id)));
            m.insert(
                "leader".into(),
                json!(r.lead_leader_id.map(|p| self.person(Some(p)))),
            );
            let names: Vec<String> = assisting.iter().map(|u| self.unit(*u)).collect();
            m.insert("assisting".into(), json!(names));
            m.insert(
                "source_label".into(),
                json!(source_label(&r.source_category)),
            );
            m.insert("urgency_label".into(), json!(urgency_label(&r.urgency)));
            m.insert("light_label".into(), json!(v.light.label_zh()));
        }
        out
    }
}

pub fn source_label(code: &str) -> &'static str {
    SourceCategory::parse(code).map_or("其他", |s| s.label_zh())
}

pub fn urgency_label(code: &str) -> &'static str {
    Urgency::parse(code).map_or("普通", |u| u.label_zh())
}

pub fn source_opts() -> Vec<Opt> {
    SourceCategory::ALL
        .iter()
        .map(|s| opt(s.code(), s.label_zh()))
        .collect()
}

pub fn urgency_opts() -> Vec<Opt> {
    Urgency::ALL
        .iter()
        .map(|u| opt(u.code(), u.label_zh()))
        .collect()
}

pub fn status_opts() -> Vec<Opt> {
    MatterStatus::ALL
        .iter()
        .map(|s| opt(s.as_str(), s.label_zh()))
        .collect()
}

pub fn light_opts() -> Vec<Opt> {
    [
        ("red", "红灯"),
        ("yellow", "黄灯"),
        ("green", "绿灯"),
        ("grey", "灰（未运行）"),
    ]
    .iter()
    .map(|(c, l)| opt(c, *l))
    .collect()
}

/// The Chinese name of a daily-check category.
pub fn check_label(code: &str) -> &'static str {
    CheckCategory::parse(code).map_or("其他", |c| c.label_zh())
}

/// The Chinese name of a timeline event kind.
pub fn event_label(kind: &str) -> &'static str {
    if let Some(t) = Transition::parse(kind) {
        return match t {
            Transition::Approve => "批准立项并交办",
            other => other.label_zh(),
        };
    }
    match kind {
        "create" => "立项（草稿）",
        "report_progress" => "报送进展",
        "contribute_progress" => "配合单位报送进展",
        "accept_progress" => "进展审核通过",
        "return_progress" => "进展退回",
        "milestone_done" => "节点完成",
        "urge" => "催办",
        "issue_notice" => "签发督办单",
        "answer_notice" => "回复督办单",
        "review_effect" => "跟踪问效",
        "carried_in" => "结转自上年",
        "edit" => "修改台账",
        "attachment_upload" => "上传佐证材料",
        "attachment_remove" => "撤回佐证材料",
        _ => "其他",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taizhang_store::org::Unit;

    fn unit(id: i64, parent_id: Option<i64>, name: &str, sort_order: i64) -> Unit {
        Unit {
            id,
            parent_id,
            name: name.into(),
            short_name: String::new(),
            kind: "division".into(),
            sort_order,
            leader_id: None,
            retired_at: None,
        }
    }

    #[test]
    fn the_unit_picker_lists_live_units_in_tree_order_escaped_with_the_current_one_selected() {
        let mut retired = unit(4, Some(1), "已撤销处", 0);
        retired.retired_at = Some(1);
        let tree = UnitTree::from_units(vec![
            unit(1, None, "组织部", 0),
            unit(3, Some(1), "干部<一>处 & \"二\"", 2),
            unit(2, Some(1), "办公室", 1),
            unit(12, Some(2), "文秘科", 0),
            retired,
        ]);
        let p = UnitPicker::build(&tree);
        let labels: Vec<&str> = p.opts.iter().map(|o| o.label.as_str()).collect();
        assert_eq!(
            labels,
            ["组织部", "　办公室", "　　文秘科", "　干部<一>处 & \"二\""]
        );
        let none = "<option value=\"1\">组织部</option><option value=\"2\">　办公室</option>\
                    <option value=\"12\">　　文秘科</option>\
                    <option value=\"3\">　干部&lt;一&gt;处 &amp; &quot;二&quot;</option>";
        assert_eq!(p.options_html(""), none);
        // The option of unit 2 only, not of unit 12.
        assert_eq!(
            p.options_html("2"),
            none.replace("value=\"2\">", "value=\"2\" selected>")
        );
        assert_eq!(p.options_html("12").matches(" selected").count(), 1);
        // Not a unit id: nothing is selected (and nothing of it reaches the HTML).
        assert_eq!(p.options_html("2\"><script>"), none);
        assert_eq!(p.options_html("99"), none);
    }

    #[test]
    fn the_picker_is_kept_for_the_same_tree_and_built_again_for_another() {
        let a = Arc::new(UnitTree::from_units(vec![unit(1, None, "甲", 0)]));
        let b = Arc::new(UnitTree::from_units(vec![unit(1, None, "乙", 0)]));
        let first = picker(&a);
        assert!(Arc::ptr_eq(&first, &picker(&a)));
        assert_eq!(picker(&b).opts[0].label, "乙");
        assert_eq!(picker(&a).opts[0].label, "甲");
    }
}
