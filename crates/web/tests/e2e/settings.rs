//! The settings pages in the browser: 常用视图 on the ledger (督查专员), one's own 通知设置
//! (处室负责人), and as 系统管理员 the 预警阈值 per 任务来源 (once in English), 通知渠道 with
//! 发送测试, and the 投递记录. Every refused form is checked to keep what was typed.

use crate::harness::Run;

const VIEW: &str = "办理中事项";

/// ducha (logged in) saves the current ledger filters as a view, is refused a second view of
/// the same name, brings the filters back with one click and deletes the view.
pub async fn saved_views(r: &Run) {
    r.goto("/matters").await;
    assert!(r.text("#saved-views").await.contains("暂无"));
    r.select("#f-status", "in_progress").await;
    r.click_nav("form.filters button[type=submit]").await;
    r.fill("#save-view input[name=name]", VIEW).await;
    r.click_nav("#save-view button[type=submit]").await;
    assert_eq!(r.text("a.saved-view").await, VIEW);

    r.fill("#save-view input[name=name]", VIEW).await;
    r.click_nav_allowing("#save-view button[type=submit]", Some("status of 422"))
        .await;
    let err = r.text("#view-error").await;
    assert!(err.contains("已有名为「办理中事项」的视图"), "{err}");
    assert_eq!(
        r.value("#save-view input[name=name]").await,
        VIEW,
        "the typed name stays"
    );
    assert_eq!(r.value("#f-status").await, "in_progress");
    r.shot("28-saved-view-refused").await;

    r.goto("/matters").await;
    assert_eq!(r.value("#f-status").await, "");
    r.click_nav("a.saved-view").await;
    assert_eq!(r.value("#f-status").await, "in_progress");
    let at = r.c.current_url().await.unwrap();
    assert!(
        at.query().unwrap_or("").contains("status=in_progress"),
        "{at}"
    );
    r.shot("29-saved-view").await;
    r.click_nav("#saved-views form[action='/matters/views/delete'] button")
        .await;
    assert_eq!(r.count("a.saved-view").await, 0);
}

/// chuzhang1 (logged in) changes one event's e-mail and sets quiet hours: a quiet period that
/// starts when it ends is refused with the form as typed, then the fixed one is saved.
pub async fn my_notifications(r: &Run) {
    r.click_nav(".who a[href='/account/notifications']").await;
    assert_eq!(r.text("h1").await, "通知设置");
    let first = r
        .js("return document.querySelector('#prefs tbody tr').id.slice(5);")
        .await;
    let email = format!("#pref-{} input[value=email]", first.as_str().unwrap());
    let was = r.checked(&email).await;
    r.click(&email).await;
    if !r.checked("input[name=quiet_on]").await {
        r.click("input[name=quiet_on]").await;
    }
    r.set("#quiet_start", "22:00").await;
    r.set("#quiet_end", "22:00").await;
    r.click_nav_allowing("#prefs-save", Some("status of 422"))
        .await;
    assert!(r.text("#form-error").await.contains("不能相同"));
    assert_eq!(
        r.checked(&email).await,
        !was,
        "the e-mail choice stays as typed"
    );
    assert!(r.checked("input[name=quiet_on]").await);
    assert_eq!(r.value("#quiet_start").await, "22:00");
    r.shot("30-my-notifications-refused").await;
    r.set("#quiet_end", "07:30").await;
    r.click_nav("#prefs-save").await;
    assert_eq!(r.text("#flash").await, "通知设置已保存。");
    assert_eq!(r.checked(&email).await, !was);
    assert_eq!(r.value("#quiet_end").await, "07:30");
    assert!(r.text("main").await.contains("您已按个人需要调整过设置"));
    r.shot("31-my-notifications").await;
}

