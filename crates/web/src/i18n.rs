//! The English switch: zh-CN by default, English when the `tz_lang=en` cookie is set. A small
//! dictionary backs the template filter `t` (`{{ "工作台" | t }}` → "Desk"); text without an
//! entry stays Chinese. The language of the request is kept in a task-local for its duration.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;

pub const COOKIE: &str = "tz_lang";
pub const ZH: &str = "zh-CN";
pub const EN: &str = "en";

tokio::task_local! {
    static LANG: &'static str;
}

/// The language of the request being served (zh-CN outside a request).
pub fn current() -> &'static str {
    LANG.try_with(|l| *l).unwrap_or(ZH)
}

/// The language a request asks for, from its cookie.
pub fn from_headers(h: &HeaderMap) -> &'static str {
    match crate::session::read_cookie(h, COOKIE).as_deref() {
        Some("en") => EN,
        _ => ZH,
    }
}

/// Middleware: serve the request within its language.
pub async fn layer(req: Request, next: Next) -> Response {
    let lang = from_headers(req.headers());
    LANG.scope(lang, next.run(req)).await
}

/// `text` in `lang` (unchanged when the dictionary has no entry or the language is Chinese).
pub fn translate(text: &str, lang: &str) -> String {
    if lang != EN {
        return text.to_owned();
    }
    DICT.iter()
        .find(|(zh, _)| *zh == text)
        .map_or_else(|| text.to_owned(), |(_, en)| (*en).to_owned())
}

/// English labels of the matter page's buttons by action code: verbs, where the dictionary's
/// entry for the same Chinese word is the status noun (结转 "Carried over", 销号 "Closed").
const ACTIONS_EN: &[(&str, &str)] = &[
    ("submit", "Submit for approval"),
    ("approve", "Approve and assign"),
    ("reject", "Reject"),
    ("sign_for", "Sign for"),
    ("return_assignment", "Return the assignment"),
    ("report_progress", "Report progress"),
    ("request_extension", "Ask for an extension"),
    ("decide_extension", "Decide the extension"),
    ("report_completion", "Report completion"),
    ("review_completion", "Review completion"),
    ("urge", "Urge"),
    ("issue_notice", "Issue a supervision notice"),
    ("close_out", "Close out"),
    ("review_effect", "Review the effect"),
    ("reopen", "Look back"),
    ("request_stop", "Ask to stop"),
    ("decide_stop", "Decide the stop"),
    ("carry_over", "Carry over"),
    ("edit", "Edit"),
    ("new_sub", "New sub-matter"),
];

/// The label of the matter-page button `code` in the request's language (`zh` unchanged).
pub fn action_label(code: &str, zh: &str) -> String {
    if current() != EN {
        return zh.to_owned();
    }
    ACTIONS_EN
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| zh.to_owned(), |(_, en)| (*en).to_owned())
}

/// The template filter `t`: translates into the page's language (`page.lang`, else the request's).
pub fn filter(state: &minijinja::State, text: &str) -> String {
    let lang = state
        .lookup("page")
        .and_then(|p| p.get_attr("lang").ok())
        .and_then(|l| l.as_str().map(str::to_owned))
        .unwrap_or_else(|| current().to_owned());
    translate(text, &lang)
}

#[derive(Deserialize)]
pub struct Switch {
    #[serde(default)]
    to: String,
}

/// `GET /lang?to=en|zh`: set the language cookie and go back to the page the user came from.
pub async fn switch(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Switch>,
) -> Response {
    let value = if q.to == EN { EN } else { "zh" };
    let secure = if st.info.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!("{COOKIE}={value}; Path=/; SameSite=Lax; Max-Age=31536000{secure}");
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        });
    let target = crate::session::safe_next(back.as_deref());
    let mut resp = Redirect::to(&target).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Chinese → English. Layout, navigation, buttons and the cadence pages.
