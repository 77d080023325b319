//! The small form of each step on a matter (交办, 签收, 报进展, 延期, 办结, 审核, 催办, 督办单,
//! 销号, 问效, 回头看, 中止): which fields it has, and which use case its submission calls.

use std::collections::BTreeMap;

use serde::Serialize;
use taizhang_app::ledger::escalation::{self, EffectInput, NoticeInput};
use taizhang_app::ledger::flow::{self, ExtensionRequest};
use taizhang_app::ledger::progress::{self, ProgressInput};
use taizhang_app::{App, AppError, AppResult, Caller};

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Area,
    Date,
    Number,
    Select,
}

/// One field of a step's form.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub hint: &'static str,
    pub options: &'static [(&'static str, &'static str)],
}

const fn f(name: &'static str, label: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        label,
        kind,
        required,
        hint: "",
        options: &[],
    }
}

const fn sel(
    name: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
) -> Field {
    Field {
        name,
        label,
        kind: Kind::Select,
        required: true,
        hint: "",
        options,
    }
}

const fn hint(mut x: Field, h: &'static str) -> Field {
    x.hint = h;
    x
}

const APPROVE_OR_REJECT: &[(&str, &str)] = &[("approve", "同意"), ("reject", "不同意（驳回）")];
const PASS_OR_RETURN: &[(&str, &str)] = &[("approve", "审核通过"), ("return", "退回重办")];
const URGE_METHODS: &[(&str, &str)] = &[
    ("system", "系统消息"),
    ("phone", "电话"),
    ("wecom", "企业微信"),
    ("in_person", "当面"),
];
const COLORS: &[(&str, &str)] = &[
    ("blue", "蓝色督办单"),
    ("yellow", "黄色督办单"),
    ("red", "红色督办单"),
];

/// The fields of the step `code` (empty: a confirmation only).
pub fn fields(code: &str) -> Vec<Field> {
    use Kind::*;
    match code {
        "reject" | "return_assignment" | "reopen" | "request_stop" => {
            vec![f("reason", "理由", Area, true)]
        }
        "report_progress" => vec![
            f("body", "本期进展", Area, true),
            hint(
                f("progress", "完成比例（%）", Number, false),
                "可不填；0–100 的整数",
            ),
            f("problems", "存在问题", Area, false),
            f("coordination", "需协调事项", Area, false),
            f("next_steps", "下步打算", Area, false),
        ],
        "request_extension" => vec![
            hint(
                f("proposed_deadline", "申请延至", Date, true),
                "须在原时限到期前申请，且晚于原时限",
            ),
            f("reason", "延期理由", Area, true),
            f("current_progress", "目前进展", Area, false),
        ],
        "decide_extension" => vec![
            sel("decision", "审批意见", APPROVE_OR_REJECT),
            hint(
                f("new_deadline", "批准的新时限", Date, false),
                "不填则按申请的时限",
            ),
            hint(f("basis", "批准依据 / 驳回理由", Area, false), "驳回时必填"),
        ],
        "decide_stop" => vec![
            sel("decision", "审批意见", APPROVE_OR_REJECT),
            hint(f("note", "意见", Area, false), "驳回时必填"),
        ],
        "report_completion" => vec![hint(
            f("basis", "办结依据", Area, true),
            "如：文件已印发、系统已上线、验收已通过",
        )],
        "review_completion" => vec![
            sel("decision", "审核意见", PASS_OR_RETURN),
            hint(f("note", "意见", Area, false), "退回时必填"),
        ],
        "urge" => vec![
            sel("method", "催办方式", URGE_METHODS),
            f("note", "催办内容", Area, false),
        ],
        "issue_notice" => vec![
            sel("color", "督办单等级", COLORS),
            f("reason", "发出原因", Area, true),
            f("requirement", "办理要求", Area, false),
            f("due_on", "限期", Date, true),
        ],
        "carry_over" => vec![hint(
            f("reason", "结转理由", Area, true),
            "结转后本事项在本年度记为「已结转」，并在下一年度生成一件新事项继续办理（保留单位、经办人、时限和未完成的节点）",
        )],
        "review_effect" => vec![
            sel("rating", "成效评价", escalation::RATINGS),
            f("evidence", "佐证材料", Area, false),
            f("comment", "评价意见", Area, false),
            hint(
                f("lookback_on", "回头看日期", Date, false),
                "到期后提醒回头看",
            ),
        ],
        _ => Vec::new(),
    }
}

