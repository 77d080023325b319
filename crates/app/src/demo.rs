//! The demo organization: a provincial 组织部 with its 处室, 16 city and a few county 组织部, about
//! sixty people covering every role, and (with the ledger) about three hundred matters in every
//! state. The same usernames every time; one password for all of them.

use taizhang_domain::policy::Role;
use taizhang_store::Conn;
use taizhang_store::org::{self, NewUnit};
use taizhang_store::people::{self, NewPerson};

use crate::audit::{self, Event};
use crate::{App, AppError, AppResult, Caller};

/// The 处室 of the provincial department: (name, short name, demo head username, handler usernames).
pub const DIVISIONS: &[(&str, &str, &str, &[&str])] = &[
    ("办公室", "办公室", "bangong", &["bangong1"]),
    ("督查室", "督查室", "ducha", &["ducha2"]),
    ("研究室", "研究室", "yanjiu", &["yanjiu1"]),
    ("组织一处", "组织一处", "zuzhi1", &["zuzhi1a", "zuzhi1b"]),
    ("组织二处", "组织二处", "zuzhi2", &["zuzhi2a"]),
    (
        "干部一处",
        "干部一处",
        "chuzhang1",
        &["jingban1", "jingban1b"],
    ),
    ("干部二处", "干部二处", "chuzhang2", &["jingban2"]),
    (
        "干部教育处",
        "干部教育处",
        "jiaoyu",
        &["jiaoyu1", "jiaoyu2"],
    ),
    ("人才工作处", "人才处", "rencai", &["rencai1", "rencai2"]),
    ("干部监督处", "干部监督处", "jiandu", &["jiandu1"]),
    ("公务员管理处", "公务员处", "gongwuyuan", &["gongwuyuan1"]),
    ("机关党委", "机关党委", "jiguan", &["jiguan1", "jiguan2"]),
    ("信息中心", "信息中心", "xinxi", &[]),
    ("驻部纪检监察组", "纪检监察组", "jijian", &["jijian2"]),
];

/// The 16 cities of the province (Shandong), with the liaison's username.
pub const CITIES: &[(&str, &str)] = &[
    ("济南", "jinan"),
    ("青岛", "qingdao"),
    ("淄博", "zibo"),
    ("枣庄", "zaozhuang"),
    ("东营", "dongying"),
    ("烟台", "yantai"),
    ("潍坊", "weifang"),
    ("济宁", "jining"),
    ("泰安", "taian"),
    ("威海", "weihai"),
    ("日照", "rizhao"),
    ("临沂", "linyi"),
    ("德州", "dezhou"),
    ("聊城", "liaocheng"),
    ("滨州", "binzhou"),
    ("菏泽", "heze"),
];

/// A few county-level departments: (name, city, liaison username).
pub const COUNTIES: &[(&str, &str, &str)] = &[
    ("历下区委组织部", "济南", "lixia"),
    ("章丘区委组织部", "济南", "zhangqiu"),
    ("市南区委组织部", "青岛", "shinan"),
    ("黄岛区委组织部", "青岛", "huangdao"),
    ("寿光市委组织部", "潍坊", "shouguang"),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: &[&str] = &[
    "建国", "海燕", "志强", "秀英", "明", "静", "伟", "丽娟", "晓东", "红梅", "立新", "春华",
    "文博", "雪梅", "国栋", "婷", "浩然", "慧敏", "振华", "玉兰", "德胜", "晨曦", "思远", "桂芳",
];

/// What the demo loader created.
#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub units: usize,
    pub people: usize,
    pub matters: usize,
}

/// The demo logins documented in the README: (username, role in words).
pub const DEMO_LOGINS: &[(&str, &str)] = &[
    ("admin", "系统管理员"),
    ("anquan", "安全管理员"),
    ("shenji", "审计管理员"),
    ("buzhang", "部领导（部长）"),
    ("ducha", "督查专员（督查室）"),
    ("chuzhang1", "处室负责人（干部一处）"),
    ("jingban1", "经办人（干部一处）"),
    ("jijian", "纪检监察（只读）"),
    ("jinan", "下级单位联络员（济南市委组织部）"),
];

struct Loader {
    c: Conn,
    now: i64,
    hash: String,
    n: usize,
    people: usize,
}

impl Loader {
    fn next_name(&mut self) -> String {
        let i = self.n;
        self.n += 1;
        format!(
            "{}{}",
            SURNAMES[(i * 7) % SURNAMES.len()],
            GIVEN[(i * 11 + i / 3) % GIVEN.len()]
        )
    }

    async fn unit(
        &mut self,
        parent: Option<i64>,
        name: &str,
        short: &str,
        kind: &str,
        order: i64,
    ) -> AppResult<i64> {
        Ok(org::insert_unit(
            &mut self.c,
            &NewUnit {
                parent_id: parent,
                name,
                short_name: short,
                kind,
                sort_order: order,
            },
            self.now,
        )
        .await?)
    }

    async fn person(
        &mut self,
        username: &str,
        unit: i64,
        position: &str,
        roles: &[Role],
        name: Option<&str>,
    ) -> AppResult<i64> {
        let display = match name {
            Some(n) => n.to_owned(),
            None => self.next_name(),
        };
        let clearance = if roles
            .iter()
            .any(|r| matches!(r, Role::DeptLeader | Role::Inspector | Role::Supervisor))
        {
            "core"
        } else {
            "normal"
        };
        let id = people::insert_person(
            &mut self.c,
            &NewPerson {
                username,
                display_name: &display,
                unit_id: unit,
                position,
                email: "",
                clearance,
                password_hash: Some(&self.hash),
                must_change_password: false,
            },
            self.now,
        )
        .await?;
        for r in roles {
            people::grant_role(&mut self.c, id, r.code(), None, self.now).await?;
        }
        self.people += 1;
        Ok(id)
    }
}

