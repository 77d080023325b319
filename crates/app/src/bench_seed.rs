//! `taizhang bench seed`: a realistic ledger at any size (10⁴–10⁷ matters) for benchmarks.
//!
//! The demo's unit tree, scaled (provincial 处室, 16 cities, as many county departments as needed
//! for about one person per 50 matters); matters spread over the current year with deadlines
//! around today (≈30 % closed, ≈30 % of the open ones overdue, 10 % without a fixed deadline),
//! 0–5 milestones each, progress reports on ≈20 % (1–5 each), some extensions and 督办单, Chinese
//! titles and text of realistic length. Deterministic for a given `--seed` and clock. Rows are
//! bulk-inserted (no per-row audit records: one audit record describes the whole seed).

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use taizhang_store::bulk::{self, Val};
use taizhang_store::org::{self, NewUnit};
use taizhang_store::people;

use crate::audit::{self, Event};
use crate::clock::start_of_day_ms;
use crate::{App, AppError, AppResult, Caller};

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub matters: u64,
    pub seed: u64,
    /// Password of the demo accounts (created when the database is empty).
    pub password: String,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SeedReport {
    pub units: u64,
    pub people: u64,
    pub matters: u64,
    pub milestones: u64,
    pub reports: u64,
    pub extensions: u64,
    pub notices: u64,
}

const VERBS: &[&str] = &[
    "推进",
    "落实",
    "完善",
    "健全",
    "深化",
    "加强",
    "开展",
    "组织",
    "研究制定",
    "统筹推进",
    "抓好",
    "做好",
];
const OBJECTS: &[&str] = &[
    "基层党组织标准化规范化建设",
    "年轻干部选拔培养",
    "干部教育培训规划",
    "高层次人才引进服务",
    "党员发展质量提升",
    "干部档案专项审核",
    "机关党建“三个表率”",
    "组工干部履职本领提升",
    "村党组织书记队伍建设",
    "选调生跟踪培养",
    "干部选拔任用工作监督",
    "人才政策兑现",
    "党代表联系服务群众",
    "领导班子运行情况分析",
    "软弱涣散党组织整顿",
    "公务员平时考核",
    "干部交流轮岗",
    "“四个联系”问题清单",
    "第一议题学习贯彻",
    "组织工作创新项目",
];
const SUFFIXES: &[&str] = &[
    "工作",
    "专项行动",
    "任务",
    "试点",
    "相关工作",
    "落实情况",
    "整改工作",
    "方案",
];
const CONTENT: &[&str] = &[
    "按照省委部署要求，细化任务分工，明确时间节点，确保按期完成。",
    "牵头单位要加强统筹协调，配合单位要主动对接，形成工作合力。",
    "每月5日前报送工作进展，遇有重大情况随时报告。",
    "坚持问题导向，聚焦薄弱环节，建立问题清单、任务清单、责任清单。",
    "及时总结经验做法，形成可复制可推广的制度成果。",
];
const PROGRESS: &[&str] = &[
    "已召开专题会议研究部署，制定工作方案，正在推进落实。",
    "已完成前期调研，形成初步报告，正在征求意见。",
    "按计划推进，已完成阶段性任务，下步将加快进度。",
    "受客观因素影响进度滞后，已制定补救措施。",
];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// Units to lead matters, with the people in each (as handlers).
struct Org {
    leads: Vec<i64>,
    people_of: BTreeMap<i64, Vec<i64>>,
    leaders: Vec<i64>,
    units: u64,
    people: u64,
}