/// Submitted values by field name (the last value wins).
pub type Values = BTreeMap<String, String>;

fn v<'a>(vals: &'a Values, k: &str) -> &'a str {
    vals.get(k).map_or("", |s| s.as_str())
}

fn opt(vals: &Values, k: &str) -> Option<String> {
    Some(v(vals, k).trim().to_owned()).filter(|s| !s.is_empty())
}

fn progress_of(vals: &Values) -> AppResult<Option<u8>> {
    match v(vals, "progress").trim() {
        "" => Ok(None),
        s => s
            .parse::<u8>()
            .map(Some)
            .map_err(|_| AppError::invalid("progress", "progress", "完成比例应为 0–100 的整数")),
    }
}

/// Take the step `code` on matter `id` with the submitted values.
pub async fn submit(app: &App, who: &Caller, id: i64, code: &str, vals: &Values) -> AppResult<()> {
    let approve = v(vals, "decision") == "approve";
    match code {
        "submit" => flow::submit_matter(app, who, id).await,
        "approve" => flow::approve_matter(app, who, id).await,
        "reject" => flow::reject_matter(app, who, id, v(vals, "reason")).await,
        "sign_for" => flow::sign_for(app, who, id).await,
        "return_assignment" => flow::return_assignment(app, who, id, v(vals, "reason")).await,
        "report_progress" => {
            let input = ProgressInput {
                body: v(vals, "body").into(),
                progress: progress_of(vals)?,
                problems: v(vals, "problems").into(),
                coordination: v(vals, "coordination").into(),
                next_steps: v(vals, "next_steps").into(),
            };
            progress::report_progress(app, who, id, input)
                .await
                .map(drop)
        }
        "request_extension" => {
            let req = ExtensionRequest {
                reason: v(vals, "reason").into(),
                current_progress: v(vals, "current_progress").into(),
                proposed_deadline: v(vals, "proposed_deadline").into(),
            };
            flow::request_extension(app, who, id, req).await.map(drop)
        }
        "decide_extension" => {
            let d = opt(vals, "new_deadline");
            let basis = v(vals, "basis");
            flow::decide_extension(app, who, id, approve, d.as_deref(), basis).await
        }
        "request_stop" => flow::request_stop(app, who, id, v(vals, "reason")).await,
        "decide_stop" => flow::decide_stop(app, who, id, approve, v(vals, "note")).await,
        "report_completion" => flow::report_completion(app, who, id, v(vals, "basis")).await,
        "review_completion" => {
            flow::review_completion(app, who, id, approve, v(vals, "note")).await
        }
        "urge" => escalation::urge(app, who, id, v(vals, "method"), v(vals, "note"))
            .await
            .map(drop),
        "issue_notice" => {
            let input = NoticeInput {
                color: v(vals, "color").into(),
                reason: v(vals, "reason").into(),
                requirement: v(vals, "requirement").into(),
                due_on: v(vals, "due_on").into(),
            };
            escalation::issue_notice(app, who, id, input)
                .await
                .map(drop)
        }
        "close_out" => flow::close_out(app, who, id).await,
        "review_effect" => {
            let input = EffectInput {
                rating: v(vals, "rating").into(),
                evidence: v(vals, "evidence").into(),
                comment: v(vals, "comment").into(),
                lookback_on: opt(vals, "lookback_on"),
            };
            escalation::review_effect(app, who, id, input)
                .await
                .map(drop)
        }
        "reopen" => flow::reopen(app, who, id, v(vals, "reason")).await,
        "carry_over" => flow::carry_over(app, who, id, v(vals, "reason"))
            .await
            .map(drop),
        _ => Err(AppError::NotFound("操作".into())),
    }
}
