//! Applying one planned row inside the import transaction: 立项 and the mapped status for a new
//! matter, or overwriting the ledger's fields of an imported one; then its import record.

use taizhang_domain::lifecycle::MatterStatus;
use taizhang_domain::policy::Action;
use taizhang_store::Conn;
use taizhang_store::imports::{self, ImportRow};
use taizhang_store::ledger::{self as store_ledger, MilestoneRow};
use taizhang_store::matters as store_matters;

use super::plan::{Planned, Prepared, RowAction, RowPlan};
use crate::audit::{self, Event};
use crate::ledger::matters::{CreateIn, DeadlineInput, create_matter_in};
use crate::ledger::{record_event, today};
use crate::{App, AppError, AppResult, Caller};

pub(crate) async fn apply_row(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    file_name: &str,
    p: &Planned,
    prep: &Prepared,
) -> AppResult<()> {
    let id = match &prep.existing {
        None => create_row(app, c, who, file_name, p, prep).await?,
        Some(row) if p.plan.action == RowAction::Update => {
            update_row(app, c, who, file_name, p, prep, row.id).await?;
            row.id
        }
        Some(row) => row.id,
    };
    imports::upsert(
        c,
        &ImportRow {
            matter_id: id,
            year: i64::from(prep.year),
            import_key: prep.key.clone(),
            file_name: file_name.chars().take(200).collect(),
            sheet: p.plan.sheet.clone(),
            row_no: i64::from(p.plan.row),
            problems: prep.source.problems.clone(),
            next_steps: prep.source.next_steps.clone(),
            status_text: prep.source.status_text.clone(),
            imported_at: app.clock.now_ms(),
        },
    )
    .await?;
    Ok(())
}

fn origin(file_name: &str, p: &RowPlan) -> String {
    format!("导入自「{file_name}」工作表「{}」第 {} 行", p.sheet, p.row)
}

/// 立项 in the import transaction, then straight to the mapped status (交办 + 签收 on the
/// import day, as the sheet records work under way).
async fn create_row(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    file_name: &str,
    p: &Planned,
    prep: &Prepared,
) -> AppResult<i64> {
    let how = CreateIn {
        year: Some(prep.year),
        allow_past_deadline: true,
        number: prep.keep_number.clone(),
    };
    let id = create_matter_in(app, c, who, prep.input.clone(), &how).await?;
    let mut m = store_matters::get(c, id).await?;
    let day = today(app).to_string();
    let to = prep.status;
    m.status = to.as_str().to_owned();
    if to != MatterStatus::Draft {
        m.assigned_on = Some(day.clone());
    }
    if !matches!(to, MatterStatus::Assigned) {
        m.signed_on = Some(day.clone());
    }
    if matches!(to, MatterStatus::Completed | MatterStatus::Closed) {
        m.completed_on = Some(day.clone());
        m.progress = Some(100);
    }
    if to == MatterStatus::Closed {
        m.closed_on = Some(day.clone());
    }
    let progress = crate::ledger::bounded("progress", &prep.progress_text)?;
    if !progress.is_empty() {
        m.latest_progress = progress;
        m.last_update_on = Some(day);
    }
    m.updated_at = app.clock.now_ms();
    store_matters::save(c, &m).await?;
    let mut note = origin(file_name, &p.plan);
    if !prep.source.status_text.trim().is_empty() {
        note.push_str(&format!(
            "；原完成情况「{}」",
            prep.source.status_text.trim()
        ));
    }
    record_event(
        app,
        c,
        who,
        id,
        "import",
        Some(MatterStatus::Draft),
        Some(to),
        &note,
    )
    .await?;
    Ok(id)
}

/// Overwrite the ledger's fields of an imported matter; the status stays as the workflow left it.
#[allow(clippy::too_many_arguments)]
async fn update_row(
    app: &App,
    c: &mut Conn,
    who: &Caller,
    file_name: &str,
    p: &Planned,
    prep: &Prepared,
    id: i64,
) -> AppResult<()> {
    let mut m = store_matters::get(c, id).await?;
    let target = crate::ledger::target_of(c, &m).await?;
    who.require(Action::EditMatter, Some(&target))?;
    let input = &prep.input;
    m.content = crate::ledger::bounded("content", &input.content)?;
    m.source_category = input.source_category.clone();
    m.source_doc = crate::ledger::bounded("source_doc", &input.source_doc)?;
    m.lead_leader_id = input.lead_leader_id;
    m.lead_unit_id = input.lead_unit_id;
    match &input.deadline {
        DeadlineInput::Date(d) => {
            m.deadline_kind = "date".into();
            m.deadline = Some(d.clone());
        }
        _ => {
            m.deadline_kind = "none".into();
            m.deadline = None;
        }
    }
    m.deadline_workdays = None;
    m.feedback_cycle = input.feedback_cycle.clone();
    m.remarks = crate::ledger::bounded("remarks", &input.remarks)?;
    let progress = crate::ledger::bounded("progress", &prep.progress_text)?;
    if !progress.is_empty() && progress != m.latest_progress {
        m.latest_progress = progress;
        m.last_update_on = Some(today(app).to_string());
    }
    m.updated_at = app.clock.now_ms();
    store_matters::save(c, &m)
        .await
        .map_err(|_| AppError::Conflict("事项已被他人修改，请重新预检后再导入".into()))?;
    imports::clear_assisting_units(c, id).await?;
    for u in &input.assisting_unit_ids {
        store_matters::add_assisting_unit(c, id, *u).await?;
    }
    let mut pos = imports::clear_open_milestones(c, id).await?;
    let done: Vec<(String, String)> = store_ledger::list_milestones(c, id)
        .await?
        .into_iter()
        .map(|r| (r.title, r.due_on))
        .collect();
    for ms in &input.milestones {
        if done.contains(&(ms.title.clone(), ms.due_on.clone())) {
            continue;
        }
        pos += 1;
        store_ledger::insert_milestone(
            c,
            &MilestoneRow {
                id: 0,
                matter_id: id,
                position: pos,
                title: ms.title.clone(),
                due_on: ms.due_on.clone(),
                owner_id: None,
                done_on: None,
            },
        )
        .await?;
    }
    let note = format!(
        "{}；{}",
        origin(file_name, &p.plan),
        p.plan.notes.join("；")
    );
    let status = crate::ledger::status_of(&m)?;
    record_event(
        app,
        c,
        who,
        id,
        "import_update",
        Some(status),
        Some(status),
        &note,
    )
    .await?;
    audit::append(
        app,
        c,
        who,
        Event::ok(
            "matter.import_update",
            "matter",
            id,
            format!("number={} {note}", m.number),
        ),
    )
    .await?;
    Ok(())
}