async fn ensure_org(app: &App, opts: &SeedOptions) -> AppResult<Org> {
    {
        let mut c = app.store.read().await?;
        if people::count_people(&mut c).await? == 0 {
            drop(c);
            crate::demo::load_org(app, &opts.password).await?;
            crate::ledger::calendar::seed_official(app, &Caller::system("bench")).await?;
        }
    }
    let target_people = i64::try_from(opts.matters / 50).unwrap_or(i64::MAX).max(60);
    let mut c = app.store.begin().await?;
    let units = org::list_units(&mut c).await?;
    let cities: Vec<(i64, String)> = units
        .iter()
        .filter(|u| u.kind == "lower_department" && u.name.ends_with("市委组织部"))
        .map(|u| (u.id, u.name.clone()))
        .collect();
    let have = people::count_people(&mut c).await?;
    let now = app.clock.now_ms();
    if have < target_people && !cities.is_empty() {
        let hash = crate::org::hash_blocking(opts.password.clone()).await?;
        let extra_units = (target_people - have + 3) / 4;
        let mut next_person = bulk::max_id(&mut c, "people").await? + 1;
        let mut rows = Vec::new();
        let mut roles = Vec::new();
        for k in 0..extra_units {
            let (city_id, city) = &cities[usize::try_from(k).unwrap_or(0) % cities.len()];
            let n = k / i64::try_from(cities.len()).unwrap_or(1) + 1;
            let name = format!("{}第{}县区委组织部", city.trim_end_matches("市委组织部"), n);
            let uid = org::insert_unit(
                &mut c,
                &NewUnit {
                    parent_id: Some(*city_id),
                    name: &name,
                    short_name: &name,
                    kind: "lower_department",
                    sort_order: 1000 + k,
                },
                now,
            )
            .await?;
            for j in 0..4 {
                let role = if j == 0 { "liaison" } else { "handler" };
                rows.push(vec![
                    Val::Int(next_person),
                    Val::Text(format!("b{next_person}")),
                    Val::Text(format!("县区干部{next_person}")),
                    Val::Int(uid),
                    Val::Text(if j == 0 {
                        "联络员".into()
                    } else {
                        "科员".into()
                    }),
                    Val::Text(String::new()),
                    Val::Text("normal".into()),
                    Val::Text(hash.clone()),
                    Val::Int(now),
                    Val::Flag(false),
                    Val::Int(now),
                    Val::Int(now),
                ]);
                roles.push(vec![
                    Val::Int(next_person),
                    Val::Text(role.into()),
                    Val::NullInt,
                    Val::Int(now),
                ]);
                next_person += 1;
            }
        }
        let cols = [
            "id",
            "username",
            "display_name",
            "unit_id",
            "position",
            "email",
            "clearance",
            "password_hash",
            "password_changed_at",
            "must_change_password",
            "created_at",
            "updated_at",
        ];
        bulk::insert(&mut c, "people", &cols, &rows).await?;
        bulk::insert(
            &mut c,
            "person_roles",
            &["person_id", "role", "granted_by", "granted_at"],
            &roles,
        )
        .await?;
        bulk::reset_sequence(&mut c, "people").await?;
    }
    let units = org::list_units(&mut c).await?;
    let all_people = people::list_people(&mut c).await?;
    let roles = people::all_roles(&mut c).await?;
    c.commit().await?;
    let mut people_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for p in &all_people {
        people_of.entry(p.unit_id).or_default().push(p.id);
    }
    let leads = units
        .iter()
        .filter(|u| {
            u.parent_id.is_some()
                && !matches!(u.name.as_str(), "信息中心" | "驻部纪检监察组" | "督查室")
        })
        .map(|u| u.id)
        .collect();
    let leaders = roles
        .iter()
        .filter(|(_, r)| r == "dept_leader")
        .map(|(id, _)| *id)
        .collect();
    Ok(Org {
        leads,
        people_of,
        leaders,
        units: units.len() as u64,
        people: all_people.len() as u64,
    })
}

