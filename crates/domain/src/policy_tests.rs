//! Tests for the access policy: the matrix by example, then properties over random trees.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn actor(roles: &[Role], unit: i64, subtree: &[i64]) -> Actor {
    Actor {
        person_id: 100,
        unit_id: unit,
        roles: roles.to_vec(),
        clearance: Label::Sensitive,
        subtree: subtree.iter().copied().collect(),
        led_units: BTreeSet::new(),
    }
}

fn matter(owner: i64, assisting: &[i64]) -> Target {
    Target {
        owner_unit: Some(owner),
        assisting_units: assisting.to_vec(),
        handler_ids: vec![],
        label: Label::Normal,
    }
}

fn allowed(a: &Actor, action: Action, t: Option<&Target>) -> bool {
    authorize(a, action, t).is_allowed()
}

#[test]
fn role_codes_round_trip_and_have_chinese_names() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.code()), Some(role));
        assert!(!role.label_zh().is_empty());
    }
    assert_eq!(Role::parse("root"), None);
    for label in Label::ALL {
        assert_eq!(Label::parse(label.code()), Some(label));
    }
    assert!(Label::Normal < Label::Sensitive && Label::Sensitive < Label::Core);
}

#[test]
fn two_admin_roles_on_one_account_are_refused() {
    assert_eq!(
        check_role_combination(&[Role::SysAdmin, Role::AuditAdmin]),
        Err(PolicyError::AdminRolesCombined(
            Role::SysAdmin,
            Role::AuditAdmin
        ))
    );
    assert!(check_role_combination(&[Role::SecAdmin, Role::SysAdmin, Role::AuditAdmin]).is_err());
    assert!(check_role_combination(&[Role::SysAdmin, Role::SysAdmin]).is_ok());
}

#[test]
fn an_admin_role_with_a_business_role_is_refused() {
    assert!(matches!(
        check_role_combination(&[Role::SecAdmin, Role::Supervisor]),
        Err(PolicyError::AdminWithBusinessRole(
            Role::SecAdmin,
            Role::Supervisor
        ))
    ));
    assert!(check_role_combination(&[Role::AuditAdmin, Role::Inspector]).is_err());
}

#[test]
fn the_inspector_role_is_held_alone_and_business_roles_combine() {
    assert!(check_role_combination(&[Role::Inspector, Role::Handler]).is_err());
    assert!(check_role_combination(&[Role::UnitHead, Role::Handler]).is_ok());
    assert!(check_role_combination(&[]).is_ok());
    assert!(
        PolicyError::AdminRolesCombined(Role::SysAdmin, Role::SecAdmin)
            .to_string()
            .contains("三权分立")
    );
}

#[test]
fn an_account_with_a_forbidden_combination_is_denied_everything() {
    let a = actor(&[Role::Supervisor, Role::SysAdmin], 1, &[1]);
    assert_eq!(
        authorize(&a, Action::ManagePeople, None),
        Decision::Deny(DenyReason::InvalidRoleCombination)
    );
    assert_eq!(list_scope(&a, Action::ListMatters), ListScope::Nothing);
}

#[test]
fn an_account_without_roles_is_denied() {
    let a = actor(&[], 1, &[1]);
    assert_eq!(
        authorize(&a, Action::ListMatters, None),
        Decision::Deny(DenyReason::NoRole)
    );
}

#[test]
fn the_audit_admin_reads_the_audit_trail_and_nothing_else() {
    let a = actor(&[Role::AuditAdmin], 1, &[1]);
    for action in Action::ALL {
        assert_eq!(
            allowed(&a, action, None),
            action == Action::ViewAuditTrail,
            "{action:?}"
        );
    }
}

#[test]
fn the_sys_admin_manages_people_but_cannot_read_the_audit_trail() {
    let a = actor(&[Role::SysAdmin], 1, &[1]);
    for action in [
        Action::ManagePeople,
        Action::ManageUnits,
        Action::ManageSettings,
        Action::ManageCalendar,
        Action::ManageTokens,
        Action::Backup,
    ] {
        assert!(allowed(&a, action, None), "{action:?}");
    }
    assert!(!allowed(&a, Action::ViewAuditTrail, None));
    assert!(!allowed(&a, Action::ManageGrants, None));
    assert!(!allowed(&a, Action::ViewMatter, Some(&matter(1, &[]))));
}

#[test]
fn only_the_sec_admin_manages_grants() {
    for role in Role::ALL {
        let a = actor(&[role], 1, &[1]);
        assert_eq!(
            allowed(&a, Action::ManageGrants, None),
            role == Role::SecAdmin,
            "{role:?}"
        );
    }
}

