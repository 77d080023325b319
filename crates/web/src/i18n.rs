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
];

#[cfg(test)]
mod tests {
    use super::*;

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
}