/// Fill the database. Call on an empty database or one holding only the demo organization.
pub async fn seed(app: &App, opts: &SeedOptions) -> AppResult<SeedReport> {
    if opts.matters == 0 || opts.matters > 20_000_000 {
        return Err(AppError::invalid(
            "matters",
            "matters_range",
            "事项数须为 1–20,000,000",
        ));
    }
    let org = ensure_org(app, opts).await?;
    let today = app.clock.today();
    let year = today.year();
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut report = SeedReport {
        units: org.units,
        people: org.people,
        ..Default::default()
    };
    let (
        mut next_matter,
        mut next_seq,
        mut next_ms,
        mut next_rep,
        mut next_ev,
        mut next_ext,
        mut next_notice,
    ) = {
        let mut c = app.store.read().await?;
        // Ids and per-year numbers both start past the largest id, so both stay unique.
        let first_matter = bulk::max_id(&mut c, "matters").await? + 1;
        (
            first_matter,
            first_matter,
            bulk::max_id(&mut c, "milestones").await? + 1,
            bulk::max_id(&mut c, "progress_reports").await? + 1,
            bulk::max_id(&mut c, "matter_events").await? + 1,
            bulk::max_id(&mut c, "extensions").await? + 1,
            bulk::max_id(&mut c, "notices").await? + 10_000,
        )
    };
    let jan1 = Date::new(year, 1, 1).map_err(|e| AppError::Internal(e.to_string()))?;
    let days_so_far = i64::from(today.day_of_year()) - 1;
    let batch = 20_000u64;
    let mut left = opts.matters;
    let mut c = app.store.begin().await?;
    bulk::loading_cache(&mut c).await?;
    c.commit().await?;
    // Into an empty ledger (the first matter gets id 1), the secondary indexes of the loaded
    // tables are built after the rows, one sorted pass each, instead of one B-tree insertion per
    // row (`matters` has ten).
    let dropped = if next_matter == 1 {
        drop_indexes(app).await?
    } else {
        Vec::new()
    };
    // The next batch is generated while the previous one is written (one write in flight).
    let mut pending: Option<tokio::task::JoinHandle<(Batch, AppResult<()>)>> = None;
    let loaded: AppResult<()> = async {
        while left > 0 {
            let n = left.min(batch);
            left -= n;
            let mut b = Batch::default();
            for _ in 0..n {
                let id = next_matter;
                next_matter += 1;
                let seq = next_seq;
                next_seq += 1;
                let lead = org.leads[rng.random_range(0..org.leads.len())];
                let staff = org.people_of.get(&lead).cloned().unwrap_or_default();
                let handler = staff.get(rng.random_range(0..staff.len().max(1))).copied();
                let leader = org
                    .leaders
                    .get(rng.random_range(0..org.leaders.len().max(1)))
                    .copied();
                let created = jan1 + rng.random_range(0..=days_so_far.max(0)).days();
                let closed = rng.random_bool(0.30);
                let no_deadline = rng.random_bool(0.10);
                let deadline = if no_deadline {
                    None
                } else if closed {
                    Some(created + rng.random_range(10..90).days())
                } else if rng.random_bool(0.30) {
                    Some(today - rng.random_range(1..60).days())
                } else {
                    Some(today + rng.random_range(0..90).days())
                };
                let status = if closed {
                    if rng.random_bool(0.6) {
                        "closed"
                    } else {
                        "completed"
                    }
                } else {
                    match rng.random_range(0..100) {
                        0..10 => "assigned",
                        10..15 => "extension_pending",
                        15..25 => "completion_pending",
                        _ => "in_progress",
                    }
                };
                let title = format!(
                    "{}{}{}",
                    pick(&mut rng, VERBS),
                    pick(&mut rng, OBJECTS),
                    pick(&mut rng, SUFFIXES)
                );
                let content = (0..rng.random_range(1..4))
                    .map(|_| pick(&mut rng, CONTENT))
                    .collect::<String>();
                let progress_text = if status == "assigned" {
                    String::new()
                } else {
                    pick(&mut rng, PROGRESS).to_owned()
                };
                let created_ms = start_of_day_ms(created) + 9 * 3_600_000;
                let ext = !closed && deadline.is_some() && rng.random_bool(0.05);
                let original = if ext {
                    deadline.map(|d| d - 20.days())
                } else {
                    deadline
                };
                b.matters.push(vec![
                    Val::Int(id),
                    Val::Int(i64::from(year)),
                    Val::Int(seq),
                    Val::Text(format!("督〔{year}〕{seq}号")),
                    Val::Text(title),
                    Val::Text(content),
                    Val::Text(
                        [
                            "superior_document",
                            "leader_instruction",
                            "meeting_decision",
                            "annual_key_work",
                        ][rng.random_range(0..4)]
                        .into(),
                    ),
                    leader.into(),
                    Val::Int(lead),
                    Val::Text(if no_deadline { "none" } else { "date" }.into()),
                    deadline.map(|d| d.to_string()).into(),
                    original.map(|d| d.to_string()).into(),
                    Val::Text(
                        ["normal", "normal", "normal", "urgent", "extra"][rng.random_range(0..5)]
                            .into(),
                    ),
                    Val::Flag(rng.random_bool(0.1)),
                    Val::Text(
                        if rng.random_bool(0.5) {
                            "weekly:5"
                        } else {
                            "monthly_day:5"
                        }
                        .into(),
                    ),
                    Val::Text(status.into()),
                    if status == "assigned" {
                        Val::NullInt
                    } else {
                        Val::Int(rng.random_range(0..=100))
                    },
                    Val::Text(progress_text),
                    Val::Text(created.to_string()),
                    if status == "assigned" {
                        Val::NullText
                    } else {
                        Val::Text(created.to_string())
                    },
                    if closed {
                        deadline.map(|d| d.to_string()).into()
                    } else {
                        Val::NullText
                    },
                    Val::Int(created_ms),
                    Val::Int(created_ms),
                    Val::Text(today.to_string()),
                ]);
                if let Some(h) = handler {
                    b.handlers.push(vec![Val::Int(id), Val::Int(h)]);
                }
                for (k, kind) in ["create", "approve"].iter().enumerate() {
                    b.events.push(vec![
                        Val::Int(next_ev),
                        Val::Int(id),
                        Val::Int(created_ms + k as i64),
                        Val::Text(created.to_string()),
                        Val::NullInt,
                        Val::Text((*kind).into()),
                    ]);
                    next_ev += 1;
                }
                let end = deadline.unwrap_or(created + 120.days());
                let span = i64::from((end - created).get_days().max(1));
                for pos in 0..rng.random_range(0..=5i64) {
                    let due = created + (span * (pos + 1) / 6).days();
                    let done = (closed || due < today) && rng.random_bool(0.7);
                    b.milestones.push(vec![
                        Val::Int(next_ms),
                        Val::Int(id),
                        Val::Int(pos + 1),
                        Val::Text(format!("第{}阶段任务", pos + 1)),
                        Val::Text(due.to_string()),
                        handler.into(),
                        if done {
                            Val::Text(due.to_string())
                        } else {
                            Val::NullText
                        },
                    ]);
                    next_ms += 1;
                }
                if status != "assigned" && rng.random_bool(0.20) {
                    for k in 0..rng.random_range(1..=5i64) {
                        let on = created + (k * 7 + 3).days();
                        if on > today {
                            break;
                        }
                        b.reports.push(vec![
                            Val::Int(next_rep),
                            Val::Int(id),
                            Val::Int(lead),
                            Val::Int(handler.unwrap_or(1)),
                            Val::Int(start_of_day_ms(on) + 36_000_000),
                            Val::Text(on.to_string()),
                            Val::Int((k + 1) * 15),
                            Val::Text(pick(&mut rng, PROGRESS).into()),
                            Val::Text("accepted".into()),
                        ]);
                        next_rep += 1;
                    }
                }
                if ext && let (Some(d), Some(o)) = (deadline, original) {
                    b.extensions.push(vec![
                        Val::Int(next_ext),
                        Val::Int(id),
                        Val::Int(handler.unwrap_or(1)),
                        Val::Text((o - 3.days()).to_string()),
                        Val::Text("工作量大，需延长时限".into()),
                        Val::Text(o.to_string()),
                        Val::Text(d.to_string()),
                        Val::Text("approved".into()),
                        Val::Text(d.to_string()),
                    ]);
                    next_ext += 1;
                }
                if !closed
                    && deadline.is_some_and(|d| d < today)
                    && rng.random_bool(0.10)
                    && let Some(signer) = leader
                {
                    let nseq = next_notice;
                    next_notice += 1;
                    b.notices.push(vec![
                        Val::Int(nseq),
                        Val::Int(id),
                        Val::Int(i64::from(year)),
                        Val::Int(nseq),
                        Val::Text(format!("督办〔{year}〕{nseq}号")),
                        Val::Text(["blue", "yellow", "red"][rng.random_range(0..3)].into()),
                        Val::Int(lead),
                        Val::Text("逾期未办结".into()),
                        Val::Text("请于限期内报送办理情况".into()),
                        Val::Text((today + 5.days()).to_string()),
                        Val::Int(signer),
                        Val::Text(today.to_string()),
                    ]);
                }
            }
            report.matters += b.matters.len() as u64;
            report.milestones += b.milestones.len() as u64;
            report.reports += b.reports.len() as u64;
            report.extensions += b.extensions.len() as u64;
            report.notices += b.notices.len() as u64;
            let written = match pending.take() {
                Some(h) => Some(joined(h.await)?),
                None => None,
            };
            let app2 = app.clone();
            pending = Some(tokio::spawn(async move {
                let r = b.write(&app2).await;
                (b, r)
            }));
            // The written batch's million small allocations are freed here, beside the next
            // write, not on the writer's thread.
            drop(written);
        }
        if let Some(h) = pending.take() {
            joined(h.await)?;
        }
        Ok(())
    }
    .await;
    // Indexes are made again even when the load failed half-way (the rows that made it stay).
    let restored = create_indexes(app, &dropped).await;
    loaded?;
    restored?;
    let mut c = app.store.begin().await?;
    for t in [
        "matters",
        "milestones",
        "progress_reports",
        "matter_events",
        "extensions",
        "notices",
    ] {
        bulk::reset_sequence(&mut c, t).await?;
    }
    audit::append(
        app,
        &mut c,
        &Caller::system("bench"),
        Event::ok("bench.seed", "database", "bench", format!("{report:?}")),
    )
    .await?;
    c.commit().await?;
    let mut c = app.store.begin().await?;
    bulk::analyze(&mut c).await?;
    c.commit().await?;
    let mut c = app.store.read().await?;
    bulk::vacuum_analyze(&mut c).await?;
    Ok(report)
}