const DICT: &[(&str, &str)] = &[
    ("台账", "Ledger"),
    ("台账 · 督查督办", "Taizhang · Supervision"),
    ("台账 督查督办系统", "Taizhang supervision ledger"),
    ("工作台", "Desk"),
    ("日清查", "Daily check"),
    ("周小结", "Weekly summary"),
    ("月盘点", "Monthly stock-take"),
    ("年度归零", "Year close"),
    ("管理", "Admin"),
    ("审计", "Audit"),
    ("修改密码", "Change password"),
    ("退出", "Log out"),
    ("English", "English"),
    ("中文", "中文"),
    (
        "一事一台账 · 一日一清查 · 一周一小结 · 一月一盘点 · 一年一归零",
        "One ledger per matter · daily check · weekly summary · monthly stock-take · year close",
    ),
    ("工作日历", "Working calendar"),
    ("打印", "Print"),
    ("打印版", "Print view"),
    ("返回", "Back"),
    ("查询", "Show"),
    ("保存", "Save"),
    ("提交", "Submit"),
    ("提交审核", "Submit for approval"),
    ("牵头单位", "Lead unit"),
    ("完成时限", "Deadline"),
    ("通过", "Approve"),
    ("退回", "Return"),
    ("已清查", "Checked"),
    ("清查", "Check"),
    ("单位", "Unit"),
    ("全部单位", "All units"),
    ("各单位清查情况", "Check items by unit"),
    ("个单位", "units"),
    ("清查项", "Items"),
    ("待清查", "Open"),
    ("上一页", "Previous"),
    ("下一页", "Next"),
    ("查看", "View"),
    ("日期", "Date"),
    ("事项", "Matter"),
    ("编号", "Number"),
    ("事项名称", "Title"),
    ("类别", "Category"),
    ("状态", "Status"),
    ("处理", "Action"),
    ("确认人", "Confirmed by"),
    ("确认时间", "Confirmed at"),
    ("生成清查单", "Build the check list"),
    ("今日无清查事项。", "Nothing to check today."),
    ("周次", "Week"),
    ("全部门", "Department-wide"),
    ("草稿", "Draft"),
    ("已提交", "Submitted"),
    ("已通过", "Approved"),
    ("已退回", "Returned"),
    ("生成本周草稿", "Draft this week"),
    ("本周推进", "Moved this week"),
    ("本周办结", "Completed this week"),
    ("滞后事项及原因", "Lagging, with reasons"),
    ("需领导协调", "Needs coordination"),
    ("下周安排", "Next week"),
    ("小结正文", "Summary text"),
    ("月份", "Month"),
    ("事项总数", "Matters"),
    ("已办结", "Finished"),
    ("逾期", "Overdue"),
    ("按期办结率", "On-time rate"),
    ("批准延期", "Extensions granted"),
    (
        "办结率与按期办结率（按单位）",
        "Completion and on-time rate by unit",
    ),
    ("红黄绿灯分布", "Lights"),
    ("月度趋势", "Monthly trend"),
    ("周趋势", "Weekly trend"),
    ("逾期事项（按单位）", "Overdue by unit"),
    ("盘点本月", "Take this month's snapshot"),
    ("据此发布通报", "Issue a bulletin from it"),
    ("年度", "Year"),
    ("未办结事项", "Open matters"),
    ("年度对账", "Annual reconciliation"),
    ("执行年度归零", "Close the year"),
    ("合计", "Total"),
    ("销号", "Closed"),
    ("中止", "Stopped"),
    ("结转", "Carried over"),
    ("按期办结", "On time"),
    // 佐证材料 (attachments) on the matter page
    ("佐证材料", "Evidence"),
    ("文件名", "File name"),
    ("类型", "Type"),
    ("大小", "Size"),
    ("上传人", "Uploaded by"),
    ("上传时间", "Uploaded at"),
    ("关联进展", "Progress report"),
    ("关联进展反馈", "For progress report"),
    ("已撤回", "Withdrawn"),
    ("下载", "Download"),
    ("预览", "Preview"),
    ("撤回", "Withdraw"),
    ("上传", "Upload"),
    ("选择文件", "Choose a file"),
    ("尚无佐证材料。", "No evidence yet."),
    // notifications and the closed loop's record-level steps
    ("通知设置", "Notifications"),
    ("通知渠道", "Notification channels"),
    ("修改通知渠道", "Edit notification channel"),
    ("已配置的渠道", "Configured channels"),
    ("新增渠道", "Add a channel"),
    ("投递记录", "Delivery log"),
    ("接收方", "Recipient"),
    ("地址", "Address"),
    ("签名密钥", "Signing secret"),
    ("最近投递", "Last delivery"),
    ("操作", "Actions"),
    ("时间", "Time"),
    ("事件", "Event"),
    ("渠道", "Channel"),
    ("尝试", "Attempts"),
    ("最后错误", "Last error"),
    ("下次重试", "Next retry"),
    ("站内信", "In-app"),
    ("邮件", "Email"),
    ("办结", "Finish"),
    ("本年度已结转", "Carried over this year"),
    // 预警阈值 per 任务来源
    ("预警阈值", "Warning thresholds"),
    (
        "预警阈值（红黄绿灯）",
        "Warning thresholds (red, yellow and green lights)",
    ),
    ("← 返回管理", "← Back to admin"),
    (
        "预警阈值已保存，所有节点的台账立即按新阈值计算亮灯。",
        "Thresholds saved; the ledger lights by them from now on, on every node.",
    ),
    ("任务来源", "Source"),
    ("单独设置", "Own values"),
    ("临期预警（工作日）", "Due-soon warning (working days)"),
    ("黄灯滞后（点）", "Yellow lag (points)"),
    ("红灯滞后（点）", "Red lag (points)"),
    ("临期预警工作日数", "due-soon warning, working days"),
    ("黄灯滞后点数", "yellow lag, points"),
    ("红灯滞后点数", "red lag, points"),
    (
        "保存记入审计记录。",
        "Saving is recorded in the audit trail.",
    ),
    (
        "默认（未单独设置的类别）",
        "Default (sources without values of their own)",
    ),
    ("上级文件", "Superior document"),
    ("领导批示", "Leader's instruction"),
    ("会议议定", "Meeting decision"),
    ("口头交办", "Oral assignment"),
    ("年度重点工作", "Key work of the year"),
    ("群众诉求", "Public demand"),
    ("信访舆情", "Petitions and public opinion"),
    ("本单位研究", "Own research"),
    ("四个联系", "Four contacts"),
    ("第一议题", "First topic"),
    ("其他", "Other"),
    // 修改台账 and 子事项: the matter form
    ("编辑", "Edit"),
    ("编辑事项", "Edit matter"),
    ("新建事项", "New matter"),
    ("新建事项（立项）", "New matter (registration)"),
    ("新建子事项", "New sub-matter"),
    ("子事项", "Sub-matters"),
    ("父事项", "Parent matter"),
    (
        "表单有误，请按提示修改后再提交。",
        "The form has errors; correct them as shown and submit again.",
    ),
    ("事项内容", "Content"),
    ("来源文件 / 批示", "Source document / instruction"),
    ("牵头领导", "Lead leader"),
    ("配合单位", "Assisting units"),
    ("办理时限", "Time limit"),
    ("紧急程度", "Urgency"),
    ("反馈周期", "Reporting cycle"),
    ("重大事项", "Major matter"),
    ("经办人", "Handlers"),
    ("备注", "Remarks"),
    ("节点", "Milestones"),
    ("节点名称", "Milestone"),
    ("计划完成日期", "Planned date"),
    ("＋ 添加节点", "+ Add a milestone"),
    ("删除", "Delete"),
    ("保存修改", "Save changes"),
    ("保存为草稿", "Save as draft"),
    ("取消", "Cancel"),
    (
        "修改记入全程记录和审计记录；他人先行修改时本次保存会被拒绝，请刷新后重试。",
        "Changes go on the timeline and into the audit trail; if someone else saved first, this save is refused: reload and try again.",
    ),
    ("灯", "Light"),
    // record-level steps of the loop: 节点完成, 进展审核, 督办单回复
    ("完成", "Done"),
    ("说明（可不填）", "Note (optional)"),
    ("确认完成", "Confirm done"),
    ("审核意见", "Review note"),
    (
        "采纳时可不填；退回时须写明理由",
        "Optional to accept; a reason is required to return",
    ),
    ("采纳", "Accept"),
    ("督办单", "Supervision notices"),
    (
        "待回复及近 30 天的回复",
        "awaiting a reply, and replies of the last 30 days",
    ),
    ("书面回复", "Written reply"),
    (
        "说明办理情况、未按期的原因和下步措施",
        "What was done, why it is late, and the next steps",
    ),
    ("提交书面回复", "Send the written reply"),
    ("尚未回复", "Not answered yet"),
    ("（不关联）", "(none)"),
    ("撤回理由（可不填）", "Reason for withdrawal (optional)"),
    ("撤回理由", "Reason for withdrawal"),
    // 常用视图 (saved ledger views)
    ("常用视图：", "Saved views:"),
    ("暂无", "None yet"),
    ("保存当前视图", "Save this view"),
    ("视图名称", "View name"),
    (
        "视图名称，如：本处超期事项",
        "View name, e.g. Overdue in my division",
    ),
    ("删除视图", "Delete view"),
    // 通知渠道, 投递记录, 通知设置
    ("个人", "Person"),
    ("单位（接收方为单位时）", "Unit (when a unit receives)"),
    ("人员（接收方为个人时）", "Person (when a person receives)"),
    ("网址或邮箱", "URL or e-mail address"),
    ("新的网址或邮箱", "New URL or e-mail address"),
    ("修改", "Edit"),
    ("发送测试", "Send a test"),
    ("停用", "Off"),
    ("启用", "On"),
    ("已停用", "Off"),
    ("记录", "Log"),
    ("刷新", "Refresh"),
    ("尚未配置通知渠道。", "No notification channel yet."),
    ("清除已设置的密钥", "Clear the stored secret"),
    ("全部", "All"),
    ("没有投递记录。", "No deliveries."),
    ("免打扰时段（北京时间）", "Quiet hours (Beijing time)"),
    ("开启", "On"),
    ("从", "From"),
    ("到", "To"),
    (
        "紧急事件（已超期、督办单下发）照常发送",
        "Urgent events (overdue, supervision notice issued) are sent anyway",
    ),
    (
        "每日汇总：非紧急通知每天早上合并为一条发送",
        "Daily digest: non-urgent notifications go out as one message each morning",
    ),
    ("恢复默认", "Back to defaults"),
    (
        "纪检监察账号为只读，不能修改设置。",
        "Discipline inspection accounts are read-only and cannot change settings.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_matter_page_button_has_an_english_label() {
        let mut codes: Vec<&str> = taizhang_app::ledger::actions::ACTIONS
            .iter()
            .map(|a| a.code)
            .collect();
        codes.push("new_sub");
        for code in codes {
            assert!(
                ACTIONS_EN.iter().any(|(c, _)| *c == code),
                "no English label for the button {code}"
            );
        }
        let en = LANG.sync_scope(EN, || action_label("carry_over", "结转"));
        assert_eq!(en, "Carry over");
        assert_eq!(action_label("carry_over", "结转"), "结转");
    }

    #[test]
    fn english_has_an_entry_for_every_navigation_label() {
        for zh in [
            "工作台",
            "台账",
            "日清查",
            "周小结",
            "月盘点",
            "年度归零",
            "管理",
            "审计",
        ] {
            assert_ne!(translate(zh, EN), zh, "{zh}");
            assert_eq!(translate(zh, ZH), zh);
        }
    }

    #[test]
    fn text_without_an_entry_stays_chinese() {
        assert_eq!(translate("没有这一条", EN), "没有这一条");
    }

    /// The string literals piped into `t` in a template (`{{ "工作台" | t }}`).
    fn literals(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("| t") {
            let filter_t = !rest[i + 3..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let quoted = rest[..i].trim_end().strip_suffix('"');
            if let (true, Some(q)) = (filter_t, quoted)
                && let Some(j) = q.rfind('"')
            {
                out.push(&q[j + 1..]);
            }
            rest = &rest[i + 3..];
        }
        out
    }

    #[test]
    fn every_literal_the_templates_translate_has_an_english_entry() {
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")];
        let mut seen = 0;
        let mut missing = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for lit in literals(&text) {
                    seen += 1;
                    if !DICT.iter().any(|(zh, _)| *zh == lit) {
                        missing.push(format!("{}: {lit}", path.display()));
                    }
                }
            }
        }
        assert!(seen > 100, "only {seen} translated literals found");
        assert!(missing.is_empty(), "no English for {missing:#?}");
    }

    #[test]
    fn the_pages_of_the_ledger_settings_have_english_labels() {
        for zh in [
            "预警阈值（红黄绿灯）",
            "编辑事项",
            "新建子事项",
            "常用视图：",
            "保存当前视图",
            "通知渠道",
            "投递记录",
            "通知设置",
            "佐证材料",
            "书面回复",
        ] {
            assert_ne!(translate(zh, EN), zh, "{zh}");
        }
    }
}