/// Load the whole demo: organization, then matters.
pub async fn load(app: &App, password: &str) -> AppResult<DemoSummary> {
    let mut summary = load_org(app, password).await?;
    crate::ledger::calendar::seed_official(app, &Caller::system("demo")).await?;
    summary.matters = crate::ledger::demo::load_matters(app).await?;
    Ok(summary)
}

/// Load the demo organization into an empty database (no people yet). All demo accounts get
/// `password`. [`load`] adds the calendar and the matters ([`crate::ledger::demo`]).
pub async fn load_org(app: &App, password: &str) -> AppResult<DemoSummary> {
    let hash = crate::org::hash_blocking(password.to_owned()).await?;
    let mut c = app.store.begin().await?;
    if people::count_people(&mut c).await? > 0 || !org::list_units(&mut c).await?.is_empty() {
        return Err(AppError::Conflict(
            "数据库已有数据，演示数据只能装入空数据库".into(),
        ));
    }
    let now = app.clock.now_ms();
    let mut l = Loader {
        c,
        now,
        hash,
        n: 0,
        people: 0,
    };
    let root = l
        .unit(None, "省委组织部", "省委组织部", "department", 0)
        .await?;
    // Department leaders: 部长, 常务副部长, 副部长 ×3 (分管 some divisions each).
    let buzhang = l
        .person("buzhang", root, "部长", &[Role::DeptLeader], Some("王宇"))
        .await?;
    let mut leaders = vec![buzhang];
    for (i, (u, pos)) in [
        ("changwu", "常务副部长"),
        ("fubuzhang1", "副部长"),
        ("fubuzhang2", "副部长"),
        ("fubuzhang3", "副部长"),
    ]
    .iter()
    .enumerate()
    {
        let _ = i;
        leaders.push(l.person(u, root, pos, &[Role::DeptLeader], None).await?);
    }
    let mut units = 1usize;
    for (i, (name, short, head, handlers)) in DIVISIONS.iter().enumerate() {
        let order = i64::try_from(i).unwrap_or(0) + 1;
        let uid = l.unit(Some(root), name, short, "division", order).await?;
        units += 1;
        let leader = leaders[1 + i % (leaders.len() - 1)];
        org::set_leader(&mut l.c, uid, Some(leader), now).await?;
        let (head_roles, head_pos): (&[Role], &str) = match *name {
            "督查室" => (&[Role::Supervisor, Role::UnitHead], "主任"),
            "驻部纪检监察组" => (&[Role::Inspector], "组长"),
            "信息中心" => (&[Role::SysAdmin], "主任"),
            "机关党委" => (&[Role::UnitHead], "专职副书记"),
            _ => (&[Role::UnitHead], "处长"),
        };
        // The demo logins keep their documented roles; the 信息中心 head is `admin`.
        let head_user = if *name == "信息中心" {
            "admin"
        } else {
            head
        };
        l.person(head_user, uid, head_pos, head_roles, None).await?;
        for h in handlers.iter() {
            let roles: &[Role] = match *name {
                "督查室" => &[Role::Supervisor],
                "驻部纪检监察组" => &[Role::Inspector],
                _ => &[Role::Handler],
            };
            let pos = if *name == "驻部纪检监察组" {
                "干部"
            } else {
                "一级主任科员"
            };
            l.person(h, uid, pos, roles, None).await?;
        }
        if *name == "信息中心" {
            l.person("anquan", uid, "安全管理员", &[Role::SecAdmin], None)
                .await?;
            l.person("shenji", uid, "审计管理员", &[Role::AuditAdmin], None)
                .await?;
        }
    }
    let mut city_ids = Vec::new();
    for (i, (city, user)) in CITIES.iter().enumerate() {
        let name = format!("{city}市委组织部");
        let uid = l
            .unit(
                Some(root),
                &name,
                &format!("{city}市"),
                "lower_department",
                100 + i64::try_from(i).unwrap_or(0),
            )
            .await?;
        units += 1;
        l.person(user, uid, "联络员", &[Role::Liaison], None)
            .await?;
        city_ids.push((*city, uid));
    }
    for (i, (name, city, user)) in COUNTIES.iter().enumerate() {
        let parent = city_ids.iter().find(|(c, _)| c == city).map(|(_, id)| *id);
        let short = name.trim_end_matches("委组织部");
        let uid = l
            .unit(
                parent,
                name,
                short,
                "lower_department",
                200 + i64::try_from(i).unwrap_or(0),
            )
            .await?;
        units += 1;
        l.person(user, uid, "联络员", &[Role::Liaison], None)
            .await?;
    }
    let people = l.people;
    let who = Caller::system("demo");
    let mut c = l.c;
    audit::append(
        app,
        &mut c,
        &who,
        Event::ok(
            "demo.load_org",
            "database",
            "demo",
            format!("units={units} people={people}"),
        ),
    )
    .await?;
    c.commit().await?;
    Ok(DemoSummary {
        units,
        people,
        matters: 0,
    })
}