#[test]
fn the_inspector_reads_everything_and_writes_nothing() {
    let a = actor(&[Role::Inspector], 1, &[1]);
    let far = matter(99, &[]);
    assert!(allowed(&a, Action::ViewMatter, Some(&far)));
    assert!(allowed(&a, Action::ViewAuditTrail, None));
    assert!(allowed(&a, Action::ExportLedger, None));
    assert_eq!(list_scope(&a, Action::ListMatters), ListScope::All);
    assert_eq!(
        authorize(&a, Action::Urge, Some(&far)),
        Decision::Deny(DenyReason::NotPermitted)
    );
}

#[test]
fn a_supervisor_does_all_ledger_work_but_no_administration() {
    let a = actor(&[Role::Supervisor], 1, &[1]);
    let far = matter(99, &[]);
    for action in Action::ALL.into_iter().filter(|a| a.is_business()) {
        assert!(allowed(&a, action, Some(&far)), "{action:?}");
    }
    assert!(allowed(&a, Action::CloseYear, None));
    assert!(!allowed(&a, Action::ViewAuditTrail, None));
    assert!(!allowed(&a, Action::ManagePeople, None));
}

#[test]
fn a_dept_leader_decides_only_for_the_units_they_lead() {
    let mut a = actor(&[Role::DeptLeader], 1, &[1]);
    a.led_units = [5, 6].into();
    assert!(allowed(&a, Action::DecideExtension, Some(&matter(5, &[]))));
    assert_eq!(
        authorize(&a, Action::DecideExtension, Some(&matter(7, &[5]))),
        Decision::Deny(DenyReason::OutOfScope)
    );
    assert!(allowed(&a, Action::ViewMatter, Some(&matter(7, &[]))));
    assert!(allowed(&a, Action::ApproveWeeklySummary, None));
    assert!(!allowed(&a, Action::SignFor, Some(&matter(5, &[]))));
}

#[test]
fn a_unit_head_signs_for_lead_matters_of_the_subtree_only() {
    let a = actor(&[Role::UnitHead], 2, &[2, 3, 4]);
    assert!(allowed(&a, Action::SignFor, Some(&matter(3, &[]))));
    assert_eq!(
        authorize(&a, Action::SignFor, Some(&matter(9, &[3]))),
        Decision::Deny(DenyReason::OutOfScope)
    );
    // Assisting units may view and contribute progress.
    assert!(allowed(&a, Action::ViewMatter, Some(&matter(9, &[3]))));
    assert!(allowed(&a, Action::ReportProgress, Some(&matter(9, &[3]))));
    assert!(!allowed(&a, Action::ViewMatter, Some(&matter(9, &[8]))));
    assert!(!allowed(&a, Action::ApproveMatter, Some(&matter(2, &[]))));
}

#[test]
fn a_handler_sees_own_unit_and_own_matters() {
    let mut a = actor(&[Role::Handler], 2, &[2, 3]);
    a.person_id = 7;
    assert!(allowed(&a, Action::ViewMatter, Some(&matter(2, &[]))));
    assert!(allowed(&a, Action::ReportProgress, Some(&matter(9, &[2]))));
    assert!(
        !allowed(&a, Action::ViewMatter, Some(&matter(3, &[]))),
        "a handler's scope is the unit, not the subtree"
    );
    let mut mine = matter(9, &[]);
    mine.handler_ids = vec![7];
    assert!(allowed(&a, Action::ReportProgress, Some(&mine)));
    assert!(!allowed(&a, Action::SignFor, Some(&matter(2, &[]))));
    assert_eq!(
        list_scope(&a, Action::ListMatters),
        ListScope::Units(vec![2])
    );
}

#[test]
fn single_matter_actions_without_a_target_are_denied() {
    let a = actor(&[Role::Supervisor], 1, &[1]);
    assert_eq!(
        authorize(&a, Action::ViewMatter, None),
        Decision::Deny(DenyReason::TargetRequired)
    );
    let head = actor(&[Role::UnitHead], 2, &[2]);
    assert_eq!(
        authorize(&head, Action::EditWeeklySummary, None),
        Decision::Deny(DenyReason::TargetRequired)
    );
    assert!(allowed(&head, Action::ListMatters, None));
}

#[test]
fn a_label_above_clearance_is_denied_even_to_the_supervisor() {
    let a = actor(&[Role::Supervisor], 1, &[1]);
    let mut core = matter(1, &[]);
    core.label = Label::Core;
    assert_eq!(
        authorize(&a, Action::ViewMatter, Some(&core)),
        Decision::Deny(DenyReason::LabelAboveClearance)
    );
    assert_eq!(
        list_filter(&a, Action::ListMatters).max_label,
        Label::Sensitive
    );
}

// ---- Properties over random unit trees ----