/// Whether the default row's three inputs stand left to right under their own headers.
async fn side_by_side(r: &Run) -> bool {
    let v = r
        .js("const x = n => document.querySelector(`input[name=default_${n}]`).getBoundingClientRect();
             const h = Array.from(document.querySelectorAll('#thresholds-form thead th')).map(t => t.getBoundingClientRect());
             const [n, y, red] = [x('n'), x('yellow'), x('red')];
             return n.right <= y.left && y.right <= red.left
               && n.left >= h[2].left && y.left >= h[3].left && red.left >= h[4].left;")
        .await;
    v == serde_json::Value::Bool(true)
}

/// admin: 预警阈值 (a refusal keeps the row; a category of its own; once in English).
pub async fn thresholds(r: &Run) {
    r.goto("/admin").await;
    r.click_nav("a[href='/admin/thresholds']").await;
    assert_eq!(r.text("h1").await, "预警阈值（红黄绿灯）");
    assert!(
        side_by_side(r).await,
        "the three numbers of a row sit in their three columns"
    );
    r.fill("input[name=default_yellow]", "40").await;
    r.fill("input[name=default_red]", "30").await;
    r.click_nav_allowing("#thresholds-submit", Some("status of 422"))
        .await;
    let err = r.text("#e-default_yellow").await;
    assert!(err.contains("须小于红灯滞后点数"), "{err}");
    assert_eq!(r.value("input[name=default_yellow]").await, "40");
    r.shot("32-thresholds-refused").await;
    assert!(side_by_side(r).await, "and still do with an error shown");
    r.fill("input[name=default_yellow]", "10").await;
    r.fill("input[name=default_red]", "20").await;
    r.click("input[name=leader_instruction_own]").await;
    r.fill("input[name=leader_instruction_n]", "5").await;
    r.fill("input[name=leader_instruction_yellow]", "8").await;
    r.fill("input[name=leader_instruction_red]", "15").await;
    r.click_nav("#thresholds-submit").await;
    assert!(r.text("#saved").await.starts_with("预警阈值已保存"));
    assert!(r.checked("input[name=leader_instruction_own]").await);
    assert_eq!(r.value("input[name=leader_instruction_n]").await, "5");
    r.shot("33-thresholds").await;

    // English once: the labels of this page are in the dictionary.
    r.click_nav("a.lang-switch").await;
    assert_eq!(
        r.text("h1").await,
        "Warning thresholds (red, yellow and green lights)"
    );
    assert_eq!(r.text("#thresholds-submit").await, "Save");
    let head = r.text("#thresholds-form thead").await;
    assert!(
        head.contains("Own values") && head.contains("Due-soon warning (working days)"),
        "{head}"
    );
    r.shot("34-thresholds-en").await;
    r.click_nav("a.lang-switch").await;
    assert_eq!(r.text("h1").await, "预警阈值（红黄绿灯）");
}

/// admin: 通知渠道 (an internal address refused with the address kept; a robot saved, tested,
/// stopped) and its 投递记录.
pub async fn channels_and_deliveries(r: &Run, unit: i64) {
    r.goto("/admin").await;
    r.click_nav("a[href='/admin/notify']").await;
    assert!(r.text("#targets").await.contains("尚未配置通知渠道"));
    let internal = "http://10.1.2.3/cgi-bin/webhook/send?key=e2e";
    r.select("#unit_id", &unit.to_string()).await;
    r.select("#kind", "wecom").await;
    r.fill("#address", internal).await;
    r.click_nav_allowing("#target-form button[type=submit]", Some("status of 422"))
        .await;
    assert!(r.text("#e-address").await.contains("内网私有"));
    assert_eq!(
        r.value("#address").await,
        internal,
        "the typed address stays"
    );
    assert_eq!(r.value("#unit_id").await, unit.to_string());
    r.shot("35-notify-refused").await;
    r.fill(
        "#address",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=e2e-robot-key-0001",
    )
    .await;
    r.click_nav("#target-form button[type=submit]").await;
    assert_eq!(r.text("#flash").await, "已保存。");
    let row = r.text("#targets tbody tr").await;
    for want in ["干部一处", "企业微信机器人", "启用"] {
        assert!(row.contains(want), "{want} not in {row}");
    }
    assert!(
        !row.contains("e2e-robot-key-0001"),
        "the key is never shown: {row}"
    );

    r.click_nav("[data-notify=test]").await;
    assert!(r.text("#flash").await.contains("测试消息已加入发送队列"));
    assert!(r.text("#targets .last-delivery").await.contains("待发送"));
    r.shot("36-notify").await;

    r.click_nav("#targets a[href^='/admin/notify/targets/']")
        .await;
    assert!(r.text("h1").await.starts_with("修改通知渠道"));
    r.click("#target-edit input[name=enabled]").await;
    r.shot("37-notify-target").await;
    r.click_nav("#target-edit button[type=submit]").await;
    assert!(r.text("#targets tbody tr").await.contains("已停用"));
    assert_eq!(r.count("[data-notify=test]").await, 0);

    r.click_nav("#targets a[href^='/admin/deliveries?target=']")
        .await;
    let log = r.text("#deliveries").await;
    assert!(log.contains("待发送") && log.contains("企业微信"), "{log}");
    r.shot("38-deliveries").await;
    r.select("#status", "sent").await;
    r.click_nav("#log-filter button[type=submit]").await;
    assert!(r.text("#deliveries").await.contains("没有投递记录"));
}