/// Tables a seed fills in bulk; their secondary indexes are dropped for the load.
const LOADED: &[&str] = &[
    "matters",
    "matter_handlers",
    "matter_events",
    "milestones",
    "progress_reports",
];

/// Drop the secondary indexes of [`LOADED`]; their creating statements, to run afterwards.
async fn drop_indexes(app: &App) -> AppResult<Vec<String>> {
    let mut c = app.store.begin().await?;
    let mut creates = Vec::new();
    for t in LOADED {
        for (name, create) in bulk::secondary_indexes(&mut c, t).await? {
            bulk::drop_index(&mut c, &name).await?;
            creates.push(create);
        }
    }
    c.commit().await?;
    Ok(creates)
}

/// Create the indexes [`drop_indexes`] dropped.
async fn create_indexes(app: &App, creates: &[String]) -> AppResult<()> {
    if creates.is_empty() {
        return Ok(());
    }
    let mut c = app.store.begin().await?;
    for sql in creates {
        bulk::create_index(&mut c, sql).await?;
    }
    c.commit().await?;
    Ok(())
}

/// The outcome of a spawned batch write.
fn joined(r: Result<(Batch, AppResult<()>), tokio::task::JoinError>) -> AppResult<Batch> {
    let (b, r) = r.map_err(|e| AppError::Internal(format!("seed batch writer: {e}")))?;
    r.map(|()| b)
}