/// A random tree: `parents[i]` is the parent of unit `i + 1`; unit 0 is the root.
fn tree() -> impl Strategy<Value = Vec<i64>> {
    (1usize..25).prop_flat_map(|n| (1..=n).map(|i| 0..i as i64).collect::<Vec<_>>())
}

fn subtree_of(parents: &[i64], unit: i64) -> BTreeSet<i64> {
    let mut set: BTreeSet<i64> = [unit].into();
    // Units are numbered so parents come first; one pass in order suffices.
    for (i, &p) in parents.iter().enumerate() {
        if set.contains(&p) {
            set.insert(i as i64 + 1);
        }
    }
    set
}

fn label() -> impl Strategy<Value = Label> {
    prop::sample::select(Label::ALL.to_vec())
}

fn roles() -> impl Strategy<Value = Vec<Role>> {
    prop::collection::vec(prop::sample::select(Role::ALL.to_vec()), 0..4)
}

prop_compose! {
    fn world()(parents in tree())(
        unit in 0..=parents.len() as i64,
        owner in prop::option::weighted(0.9, 0..=parents.len() as i64),
        assisting in prop::collection::vec(0..=parents.len() as i64, 0..3),
        led in prop::collection::vec(0..=parents.len() as i64, 0..3),
        handlers in prop::collection::vec(95i64..105, 0..3),
        roles in roles(),
        clearance in label(),
        target_label in label(),
        parents in Just(parents),
    ) -> (Actor, Target) {
        let actor = Actor {
            person_id: 100,
            unit_id: unit,
            roles,
            clearance,
            subtree: subtree_of(&parents, unit),
            led_units: led.into_iter().collect(),
        };
        let target = Target { owner_unit: owner, assisting_units: assisting, handler_ids: handlers, label: target_label };
        (actor, target)
    }
}

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_inspector_never_gets_a_write((mut a, t) in world(), action in action(), with_target: bool) {
        a.roles = vec![Role::Inspector];
        if action.is_write() {
            prop_assert!(!allowed(&a, action, with_target.then_some(&t)));
        }
    }

    #[test]
    fn no_admin_role_ever_gets_a_business_write((a, t) in world(), action in action(), with_target: bool) {
        if a.roles.iter().any(|r| r.is_admin_role()) && action.is_business() && action.is_write() {
            prop_assert!(!allowed(&a, action, with_target.then_some(&t)));
        }
    }

    #[test]
    fn a_label_above_clearance_is_always_denied((a, t) in world(), action in action()) {
        if t.label > a.clearance {
            prop_assert!(!allowed(&a, action, Some(&t)));
        }
    }

    #[test]
    fn invalid_role_combinations_get_nothing((a, t) in world(), action in action()) {
        if check_role_combination(&a.roles).is_err() {
            prop_assert_eq!(authorize(&a, action, Some(&t)), Decision::Deny(DenyReason::InvalidRoleCombination));
            prop_assert_eq!(list_scope(&a, action), ListScope::Nothing);
        }
    }

    #[test]
    fn a_unit_head_signs_for_exactly_the_lead_matters_inside_the_subtree(
        (mut a, t) in world(),
        role in prop::sample::select(vec![Role::UnitHead, Role::Liaison]),
    ) {
        a.roles = vec![role];
        let label_ok = t.label <= a.clearance;
        let lead_inside = t.owner_unit.is_some_and(|u| a.subtree.contains(&u));
        let any_inside = lead_inside || t.assisting_units.iter().any(|u| a.subtree.contains(u));
        prop_assert_eq!(allowed(&a, Action::SignFor, Some(&t)), label_ok && lead_inside);
        prop_assert_eq!(allowed(&a, Action::ViewMatter, Some(&t)), label_ok && any_inside);
        prop_assert_eq!(allowed(&a, Action::ReportProgress, Some(&t)), label_ok && any_inside);
    }

    #[test]
    fn list_scope_agrees_with_authorize_for_listing_actions(
        (a, t) in world(),
        action in prop::sample::select(vec![Action::ListMatters, Action::ViewReports, Action::ExportLedger]),
    ) {
        let filter = list_filter(&a, action);
        let listed = filter.scope.includes(&t) && t.label <= filter.max_label;
        prop_assert_eq!(allowed(&a, action, Some(&t)), listed, "{:?}", filter);
    }

    #[test]
    fn list_scope_never_hides_what_view_allows_through_unit_grants((a, t) in world()) {
        // ViewMatter's list scope covers every allowed matter except handler-only (`Own`) access.
        if allowed(&a, Action::ViewMatter, Some(&t)) && !t.handler_ids.contains(&a.person_id) {
            prop_assert!(list_scope(&a, Action::ViewMatter).includes(&t));
        }
    }
}