#[derive(Default)]
struct Batch {
    matters: Vec<Vec<Val>>,
    handlers: Vec<Vec<Val>>,
    events: Vec<Vec<Val>>,
    milestones: Vec<Vec<Val>>,
    reports: Vec<Vec<Val>>,
    extensions: Vec<Vec<Val>>,
    notices: Vec<Vec<Val>>,
}

impl Batch {
    async fn write(&self, app: &App) -> AppResult<()> {
        let mut c = app.store.begin_bulk().await?;
        bulk::insert(
            &mut c,
            "matters",
            &[
                "id",
                "year",
                "seq",
                "number",
                "title",
                "content",
                "source_category",
                "lead_leader_id",
                "lead_unit_id",
                "deadline_kind",
                "deadline",
                "original_deadline",
                "urgency",
                "major",
                "feedback_cycle",
                "status",
                "progress",
                "latest_progress",
                "assigned_on",
                "signed_on",
                "completed_on",
                "created_at",
                "updated_at",
                "last_update_on",
            ],
            &self.matters,
        )
        .await?;
        bulk::insert(
            &mut c,
            "matter_handlers",
            &["matter_id", "person_id"],
            &self.handlers,
        )
        .await?;
        bulk::insert(
            &mut c,
            "matter_events",
            &["id", "matter_id", "at_ms", "on_day", "actor_id", "kind"],
            &self.events,
        )
        .await?;
        bulk::insert(
            &mut c,
            "milestones",
            &[
                "id",
                "matter_id",
                "position",
                "title",
                "due_on",
                "owner_id",
                "done_on",
            ],
            &self.milestones,
        )
        .await?;
        bulk::insert(
            &mut c,
            "progress_reports",
            &[
                "id",
                "matter_id",
                "unit_id",
                "reporter_id",
                "submitted_at",
                "submitted_on",
                "progress",
                "body",
                "status",
            ],
            &self.reports,
        )
        .await?;
        bulk::insert(
            &mut c,
            "extensions",
            &[
                "id",
                "matter_id",
                "requested_by",
                "requested_on",
                "reason",
                "old_deadline",
                "proposed_deadline",
                "status",
                "new_deadline",
            ],
            &self.extensions,
        )
        .await?;
        bulk::insert(
            &mut c,
            "notices",
            &[
                "id",
                "matter_id",
                "year",
                "seq",
                "number",
                "color",
                "unit_id",
                "reason",
                "requirement",
                "due_on",
                "signer_id",
                "issued_on",
            ],
            &self.notices,
        )
        .await?;
        c.commit().await?;
        Ok(())
    }
}
